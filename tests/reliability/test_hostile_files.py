"""Issue #12, items 1, 3, 4, 6 and 7: files, folders and daemons that are not what they seem.

1. Non-regular files (a symlink loop, a FIFO, a link to /dev/zero) wherever dsconfig reads: every command that
   reads them ends at once, without a traceback, and those that need the file exit 4 naming it and what it is.
   (The full matrix of files x shapes for `use` is in test_bad_input.py.)
3. Root on a user's HOME (sudo keeping HOME): every file dsconfig replaces keeps its owner and group, every file
   and folder it creates there gets the folder's owner, and the user can still run dsconfig afterwards.
4. profiles.toml written by hand in other valid TOML forms: each edit either means exactly what was asked or is
   refused (exit 4, with the fix) writing nothing.
6. Locks: never in a shared folder (XDG_RUNTIME_DIR unset puts nothing in $TMPDIR); dsconfig's lock folder must
   be private; a planted link is not followed; a waiter that gives up names the holder's pid.
7. A stopped (not dead) Secret Service: `key get`, `env` and `use` end within the keyring timeout, exit 5.

Every dsconfig run here goes through the installed command under a time limit (a hang is a failure, not a
stuck test run) and, where a read could be unbounded, a memory limit.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bounded import returns_within

from .reliability_support import DSCONFIG, TRACEBACK, World, add_profiles, make_world

MB = 1024 * 1024


def toml_loads(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib.loads(text)


# Start-up of the installed command is most of this (about 0.3 s on a quiet machine); the bound catches a wait
# or an endless read, and stays loose for a loaded CI runner.
QUICK = 10.0
HUNG = 30.0  # a run still going after this long is hung


def _limit_memory() -> None:
    # Far above what dsconfig needs, far below what an endless read of /dev/zero would ask for.
    resource.setrlimit(resource.RLIMIT_AS, (2048 * MB, 2048 * MB))


def run(world: World, *args: str, env: dict[str, str] | None = None, input: str | None = None, cwd: Path | None = None,
        preexec: Any = _limit_memory, timeout: float = HUNG) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    try:
        proc = subprocess.run([*DSCONFIG, *args], check=False, capture_output=True, text=True, input=input,
                              stdin=None if input is not None else subprocess.DEVNULL, env={**world.env, **(env or {})},
                              cwd=cwd or world.proj, timeout=timeout, preexec_fn=preexec)
    except subprocess.TimeoutExpired:
        pytest.fail(f"dsconfig {' '.join(args)} still running after {timeout:.0f} s: it blocked")
    elapsed = time.monotonic() - started
    output = proc.stdout + proc.stderr
    assert TRACEBACK not in output and "MemoryError" not in output, f"dsconfig {' '.join(args)} crashed:\n{output[-2000:]}"
    return proc, elapsed


# --- 1: non-regular files ------------------------------------------------------------------------------------

SHAPES = ("symlink-loop", "fifo", "dev-zero")
WORDS = {"symlink-loop": "symlink loop", "fifo": "named pipe", "dev-zero": "character device"}


def lay_shape(path: Path, shape: str) -> None:
    if path.exists() or path.is_symlink():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    if shape == "symlink-loop":
        path.symlink_to(path.name + ".other")
        path.with_name(path.name + ".other").symlink_to(path.name)
    elif shape == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")


# (where, command, expectation): "refuse" = exit 4 naming the file and its shape; "report" = the file and its
# shape are shown (`status --json` gives each layer's error); "flag" = the file is shown as INVALID (text status);
# "survive" = ends quickly without a traceback.
PLACES: dict[str, Any] = {
    "settings.json": (lambda w: w.settings, [(("status",), "flag"), (("status", "--json"), "report"), (("doctor",), "survive"),
                                             (("use", "a"), "refuse"), (("detect",), "survive")]),
    ".claude.json": (lambda w: w.state, [(("status",), "survive"), (("doctor",), "survive"), (("use", "a"), "refuse")]),
    "profiles.toml": (lambda w: w.profiles, [(("env", "a"), "refuse"), (("profile", "list"), "refuse"),
                                             (("profile", "add", "z", "--provider", "deepseek"), "refuse"),
                                             (("status",), "survive"), (("doctor",), "survive")]),
    "template": (lambda w: w.dsh / "templates" / "mine.toml", [(("providers",), "survive"), (("env", "m"), "refuse")]),
    "settings.local.json": (lambda w: w.local, [(("status", "--json"), "report"), (("use", "a", "--scope", "project"), "refuse")]),
    "bashrc": (lambda w: w.home / ".bashrc", [(("doctor",), "survive")]),
    "npmrc": (lambda w: w.home / ".npmrc", [(("detect",), "survive"), (("doctor",), "survive")]),
    "journal": (lambda w: w.journal, [(("status",), "survive"), (("off",), "refuse")]),
}


def hostile_world(tmp_path: Path) -> World:
    world = make_world(tmp_path / "w")
    add_profiles(world)
    with world.profiles.open("a") as handle:
        handle.write('\n[profiles.m]\nprovider = "mine"\n')
    (world.dsh / "templates").mkdir()
    (world.dsh / "templates" / "mine.toml").write_text(
        'schema_version = 1\nid = "mine"\nname = "Mine"\nbase_url = "https://gw.example.com/anthropic"\nauth = "bearer"\n')
    return world


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("place", list(PLACES))
def test_a_non_regular_file_anywhere_dsconfig_reads_never_hangs_nor_crashes(tmp_path: Path, place: str, shape: str,
                                                                          figures: Any) -> None:
    world = hostile_world(tmp_path)
    where, commands = PLACES[place]
    path = where(world)
    if place == "journal":  # a journal exists once `use` has run
        proc, _ = run(world, "use", "a")
        assert proc.returncode == 0, proc.stderr
    lay_shape(path, shape)
    slowest = 0.0
    for command, expect in commands:
        proc, elapsed = run(world, *command, timeout=QUICK)  # a command blocked on the file fails, naming it
        slowest = max(slowest, elapsed)
        figures.add("bad_inputs")
        figures.add("bad_inputs_cli")
        said = proc.stdout + proc.stderr
        if expect == "refuse":
            assert proc.returncode == 4, f"{command}: exit {proc.returncode}, expected 4: {proc.stderr[-800:]}"
            assert str(path) in proc.stderr and WORDS[shape] in proc.stderr and "hint:" in proc.stderr, proc.stderr
        elif expect in ("report", "flag"):
            word = WORDS[shape] if expect == "report" else "INVALID"
            assert str(path) in said and word in said, f"{command} does not show what {path} is:\n{said[-1500:]}"
    prefix = "non-regular files (status, doctor, env, ...): slowest command "
    for note in [n for n in figures.notes if n.startswith(prefix)]:  # one line for the whole run: the worst
        figures.notes.remove(note)
        slowest = max(slowest, float(note[len(prefix):].split(" ")[0]))
    figures.note(f"{prefix}{slowest:.2f} s")


def test_a_link_loop_in_place_of_claude_s_folder_is_named_not_a_traceback(tmp_path: Path) -> None:
    world = hostile_world(tmp_path)
    folder = world.settings.parent
    shutil.rmtree(folder)
    folder.symlink_to(".claude")  # ~/.claude -> ~/.claude
    for command in (("use", "a"), ("status",), ("doctor",), ("off",)):
        proc, _ = run(world, *command, timeout=QUICK)
        if command == ("use", "a"):
            assert proc.returncode == 4 and "symlink loop" in proc.stderr and str(world.settings) in proc.stderr, proc.stderr


# --- 3: root on a user's HOME ------------------------------------------------------------------------------------

USER = 12345  # needs no account: the kernel only stores the number


def owners(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            st = os.lstat(os.path.join(folder, name))
            out[os.path.join(folder, name)] = (st.st_uid, st.st_gid)
    return out


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A world outside pytest's root-only (0700) temp folder, so the user it belongs to can reach it."""
    root = Path(tempfile.mkdtemp(prefix="dsconfig-owners-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def as_user() -> Iterator[None]:
    """This process acting as the user (effective ids only, given back after the block). In-process: the user could
    not start this Python, which lives under root's 0700 home here; the code it needs is already imported."""
    os.setegid(USER)
    os.seteuid(USER)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root: only root can chown to another user")
def test_root_on_a_users_home_leaves_every_file_the_user_s(shared_tmp: Path) -> None:
    """`sudo -E dsconfig ...` (HOME kept): profile add, use and off over Claude Code (user and project scope) and
    Claude Desktop. Every file and folder under the user's HOME and project stays or becomes the user's, modes
    are kept, and the user, on their own, can read them and take dsconfig's locks."""
    world = make_world(shared_tmp / "w")
    world.extra_env["DSCONFIG_HOME"] = None  # dsconfig's own folders in the user's HOME, as with sudo -E
    for root in (world.home, world.proj):
        os.chown(root, USER, USER)
        for owned in owners(root):
            os.chown(owned, USER, USER, follow_symlinks=False)
    world.settings.chmod(0o600)
    world.state.chmod(0o640)
    for command in (("profile", "add", "a", "--provider", "deepseek"), ("use", "a", "--target", "all"),
                    ("use", "a", "--scope", "project")):
        proc, _ = run(world, *command)
        assert proc.returncode == 0, f"{command}: {proc.stderr}"
    rooted = {p: o for p, o in {**owners(world.home), **owners(world.proj)}.items() if o != (USER, USER)}
    assert not rooted, f"root left files the user does not own: {sorted(rooted)[:10]}"
    assert stat.S_IMODE(world.settings.stat().st_mode) == 0o600 and stat.S_IMODE(world.state.stat().st_mode) == 0o640
    assert "ANTHROPIC_BASE_URL" in world.settings.read_text()
    # The user, on their own, reads their files and takes the locks root took (dsconfig's folders are theirs).
    from dsconfig import fileio, paths

    with fileio.locked(shared_tmp / "warm-up", timeout=5):  # imports filelock while still root
        pass
    with world.activated(), as_user():
        for path in (world.settings, world.state, world.local, paths.journal_file(), paths.profiles_file()):
            assert path.read_bytes(), path
        for path in (world.settings, paths.journal_file(), paths.profiles_file()):
            with fileio.locked(path, timeout=5):
                pass
    proc, _ = run(world, "off", "--target", "all")
    assert proc.returncode == 0, proc.stderr
    proc, _ = run(world, "off", "--scope", "project")
    assert proc.returncode == 0, proc.stderr
    assert "ANTHROPIC_BASE_URL" not in world.settings.read_text()
    rooted = {p: o for p, o in {**owners(world.home), **owners(world.proj)}.items() if o != (USER, USER)}
    assert not rooted, sorted(rooted)[:10]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root: only root can chown to another user")
def test_a_replaced_file_keeps_a_group_and_owner_of_its_own(tmp_path: Path) -> None:
    """A file whose owner and group differ from its folder's keeps its own (the folder's are for new files)."""
    from dsconfig import fileio

    folder = tmp_path / "f"
    folder.mkdir()
    os.chown(folder, USER, USER)
    target = folder / "settings.json"
    target.write_text("{}\n")
    os.chown(target, USER + 1, USER + 2)
    target.chmod(0o640)
    fileio.atomic_write(target, b'{"a": 1}\n')
    st = target.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (USER + 1, USER + 2, 0o640)
    fileio.atomic_write(folder / "new.json", b"{}\n")
    fileio.ensure_dir(folder / "sub" / "deeper")
    assert {(p.stat().st_uid, p.stat().st_gid) for p in (folder / "new.json", folder / "sub", folder / "sub" / "deeper")} \
        == {(USER, USER)}


# --- 4: profiles.toml in other TOML forms ---------------------------------------------------------------------

FORMS = {
    "dotted-top-level": 'schema_version = 1\nprofiles.a.provider = "deepseek"\nprofiles.a.base_url = "https://a.example.com/anthropic"\n',
    "inline-table": 'schema_version = 1\nprofiles = { a = { provider = "deepseek", base_url = "https://a.example.com/anthropic" } }\n',
    "quoted-keys": 'schema_version = 1\n[profiles."a"]\n"provider" = "deepseek"\nbase_url = "https://a.example.com/anthropic"\n',
    "dotted-in-table": '"schema_version" = 1\n[profiles]\na.provider = "deepseek"\na.base_url = "https://a.example.com/anthropic"\n',
    "inline-models": ('schema_version = 1\n[profiles.a]\nprovider = "deepseek"\nbase_url = "https://a.example.com/anthropic"\n'
                      'models = { main = "m1" }\n'),
    "super-table": ('schema_version = 1\n[profiles]\n[profiles.a]\nprovider = "deepseek"\nbase_url = "https://a.example.com/anthropic"\n'
                    '[profiles.a.env]\nX = "1"\n'),
}
A = {"provider": "deepseek", "base_url": "https://a.example.com/anthropic"}
EXTRA = {"inline-models": {"models": {"main": "m1"}}, "super-table": {"env": {"X": "1"}}}
# (command, what profiles.toml must mean afterwards, given a's table before)
EDITS: dict[str, tuple[tuple[str, ...], Any]] = {
    "add": (("profile", "add", "z", "--provider", "deepseek", "--base-url", "https://z.example.com/anthropic"),
            lambda a: {"a": a, "z": {"provider": "deepseek", "base_url": "https://z.example.com/anthropic"}}),
    "edit-url": (("profile", "edit", "a", "--base-url", "https://b.example.com/anthropic"),
                 lambda a: {"a": {**a, "base_url": "https://b.example.com/anthropic"}}),
    "edit-model": (("profile", "edit", "a", "--model", "haiku=h1"),
                   lambda a: {"a": {**a, "models": {**a.get("models", {}), "haiku": "h1"}}}),
    "rm": (("profile", "rm", "a"), lambda a: {}),
    "rename": (("profile", "rename", "a", "b"), lambda a: {"b": a}),
    "use": (("use", "a"), lambda a: {"a": a}),
}


@pytest.mark.parametrize("edit", list(EDITS))
@pytest.mark.parametrize("form", list(FORMS))
def test_every_toml_form_of_profiles_is_edited_exactly_or_refused_untouched(tmp_path: Path, form: str, edit: str,
                                                                            figures: Any) -> None:
    world = make_world(tmp_path / "w", desktop=False)
    world.dsh.mkdir(mode=0o700)
    text = FORMS[form]
    world.profiles.write_text(text)
    command, meaning = EDITS[edit]
    before = {**A, **EXTRA.get(form, {})}
    assert toml_loads(text)["profiles"] == {"a": before}
    proc, _ = run(world, *command)
    figures.add("bad_inputs")
    figures.add("bad_inputs_cli")
    if proc.returncode == 0:
        doc = toml_loads(world.profiles.read_text())
        assert doc.get("profiles", {}) == meaning(before), (
            f"`{' '.join(command)}` on the {form} form changed the meaning of profiles.toml:\n{world.profiles.read_text()}")
        assert doc.get("active") == ("a" if edit == "use" else None)
        proc, _ = run(world, "profile", "list")
        assert proc.returncode == 0, proc.stderr
    else:
        assert proc.returncode == 4, f"exit {proc.returncode}: {proc.stderr}"
        assert str(world.profiles) in proc.stderr and "[profiles.NAME]" in proc.stderr, proc.stderr
        assert world.profiles.read_text() == text, "refused, yet wrote"
        figures.add("toml_forms_refused")
        prefix = "profiles.toml in other TOML forms: edits refused, file untouched (tomlkit cannot keep the meaning): "
        figures.notes[:] = [n for n in figures.notes if not n.startswith(prefix)]
        figures.note(f"{prefix}{figures.counts['toml_forms_refused']}")


def test_arrays_of_tables_are_refused_on_read_with_the_fix(tmp_path: Path) -> None:
    world = make_world(tmp_path / "w", desktop=False)
    world.dsh.mkdir(mode=0o700)
    text = 'schema_version = 1\n[[profiles]]\nprovider = "deepseek"\n'
    world.profiles.write_text(text)
    for command in (("profile", "add", "z", "--provider", "deepseek"), ("env", "z"), ("profile", "list")):
        proc, _ = run(world, *command)
        assert proc.returncode == 4 and "[profiles.NAME]" in proc.stderr, proc.stderr
    assert world.profiles.read_text() == text


# --- 6: locks -------------------------------------------------------------------------------------------------


def lock_folder(world: World) -> Path:
    return world.dsh / "state" / "locks"


def test_without_a_runtime_folder_no_lock_lands_in_the_shared_temp_folder(tmp_path: Path) -> None:
    world = make_world(tmp_path / "w", desktop=False)
    add_profiles(world)
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    shared.chmod(0o1777)  # as /tmp
    env = {"TMPDIR": str(shared)}
    world.extra_env["XDG_RUNTIME_DIR"] = None  # cron, containers, su, SSH without logind
    for command in (("use", "a"), ("off",), ("profile", "add", "z", "--provider", "deepseek")):
        proc, _ = run(world, *command, env=env)
        assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in shared.iterdir()) == [], "dsconfig left files in a world-writable folder"
    locks = lock_folder(world)
    assert stat.S_IMODE(locks.stat().st_mode) == 0o700 and stat.S_IMODE(locks.parent.stat().st_mode) == 0o700
    names = sorted(p.name for p in locks.iterdir())
    assert names and all(stat.S_IMODE((locks / n).stat().st_mode) == 0o600 for n in names)


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o1777])
def test_a_lock_folder_others_can_write_is_refused_clearly(tmp_path: Path, mode: int) -> None:
    world = make_world(tmp_path / "w", desktop=False)
    add_profiles(world)
    locks = lock_folder(world)
    locks.mkdir(parents=True)
    locks.chmod(mode)
    original = world.settings.read_bytes()
    for command in (("use", "a"), ("profile", "add", "z", "--provider", "deepseek")):
        proc, _ = run(world, *command)
        assert proc.returncode != 0 and str(locks) in proc.stderr and "chmod 700" in proc.stderr, proc.stderr
    assert world.settings.read_bytes() == original


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to act as two accounts")
def test_a_lock_folder_of_another_account_is_refused_for_a_plain_user(shared_tmp: Path) -> None:
    from dsconfig import fileio
    from dsconfig.fileio import WriteError

    state = shared_tmp / "dsconfig-home" / "state"
    (state / "locks").mkdir(parents=True, mode=0o700)
    os.chown(state.parent, USER, USER)
    for folder in (state, state / "locks"):  # dsconfig's state folder belongs to another account
        os.chown(folder, USER + 1, USER + 1)
    with fileio.locked(shared_tmp / "warm-up", timeout=5):  # imports filelock while still root
        pass
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DSCONFIG_HOME", str(state.parent))
        with as_user(), pytest.raises(WriteError) as info, fileio.locked(shared_tmp / "settings.json", timeout=1):
            pass
    assert "another account" in info.value.message and str(state / "locks") in info.value.message, info.value.message
    assert info.value.hint and "chown" in info.value.hint


def test_a_link_planted_at_a_lock_s_name_is_not_followed(tmp_path: Path) -> None:
    world = make_world(tmp_path / "w", desktop=False)
    add_profiles(world)
    locks = lock_folder(world)
    locks.mkdir(parents=True, mode=0o700)
    victim = tmp_path / "victim-file"
    name = hashlib.sha256(os.path.realpath(world.profiles).encode()).hexdigest()[:32] + ".lock"
    (locks / name).symlink_to(victim)
    proc, _ = run(world, "profile", "add", "z", "--provider", "deepseek")
    assert not victim.exists(), "dsconfig followed a link at a lock's name and created its target"
    assert proc.returncode != 0 and str(locks) in proc.stderr, proc.stderr


HOLD_LOCK = """
import sys, time
from pathlib import Path
from dsconfig import fileio
with fileio.locked(Path(sys.argv[1])):
    print("held", flush=True)  # the waiter reads this line: the lock is held from here on
    time.sleep(600)  # holds the lock until the test kills it (the behaviour under test), never a wait for an event
"""


def test_a_waiter_that_gives_up_names_the_holder(tmp_path: Path) -> None:
    from dsconfig import fileio
    from dsconfig.errors import DsconfigError

    target = tmp_path / "settings.json"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(target)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=dict(os.environ))
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held", holder.stderr
        def wait_for_the_lock() -> None:
            with fileio.locked(target, timeout=0.5):
                pass

        with pytest.raises(DsconfigError) as info:
            returns_within(10, "a lock waiter with a 0.5 s timeout", wait_for_the_lock)
        assert f"pid {holder.pid}" in info.value.message and str(target) in info.value.message
        assert info.value.hint and str(holder.pid) in info.value.hint
    finally:
        holder.kill()
        holder.wait()
    with fileio.locked(target, timeout=5):  # released by the kernel when its holder died
        pass


# --- 7: a stopped Secret Service ------------------------------------------------------------------------------


def secret_service_pid(address: str) -> int:
    """The pid of the process that owns org.freedesktop.secrets on the fixture's bus (the gnome-keyring daemon)."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    bus = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus")
    with open_dbus_connection(bus=address) as conn:
        reply = conn.send_and_get_reply(new_method_call(bus, "GetConnectionUnixProcessID", "s", ("org.freedesktop.secrets",)),
                                        timeout=10)
    (pid,) = reply.body
    return int(pid)


@contextlib.contextmanager
def stopped(pid: int) -> Iterator[None]:
    """SIGSTOP `pid` for the block; SIGCONT always, even when the block fails: the daemon is shared by the run."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


@pytest.mark.secret_service
def test_a_stopped_secret_service_makes_no_command_hang(secret_service: Any, tmp_path: Path, figures: Any) -> None:
    world = make_world(tmp_path / "w", desktop=False)
    world.extra_env["PYTHON_KEYRING_BACKEND"] = None  # the real Secret Service of the fixture
    key = "sk-test-stopped-0123456789abcdef"
    proc, _ = run(world, "profile", "add", "a", "--provider", "deepseek", "--api-key-stdin", input=key)
    assert proc.returncode == 0, proc.stderr
    proc, _ = run(world, "key", "get", "a")
    assert proc.returncode == 0 and proc.stdout.strip() == key, proc.stderr
    timeout = 2.0
    env = {"DSCONFIG_KEYRING_TIMEOUT": str(timeout)}
    slowest = 0.0
    with stopped(secret_service_pid(secret_service.address)):
        for command in (("key", "get", "a"), ("env", "a"), ("env", "a", "--shell", "fish"), ("use", "a"),
                        ("key", "set", "a", "--stdin")):
            # Bounded: a command that waited on the stopped service past its keyring timeout fails, naming it.
            proc, elapsed = run(world, *command, env=env, input=key if "set" in command else None, timeout=timeout + QUICK)
            slowest = max(slowest, elapsed)
            assert key not in proc.stdout + proc.stderr
            if command[0] != "use":
                assert proc.returncode == 5, f"{command}: exit {proc.returncode}: {proc.stderr}"
                assert f"did not answer within {timeout:g} s" in proc.stderr and "hint:" in proc.stderr, proc.stderr
    figures.note(f"stopped Secret Service: every command ended within {slowest:.1f} s (keyring timeout {timeout:g} s)")
    proc, _ = run(world, "key", "get", "a")  # resumed: served again
    assert proc.returncode == 0 and proc.stdout.strip() == key, proc.stderr


def test_the_keyring_timeout_bounds_any_backend() -> None:
    """A backend that never answers (the keyring package's own path, not the fast D-Bus lookup)."""
    import threading

    from dsconfig.credentials import KeyringStore
    from dsconfig.errors import KeyringUnavailableError

    never = threading.Event()

    class Hung:
        def get_password(self, *args: str) -> str | None:
            never.wait()
            return None

        set_password = delete_password = get_password

    store = KeyringStore(Hung(), environ={"DSCONFIG_KEYRING_TIMEOUT": "0.3"})
    try:
        for call in (lambda: store.get("a"), lambda: store.set("a", "k"), lambda: store.delete("a")):
            raised: list[BaseException] = []

            def attempt(call: Any = call, raised: list[BaseException] = raised) -> None:
                try:
                    call()
                except BaseException as exc:  # noqa: BLE001 - examined below
                    raised.append(exc)

            # In a thread of the test's own: a call that is not bounded must fail this test, not hang the run.
            runner = threading.Thread(target=attempt, daemon=True)
            runner.start()
            runner.join(5)  # bounded: the call's own 0.3 s limit must end it well before
            assert not runner.is_alive(), "a keyring call with no answer blocked its caller"
            assert raised and isinstance(raised[0], KeyringUnavailableError) and raised[0].exit_code == 5, raised
            assert "did not answer within 0.3 s" in raised[0].message
    finally:
        never.set()
