"""An outside tester's finding: `use --inline-key` tightens the settings file to 0600 (it then holds a key), and
`off` gave the bytes back but left the file at 0600. README: "the file's permission bits are kept". The bits the
file had are recorded at the first change, as the members' before-values are, and `off` puts them back, unless
someone changed them since (theirs) or a member kept by hand may still be a key.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from .reliability_support import World, make_world

KEY = "sk-test-00112233445566778899aabbccdd"  # cannot be a real key (not sk- + 32 hex)
PROFILES = """schema_version = 1

[profiles.a]
provider = "deepseek"
base_url = "http://127.0.0.1:18001/anthropic"
key_source = "env:H7_KEY"
"""


def _world(tmp_path: Path) -> World:
    world = make_world(tmp_path / "w", desktop=False)
    world.dsh.mkdir(mode=0o700, parents=True, exist_ok=True)
    world.profiles.write_text(PROFILES)
    world.profiles.chmod(0o600)
    world.extra_env["H7_KEY"] = KEY
    return world


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("through_link", [False, True])
def test_off_after_inline_key_puts_back_the_user_settings_mode(tmp_path: Path, through_link: bool) -> None:
    world = _world(tmp_path)
    real = world.settings
    if through_link:  # a dotfiles folder: the link stays a link, its target gets its bits back
        real = world.home / "dotfiles" / "settings.json"
        real.parent.mkdir()
        real.write_bytes(world.settings.read_bytes())
        world.settings.unlink()
        world.settings.symlink_to(real)
    original = real.read_bytes()
    real.chmod(0o644)
    assert world.cli("use", "a", "--inline-key") == 0
    assert _mode(real) == 0o600 and KEY in real.read_text()
    assert world.cli("off") == 0
    assert real.read_bytes() == original and _mode(real) == 0o644
    assert world.settings.is_symlink() == through_link


def test_off_puts_back_a_project_local_settings_mode(tmp_path: Path) -> None:
    world = _world(tmp_path)
    local = world.proj / ".claude" / "settings.local.json"
    local.parent.mkdir()
    local.write_text('{"x": 1}\n')
    local.chmod(0o664)
    assert world.cli("use", "a", "--inline-key", "--scope", "project") == 0
    assert _mode(local) == 0o600
    assert world.cli("off", "--scope", "project") == 0
    assert local.read_text() == '{"x": 1}\n' and _mode(local) == 0o664


def test_the_first_mode_is_kept_across_switches_and_a_changed_mode_stays(tmp_path: Path) -> None:
    world = _world(tmp_path)
    world.settings.chmod(0o644)
    assert world.cli("use", "a", "--inline-key") == 0
    assert world.cli("use", "a") == 0  # no key in the file any more, still dsconfig's 0600
    assert world.cli("use", "a", "--inline-key") == 0
    assert world.cli("off") == 0
    assert _mode(world.settings) == 0o644
    assert world.cli("use", "a", "--inline-key") == 0
    world.settings.chmod(0o640)  # the user's own decision since: theirs
    assert world.cli("off") == 0
    assert _mode(world.settings) == 0o640
