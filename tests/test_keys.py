"""API keys: the real Secret Service through the installed command, the no-keyring and plaintext refusals,
the light `key get` path, mask() and normalize_key().

Integration tests here use the `secret_service` fixture (gnome-keyring on a private D-Bus session bus) and
read items back with libsecret's own `secret-tool`, independently of Python's keyring.
No key in this file is real: DeepSeek-shaped keys are assembled at runtime.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import RunDsconfig, keyring_backend
from secret_service import SecretService

from dsconfig import credentials
from dsconfig.credentials import KeyringStore, mask, normalize_key
from dsconfig.errors import EXIT_KEYRING, EXIT_NOT_FOUND, EXIT_USAGE, KeyringUnavailableError, UsageError
from dsconfig.profiles import ProfileStore

ODD_KEY = "sk-test-0123456789abcdefXYZ"  # does not match DeepSeek's shape
NAMES = ("ds", "work", "gone", "other")
FAIL_BACKEND = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
HEAVY = {"click", "httpx", "questionary", "prompt_toolkit", "tomlkit", "anthropic"}


def ds_key(n: int) -> str:
    """A key of DeepSeek's shape (sk- and 32 hex digits), built at runtime so no such literal is in the source."""
    return "sk-" + f"{n:08x}" * 4


@pytest.fixture
def ss(secret_service: SecretService) -> Iterator[SecretService]:
    """The real Secret Service with this file's profile names cleared before and after each test."""

    def clear() -> None:
        for name in NAMES:
            subprocess.run(["secret-tool", "clear", "service", "dsconfig", "username", name],
                           env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": secret_service.address},
                           capture_output=True, timeout=20, check=False)

    clear()
    yield secret_service
    clear()


@pytest.fixture
def dshome() -> Path:
    return Path(os.environ["DSCONFIG_HOME"])


def _files_containing(roots: list[Path], needle: bytes) -> list[Path]:
    hits = []
    for root in roots:
        for folder, _, files in os.walk(root):
            for name in files:
                path = Path(folder) / name
                if not path.is_symlink() and needle in path.read_bytes():
                    hits.append(path)
    return hits


def _add(run_dsconfig: RunDsconfig, name: str, key: str | None, *extra: str,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    args = ["profile", "add", name, "--provider", "deepseek", *extra]
    if key is not None:
        args.append("--api-key-stdin")
    return run_dsconfig(*args, input=key if key is not None else "", env=env)


# --- the real Secret Service ---------------------------------------------------------------------------------


def test_add_stores_the_key_in_the_secret_service_only(ss: SecretService, run_dsconfig: RunDsconfig, home: Path, dshome: Path, tmp_path: Path) -> None:
    key = ds_key(0xAB12CD34)
    proc = _add(run_dsconfig, "ds", key)
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr, "a key of the template's shape gets no warning"
    assert key not in proc.stdout + proc.stderr
    assert ss.lookup("ds") == key

    got = run_dsconfig("key", "get", "ds", input="")
    assert got.returncode == 0, got.stderr
    assert got.stdout == key + "\n"
    assert got.stderr == ""

    shown = run_dsconfig("profile", "show", "ds", "--json", input="")
    assert shown.returncode == 0, shown.stderr
    assert f'"key": "sk-\u2026{key[-4:]}"' in shown.stdout
    assert key not in shown.stdout and key[3:-4] not in shown.stdout

    assert (dshome / "profiles.toml").is_file()
    assert _files_containing([home, dshome, tmp_path], key.encode()) == []
    assert _files_containing([home, dshome, tmp_path], key[3:].encode()) == []


def test_pasted_whitespace_is_trimmed(ss: SecretService, run_dsconfig: RunDsconfig) -> None:
    key = ds_key(0x5EED0001)
    proc = _add(run_dsconfig, "ds", f"  {key}\r\n\n")
    assert proc.returncode == 0, proc.stderr
    assert ss.lookup("ds") == key


def test_a_key_of_another_shape_warns_masked_and_is_stored(ss: SecretService, run_dsconfig: RunDsconfig) -> None:
    proc = _add(run_dsconfig, "ds", ODD_KEY + "\n")
    assert proc.returncode == 0, proc.stderr
    assert "warning: " in proc.stderr and "does not look like a DeepSeek key" in proc.stderr
    assert mask(ODD_KEY) in proc.stderr
    assert ODD_KEY not in proc.stderr and ODD_KEY not in proc.stdout
    assert ss.lookup("ds") == ODD_KEY


def test_empty_key_on_stdin_is_refused_and_nothing_written(ss: SecretService, run_dsconfig: RunDsconfig, dshome: Path) -> None:
    proc = _add(run_dsconfig, "ds", " \n")
    assert proc.returncode == EXIT_USAGE
    assert proc.stderr.startswith("error: the API key is empty")
    assert ss.lookup("ds") is None
    assert not (dshome / "profiles.toml").exists()


def test_key_set_get_rm(ss: SecretService, run_dsconfig: RunDsconfig) -> None:
    assert _add(run_dsconfig, "ds", None).returncode == 0
    missing = run_dsconfig("key", "get", "ds", input="")
    assert missing.returncode == EXIT_NOT_FOUND
    assert missing.stdout == ""
    assert missing.stderr.startswith("error: no API key stored for profile 'ds'")
    assert "hint: " in missing.stderr and "dsconfig key set ds" in missing.stderr

    first, second = ds_key(0x11112222), ds_key(0x33334444)
    for key in (first, second):  # the second replaces the first
        proc = run_dsconfig("key", "set", "ds", "--stdin", input=key + "\n")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == ""
        assert mask(key) in proc.stderr and key not in proc.stderr
        assert ss.lookup("ds") == key
    assert run_dsconfig("key", "get", "ds", input="").stdout == second + "\n"

    proc = run_dsconfig("key", "rm", "ds", input="")
    assert proc.returncode == 0, proc.stderr
    assert ss.lookup("ds") is None
    again = run_dsconfig("key", "rm", "ds", input="")
    assert again.returncode == EXIT_NOT_FOUND
    assert again.stderr.startswith("error: ")


def test_key_set_for_a_missing_profile_is_not_found(ss: SecretService, run_dsconfig: RunDsconfig) -> None:
    proc = run_dsconfig("key", "set", "other", "--stdin", input=ds_key(0x1))
    assert proc.returncode == EXIT_NOT_FOUND
    assert proc.stderr.startswith("error: no profile named 'other'")
    assert ss.lookup("other") is None


def test_rename_and_rm_move_and_remove_the_keyring_item(ss: SecretService, run_dsconfig: RunDsconfig, dshome: Path) -> None:
    key = ds_key(0xFEED0042)
    assert _add(run_dsconfig, "ds", key).returncode == 0
    ProfileStore().set_active("ds")

    proc = run_dsconfig("profile", "rename", "ds", "work", input="")
    assert proc.returncode == 0, proc.stderr
    assert ss.lookup("ds") is None
    assert ss.lookup("work") == key
    found = ProfileStore().load()
    assert list(found.profiles) == ["work"] and found.active == "work"
    assert run_dsconfig("key", "get", "work", input="").stdout == key + "\n"

    proc = run_dsconfig("profile", "rm", "work", input="")
    assert proc.returncode == 0, proc.stderr
    assert "and its key" in proc.stderr
    assert ss.lookup("work") is None
    assert ProfileStore().load().profiles == {}
    assert key not in (dshome / "profiles.toml").read_text()


def test_key_get_refuses_a_broken_profiles_file_like_every_command(ss: SecretService, run_dsconfig: RunDsconfig,
                                                                   dshome: Path) -> None:
    # Outside tester (issue 16): answering from the keyring while profiles.toml could not be read gave a stale key
    # for a profile whose file named another source. `key get` now refuses what `env` and `profile show` refuse.
    key = ds_key(0xFA57FA57)
    assert _add(run_dsconfig, "ds", key).returncode == 0
    (dshome / "profiles.toml").write_text('schema_version = 1\n[profiles.ds]\nprovider = "deepseek"\nthis is [not toml\n')
    snippet = textwrap.dedent("""
        import sys
        from dsconfig.entry import main
        code = main(["key", "get", "ds"])
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY_SET)
        print("RC", code, "HEAVY", ",".join(heavy), "KEYRING", "keyring" in sys.modules, file=sys.stderr)
    """).replace("HEAVY_SET", repr(HEAVY))
    proc = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, env=dict(os.environ), timeout=60, check=False)
    assert proc.stdout == "" and key not in proc.stderr
    assert "profiles.toml:4:6: is not valid TOML" in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "RC 4 HEAVY  KEYRING False", proc.stderr
    for refused in ('schema_version = 2\n', 'schema_version = 1\n[profiles.ds]\nprovider = "deepseek"\ncolour = "red"\n',
                    'schema_version = 1\n[profiles."a b"]\nprovider = "deepseek"\n'):
        (dshome / "profiles.toml").write_text(refused)
        got = run_dsconfig("key", "get", "ds")
        assert got.returncode == 4 and got.stdout == "", (refused, got.stderr)
        assert run_dsconfig("env", "ds", "--shell", "bash").returncode == 4
    (dshome / "profiles.toml").write_text('schema_version = 1\n[profiles.other]\nprovider = "deepseek"\n')
    gone = run_dsconfig("key", "get", "ds")  # removed by hand: no key, though the keyring still holds one
    assert gone.returncode == 3 and "no profile named 'ds'" in gone.stderr and gone.stdout == ""


# --- no usable keyring ---------------------------------------------------------------------------------------


def test_no_keyring_profile_add_exits_5_and_writes_nothing(run_dsconfig: RunDsconfig, dshome: Path, tmp_path: Path) -> None:
    key = ds_key(0xDEAD0005)
    proc = _add(run_dsconfig, "ds", key, env=FAIL_BACKEND)
    assert proc.returncode == EXIT_KEYRING
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0] == "error: no OS keyring is available"
    assert lines[1].startswith("hint: ") and "gnome-keyring" in lines[1] and "dbus-run-session" in lines[1]
    assert "Traceback" not in proc.stderr
    assert not dshome.exists()
    assert _files_containing([tmp_path], key.encode()) == []


def test_no_keyring_key_get_and_set_exit_5(run_dsconfig: RunDsconfig, dshome: Path) -> None:
    assert _add(run_dsconfig, "ds", None, env=FAIL_BACKEND).returncode == 0  # a profile without a key needs no keyring
    before = (dshome / "profiles.toml").read_bytes()
    got = run_dsconfig("key", "get", "ds", input="", env=FAIL_BACKEND)
    assert got.returncode == EXIT_KEYRING
    assert got.stdout == ""
    assert got.stderr.startswith("error: no OS keyring is available\nhint: ")
    put = run_dsconfig("key", "set", "ds", "--stdin", input=ds_key(0x5), env=FAIL_BACKEND)
    assert put.returncode == EXIT_KEYRING
    assert (dshome / "profiles.toml").read_bytes() == before


def test_no_secret_service_on_a_headless_machine_exits_5(run_dsconfig: RunDsconfig) -> None:
    # No D-Bus session and no backend chosen: keyring's own auto-detection finds nothing usable. The profile
    # exists (a missing one is named as such instead, whatever the keyring).
    assert run_dsconfig("profile", "add", "ds", "--provider", "deepseek", input="").returncode == 0
    proc = run_dsconfig("key", "get", "ds", input="")
    assert proc.returncode == EXIT_KEYRING, proc.stderr
    assert proc.stdout == ""
    assert "keyring" in proc.stderr.splitlines()[0] and "\nhint: " in proc.stderr


PLAINTEXT_BACKEND = '''
import json, os
from pathlib import Path
from keyring.backend import KeyringBackend


class PlaintextKeyring(KeyringBackend):
    """What keyrings.alt's file backends amount to: keys in a readable file."""

    priority = 1

    def _file(self):
        return Path(os.environ["PLAINTEXT_KEYRING_FILE"])

    def _load(self):
        return json.loads(self._file().read_text()) if self._file().exists() else {}

    def get_password(self, service, username):
        return self._load().get(service + "/" + username)

    def set_password(self, service, username, password):
        data = self._load()
        data[service + "/" + username] = password
        self._file().write_text(json.dumps(data))

    def delete_password(self, service, username):
        data = self._load()
        data.pop(service + "/" + username, None)
        self._file().write_text(json.dumps(data))
'''


def test_a_plaintext_backend_is_refused(run_dsconfig: RunDsconfig, tmp_path: Path, dshome: Path) -> None:
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "plainkr.py").write_text(PLAINTEXT_BACKEND)
    plain_file = tmp_path / "home" / "plaintext-keys.json"
    env = {"PYTHON_KEYRING_BACKEND": "plainkr.PlaintextKeyring", "PYTHONPATH": str(modules),
           "PLAINTEXT_KEYRING_FILE": str(plain_file)}
    key = ds_key(0x9A1A7E47)
    proc = _add(run_dsconfig, "ds", key, env=env)
    assert proc.returncode == EXIT_KEYRING, proc.stderr
    assert "plainkr.PlaintextKeyring" in proc.stderr and "plain file" in proc.stderr
    assert "\nhint: " in proc.stderr
    assert not plain_file.exists()
    assert not (dshome / "profiles.toml").exists()
    assert _add(run_dsconfig, "ds", None, env=env).returncode == 0  # a profile without a key needs no keyring
    got = run_dsconfig("key", "get", "ds", input="", env=env)
    assert (got.returncode, got.stdout) == (EXIT_KEYRING, "")
    assert "plainkr.PlaintextKeyring" in got.stderr and not plain_file.exists()


def test_keyring_store_refuses_the_fail_backend_in_process() -> None:
    with pytest.raises(KeyringUnavailableError) as info:
        KeyringStore()._refuse_unsafe(keyring_backend("fail"))
    assert info.value.exit_code == EXIT_KEYRING
    store = KeyringStore(backend=keyring_backend("fail"))
    calls: list[Callable[[], object]] = [lambda: store.get("ds"), lambda: store.set("ds", ODD_KEY)]
    for call in calls:
        with pytest.raises(KeyringUnavailableError) as info:
            call()
        assert ODD_KEY not in str(info.value) and info.value.hint


def test_keyring_hint_covers_each_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "Keychain" in credentials.keyring_hint("darwin")
    assert "Credential Manager" in credentials.keyring_hint("win32")
    monkeypatch.setattr(credentials, "_osrelease", lambda: "6.1.0-generic")
    linux = credentials.keyring_hint("linux")
    assert "gnome-keyring" in linux and "dbus-run-session" in linux and "WSL" not in linux
    monkeypatch.setattr(credentials, "_osrelease", lambda: "5.15.167.4-microsoft-standard-WSL2")
    assert "WSL" in credentials.keyring_hint("linux")


# --- mask() and normalize_key() -------------------------------------------------------------------------------


def test_mask_of_a_deepseek_key() -> None:
    key = ds_key(0x0BADCAFE)
    assert mask(key) == f"sk-\u2026{key[-4:]}"
    assert key[3:-4] not in mask(key)


@pytest.mark.parametrize("key", ["a", "short", "sk-12345", "q" * 11])
def test_mask_reveals_nothing_of_a_short_key(key: str) -> None:
    shown = mask(key)
    assert not set(shown) & set(key), shown


def test_mask_of_nothing() -> None:
    assert mask(None) == mask("") == "(none)"


@pytest.mark.parametrize("key", ["abcdef-ghijk", "abcdef-ghijklmn"])
def test_mask_never_shows_most_of_a_key(key: str) -> None:
    revealed = len(mask(key).replace("\u2026", ""))
    assert revealed <= len(key) // 2, mask(key)


@pytest.mark.parametrize("raw, key", [
    (" sk-abc123 ", "sk-abc123"),
    ("sk-abc123\n", "sk-abc123"),
    ("\tsk-abc123\r\n\n", "sk-abc123"),
])
def test_normalize_key_trims_paste_whitespace(raw: str, key: str) -> None:
    assert normalize_key(raw) == key


@pytest.mark.parametrize("raw", ["", "   ", "\n", "sk-abc def", "sk-abc\tdef", "sk-abc\ndef", "sk-a\x00b", "sk-a\x1bb",
                                 "sk-one\nsk-two"])
def test_normalize_key_refusals(raw: str) -> None:
    with pytest.raises(UsageError) as info:
        normalize_key(raw)
    assert info.value.exit_code == EXIT_USAGE
    assert info.value.hint
    if raw.strip():
        assert raw.strip() not in str(info.value) + info.value.hint
