"""Part 1: kill `dsconfig use` / `off` / a switch at any moment; nothing the user owns is ever broken.

The machine (reliability_support.make_world): Claude Code settings with hooks and permissions, Claude Code's
own state file, a Claude Desktop config library holding the user's own entry, the MCP config; profiles `a`
and `b` (different URL, models and variables).

1. *Legitimate versions*: the bytes each file holds after any sequence of up to two uninterrupted commands
   from the original, plus random walks (in-process through the real CLI entry point; the installed command's
   uninterrupted results are checked to be among them).
2. *Every write boundary* (in-process, deterministic): for several transitions (install, switch, uninstall,
   project scope), the command dies just before and just after each atomic rename or removal it performs.
3. *Random SIGKILL* of the installed command in two parallel worlds. The delay adapts to each command's
   timeline so that many kills land while files are being changed (start-up imports are most of a run); a
   quarter of the delays are uniform over the whole run.

After every death: each file in the user's folders is valid JSON and either what it held before the command or
one of its legitimate versions; profiles.toml is valid TOML and legitimate; the journal loads; every backup is a
complete copy of an original. Regularly (and at the end of every boundary case), `off` at every scope and
target must bring back the original bytes of every file, with nothing left over.

After every recovery, the exact leftovers of the bugs fixed earlier (tests at the end of this file) must not
reappear (reliability_support.assert_fixed_bugs_stay_fixed).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from .reliability_support import (
    DSCONFIG,
    FOREIGN_ID,
    ORIGINAL_META,
    ORIGINAL_SETTINGS,
    ORIGINAL_STATE,
    TEMP_SUFFIX,
    World,
    add_profiles,
    assert_fixed_bugs_stay_fixed,
    make_world,
    no_traceback,
    normalise,
    run_killed_at,
    temp_files,
    toml_ok,
    user_tree,
)

COMMANDS: tuple[tuple[str, ...], ...] = (
    ("use", "a", "--target", "all"),
    ("use", "b", "--target", "all"),
    ("off", "--target", "all"),
    ("use", "a"),
    ("use", "b"),
    ("off",),
    ("use", "b", "--scope", "project"),
    ("off", "--scope", "project"),
)
RECOVER: tuple[tuple[str, ...], ...] = (("off", "--target", "all"), ("off", "--scope", "project"))
# (commands that prepare the state, the command that dies)
TRANSITIONS: tuple[tuple[tuple[tuple[str, ...], ...], tuple[str, ...]], ...] = (
    ((), ("use", "a", "--target", "all")),
    ((("use", "a", "--target", "all"),), ("use", "b", "--target", "all")),
    ((("use", "b", "--target", "all"),), ("off", "--target", "all")),
    ((), ("use", "b", "--scope", "project")),
    ((("use", "a"),), ("off",)),
)
SEED = int(os.environ.get("DSCONFIG_RELIABILITY_SEED", "20240611"))


def _rel(world: World, path: str) -> str:
    return os.path.relpath(path, world.root)


def tracked(world: World) -> dict[str, bytes | None]:
    """The user's files plus dsconfig's profiles file, relative to the world, world paths normalised."""
    out = {_rel(world, p): normalise(world, data) if data is not None else None
           for p, data in user_tree(world).items() if not p.endswith(TEMP_SUFFIX)}
    out["dsconfig-home/profiles.toml"] = world.profiles.read_bytes() if world.profiles.exists() else None
    return out


def without_profiles(state: dict[str, bytes | None]) -> dict[str, bytes | None]:
    return {k: v for k, v in state.items() if not k.endswith("profiles.toml") and v is not None}


class Legit:
    """Per file, every version an uninterrupted run can leave (None: the file is absent)."""

    def __init__(self) -> None:
        self.versions: dict[str, set[bytes | None]] = defaultdict(set)
        self.universe: set[str] = set()

    def add(self, state: dict[str, bytes | None]) -> None:
        self.universe |= set(state)
        for rel in self.universe:
            self.versions[rel].add(state.get(rel))

    def problems(self, now: dict[str, bytes | None], before: dict[str, bytes | None]) -> list[str]:
        found = []
        for rel in sorted(set(now) | set(before) | self.universe):
            data = now.get(rel)
            if data == before.get(rel) or data in self.versions.get(rel, set()):
                continue
            what = "absent" if data is None else f"{len(data)} bytes: {data[:200]!r}"
            found.append(f"{rel} is neither its version before the command nor a legitimate one ({what})")
        return found


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        yield


def fresh(base: World, root: Path) -> World:
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(base.root, root, symlinks=True)
    return World(root)


def explore(base: World, scratch: Path, rng: random.Random, walks: int) -> Legit:
    legit = Legit()
    sequences: list[tuple[tuple[str, ...], ...]] = [(c, d) for c in COMMANDS for d in COMMANDS]
    sequences += [tuple(rng.choice(COMMANDS) for _ in range(12)) for _ in range(walks)]
    for seq in sequences:
        world = fresh(base, scratch)
        legit.add(tracked(world))
        for command in seq:
            with quiet():
                code = world.cli(*command)
            assert code == 0, f"uninterrupted {' '.join(command)} failed ({code}) after {seq}"
            legit.add(tracked(world))
    shutil.rmtree(scratch)
    return legit


@dataclass
class Setup:
    base: World
    original: dict[str, bytes | None]
    originals: set[bytes]
    legit: Legit


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, slow: bool) -> Setup:
    root = tmp_path_factory.mktemp("crash")
    base = make_world(root / "base")
    add_profiles(base)
    original = tracked(base)
    legit = explore(base, root / "explore", random.Random(SEED), walks=40 if slow else 8)
    return Setup(base, original, {v for v in original.values() if v is not None}, legit)


# --- checks after every death -----------------------------------------------------------------------------------


def check_files(world: World, originals: set[bytes]) -> list[str]:
    """User JSON files parse, profiles.toml parses, the journal loads, every backup is a complete original."""
    problems = []
    for path, data in user_tree(world).items():
        if path.endswith(".json") and data is not None:
            try:
                json.loads(data.decode("utf-8"))
            except ValueError as exc:
                problems.append(f"{path} is not valid JSON: {exc}")
    if world.profiles.exists():
        try:
            toml_ok(world.profiles)
        except Exception as exc:  # noqa: BLE001 - any failure to parse is the finding
            problems.append(f"profiles.toml does not parse: {exc}")
    if world.journal.exists():
        try:
            from dsconfig.journal import Journal

            assert isinstance(json.loads(world.journal.read_bytes()).get("files"), dict)
            Journal(world.journal).load()
        except Exception as exc:  # noqa: BLE001
            problems.append(f"journal.json is broken: {exc!r}: {world.journal.read_bytes()[:300]!r}")
    backups = world.dsh / "state" / "backups"
    for backup in backups.iterdir() if backups.exists() else []:
        if not backup.name.endswith(TEMP_SUFFIX) and normalise(world, backup.read_bytes()) not in originals:
            problems.append(f"backup {backup.name} is not a complete copy of an original file")
    return problems


def compare_with_original(world: World, original: dict[str, bytes | None]) -> list[str]:
    now, want = without_profiles(tracked(world)), without_profiles(original)
    problems = [f"{rel} is not the original ({'absent' if now.get(rel) is None else repr((now.get(rel) or b'')[:200])})"
                for rel in sorted(set(now) | set(want)) if now.get(rel) != want.get(rel)]
    helpers = world.dsh / "state" / "helpers"
    problems += [f"helper {p.name} left behind" for p in helpers.iterdir()] if helpers.exists() else []
    return problems


# --- every write boundary, deterministic --------------------------------------------------------------------


class Died(BaseException):
    """Raised at a write boundary: unwinds like a death (no `except Exception` in dsconfig catches it)."""


@contextlib.contextmanager
def die_at(boundary: int | None, after: bool) -> Iterator[list[str]]:
    """Count the write boundaries (renames onto a file, removals of files and folders); die at one."""
    seen: list[str] = []
    real_replace, real_unlink, real_rmdir = os.replace, os.unlink, os.rmdir

    def boundary_call(real: Any, kind: str) -> Any:
        def call(path: Any, *args: Any, **kwargs: Any) -> Any:
            target = os.fspath(args[0] if kind == "replace" else path)
            if target.endswith(TEMP_SUFFIX):  # cleaning up its own temp file is not a boundary
                return real(path, *args, **kwargs)
            seen.append(f"{kind} {target}")
            hit = boundary is not None and len(seen) == boundary
            if hit and not after:
                raise Died(seen[-1])
            try:
                result = real(path, *args, **kwargs)
            except OSError:
                if hit:  # e.g. rmdir of a folder that is not empty: the death still comes after the attempt
                    raise Died(seen[-1]) from None
                raise
            if hit:
                raise Died(seen[-1])
            return result

        return call

    with mock.patch("os.replace", boundary_call(real_replace, "replace")), \
            mock.patch("os.unlink", boundary_call(real_unlink, "unlink")), \
            mock.patch("os.rmdir", boundary_call(real_rmdir, "rmdir")):
        yield seen


def test_death_at_every_write_boundary_leaves_old_or_new_and_off_restores(
    setup: Setup, tmp_path: Path, figures: Any, slow: bool
) -> None:
    problems: list[str] = []
    cases = 0
    scratch = tmp_path / "case"
    for prepare, command in TRANSITIONS:
        world = fresh(setup.base, scratch)
        with quiet():
            for step in prepare:
                assert world.cli(*step) == 0
        prepared = tmp_path / "prepared"
        if prepared.exists():
            shutil.rmtree(prepared)
        shutil.copytree(scratch, prepared, symlinks=True)
        prepared_world = World(prepared)
        with quiet(), die_at(None, False) as seen, world.activated():
            from dsconfig.entry import main

            assert main(list(command)) == 0
        boundaries = list(seen)
        assert boundaries, f"{command} wrote nothing"
        for k in range(1, len(boundaries) + 1):
            for after in (False, True):
                for finish_first in ((False, True) if slow else (False,)):
                    world = fresh(prepared_world, scratch)
                    before = tracked(world)
                    with quiet(), die_at(k, after), world.activated():
                        from dsconfig.entry import main

                        with pytest.raises(Died):
                            main(list(command))
                    where = f"death {'after' if after else 'before'} boundary {k}/{len(boundaries)} " \
                            f"({boundaries[k - 1].replace(str(world.root), '')}) of `{' '.join(command)}`"
                    found = setup.legit.problems(tracked(world), before) + check_files(world, setup.originals)
                    problems += [f"{where}: {p}" for p in found]
                    with quiet():
                        if finish_first:
                            code = world.cli(*command)
                            if code != 0:
                                problems.append(f"{where}: running it again failed ({code})")
                        for step in RECOVER:
                            code = world.cli(*step)
                            if code != 0:
                                problems.append(f"{where}, then `{' '.join(step)}`: exit {code}")
                    assert_fixed_bugs_stay_fixed(world)
                    problems += [f"{where}, then off: {p}" for p in compare_with_original(world, setup.original)]
                    cases += 1
    figures.add("crash_points", cases)
    print(f"{cases} deaths at write boundaries")
    assert not problems, "\n".join(problems[:20])


# --- random SIGKILL of the installed command ----------------------------------------------------------------


@dataclass
class Timeline:
    """Per command: its duration, and an adaptive estimate of when it starts changing files."""

    full: dict[tuple[str, ...], float]
    estimate: dict[tuple[str, ...], float] = field(default_factory=dict)

    def delay(self, command: tuple[str, ...], rng: random.Random) -> float:
        total = self.full[command]
        if rng.random() < 0.25:
            return rng.uniform(0.0, total)
        est = self.estimate.setdefault(command, total)
        return max(0.0, est + rng.uniform(-0.03, 0.03))

    def learn(self, command: tuple[str, ...], changed_anything: bool) -> None:
        # Nothing changed yet: too early, kill later next time; changed or finished: earlier. The estimate
        # settles on the moment the command starts writing, where half the kills catch it mid-way.
        # Not capped at the measured duration: runs are slower while the other world runs too.
        est = self.estimate.setdefault(command, self.full[command])
        step = 0.01
        self.estimate[command] = min(3 * self.full[command], est + step) if not changed_anything else max(0.0, est - step)


@dataclass
class Tally:
    kills: int = 0
    mid_write: int = 0
    completed: int = 0
    recoveries: int = 0
    stray_user: int = 0
    stray_after_run: set[str] = field(default_factory=set)  # distinct leftovers seen after a completed run
    stray_own: int = 0
    problems: list[str] = field(default_factory=list)


def recover(world: World, setup: Setup, tally: Tally, context: str) -> None:
    for command in RECOVER:
        proc = world.run(*command, timeout=120)
        no_traceback(proc)
        if proc.returncode != 0:
            tally.problems.append(f"{context}: `dsconfig {' '.join(command)}` failed ({proc.returncode}): {proc.stderr[-800:]}")
            return
    assert_fixed_bugs_stay_fixed(world)
    leftover = temp_files(*world.user_roots())
    tally.stray_after_run |= {str(p) for p in leftover}
    own = temp_files(world.dsh)
    tally.stray_own += len(own)
    for path in leftover + own:  # counted (summary); removed so one leftover is not counted again and again
        path.unlink()
    tally.problems += [f"{context}, then off: {p}" for p in compare_with_original(world, setup.original)]
    tally.recoveries += 1


def watched_folders(world: World) -> list[Path]:
    return [world.dsh, world.dsh / "state", world.dsh / "state" / "backups", world.dsh / "state" / "helpers",
            world.home, world.settings.parent, world.library, world.data_3p, world.app_configs[0].parent,
            world.local.parent]


def _stamps(folders: list[Path]) -> list[int | None]:
    out: list[int | None] = []
    for folder in folders:
        try:
            out.append(folder.stat().st_mtime_ns)
        except OSError:
            out.append(None)
    return out


def wait_for_first_write(world: World, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> bool:
    """Poll the folders dsconfig writes in (a temp file or a rename changes the folder's mtime) until one
    changes (True) or the process ends (False)."""
    folders = watched_folders(world)
    first = _stamps(folders)
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        if _stamps(folders) != first:
            return True
        time.sleep(0.0005)  # poll interval: the folder mtime is the event, sampled finely to kill close to it
    return False


def kill_loop(world: World, setup: Setup, timeline: Timeline, kills_wanted: int, seed: int, deadline: float,
              lock: threading.Lock) -> Tally:
    rng = random.Random(seed)
    tally = Tally()
    known_strays: set[Path] = set()
    since_recovery = 0
    previous: tuple[str, ...] | None = None
    while tally.kills < kills_wanted and time.monotonic() < deadline and len(tally.problems) < 5:
        # The same command again after it finished (or died before writing) would change nothing: pick another.
        command = rng.choice([c for c in COMMANDS if c != previous])
        before = tracked(world)
        journal_before = world.journal.read_bytes() if world.journal.exists() else None
        proc = subprocess.Popen([*DSCONFIG, *command], env=world.env, cwd=world.proj, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        triggered = rng.random() < 0.4
        if triggered:
            # Kill a random few milliseconds after the first sign of writing (a folder's mtime changed).
            started = time.monotonic()
            extra = rng.uniform(0.0, 0.05) if wait_for_first_write(world, proc) else 0.0
            time.sleep(extra)  # the random moment of the kill is what this test varies, not a wait for an event
            delay = time.monotonic() - started
        else:
            delay = timeline.delay(command, rng)
            time.sleep(delay)  # likewise: a random point of the command's measured run time
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
        killed = proc.returncode == -signal.SIGKILL
        now = tracked(world)
        journal_now = world.journal.read_bytes() if world.journal.exists() else None
        context = f"after {f'SIGKILL at {delay:.3f}s of' if killed else 'completed'} `dsconfig {' '.join(command)}`"
        problems = setup.legit.problems(now, before) + check_files(world, setup.originals)
        tally.problems += [f"{context}: {p}" for p in problems]
        strays = set(temp_files(*world.user_roots()))
        changed = now != before or journal_now != journal_before
        if not triggered:
            with lock:
                timeline.learn(command, changed or not killed)
        if killed:
            tally.kills += 1
            tally.mid_write += changed
            tally.stray_user += len(strays - known_strays)
        else:
            tally.completed += 1
            stderr = err.decode("utf-8", "replace")
            assert_fixed_bugs_stay_fixed(world)
            if "Traceback" in stderr or proc.returncode != 0:
                tally.problems.append(f"{context}: exit {proc.returncode}: {stderr[-800:]}")
            tally.stray_after_run |= {str(p) for p in strays & known_strays}
        known_strays = strays
        assert_fixed_bugs_stay_fixed(world)
        previous = command if not (killed and changed) else None
        since_recovery += 1
        if since_recovery >= 5 and rng.random() < 0.25:
            recover(world, setup, tally, context)
            known_strays = set()
            since_recovery = 0
    recover(world, setup, tally, "at the end")
    return tally


def measure(world: World, legit: Legit) -> Timeline:
    """Each command once, uninterrupted, from the installed command: its duration, and a check that it writes
    what the in-process exploration found."""
    full: dict[tuple[str, ...], float] = {}
    for command in COMMANDS:
        start = time.monotonic()
        proc = world.run(*command, timeout=120)
        full[command] = time.monotonic() - start
        no_traceback(proc)
        assert proc.returncode == 0, proc.stderr
        unexplained = legit.problems(tracked(world), {})
        assert not unexplained, f"the installed command wrote what the in-process run did not: {unexplained}"
    return Timeline(full)


def test_sigkill_at_random_moments_never_breaks_a_file_and_off_still_restores(
    setup: Setup, tmp_path: Path, figures: Any, slow: bool
) -> None:
    kills_wanted = 2000 if slow else 200
    deadline = time.monotonic() + (4 * 3600.0 if slow else 75.0)
    workers = [fresh(setup.base, tmp_path / f"w{i}") for i in range(2)]
    timeline = measure(workers[0], setup.legit)
    workers[0] = fresh(setup.base, tmp_path / "w0")
    lock = threading.Lock()
    results: list[Tally] = [Tally() for _ in workers]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            results[i] = kill_loop(workers[i], setup, timeline, kills_wanted // len(workers), SEED + i, deadline, lock)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    total = Tally()
    for r in results:
        total.kills += r.kills
        total.mid_write += r.mid_write
        total.completed += r.completed
        total.recoveries += r.recoveries
        total.stray_user += r.stray_user
        total.stray_after_run |= r.stray_after_run
        total.stray_own += r.stray_own
        total.problems += r.problems
    figures.add("kills", total.kills)
    figures.add("kills_mid_write", total.mid_write)
    figures.add("recoveries", total.recoveries)
    figures.add("stray_temp_user", total.stray_user)
    figures.add("stray_temp_after_run", len(total.stray_after_run))
    figures.add("stray_temp_own", total.stray_own)
    print(f"kills={total.kills} mid-write={total.mid_write} completed={total.completed} recoveries={total.recoveries} "
          f"stray temp files={total.stray_user} (after a completed run: {len(total.stray_after_run)}; in dsconfig's "
          f"folder: {total.stray_own}) "
          f"full={ {' '.join(k): round(v, 3) for k, v in timeline.full.items()} } "
          f"estimates={ {' '.join(k): round(v, 3) for k, v in timeline.estimate.items()} }")
    assert not total.problems, "\n".join(total.problems[:20])
    assert total.kills >= min(kills_wanted, 100), f"only {total.kills} kills within the time budget"


# --- the bugs found earlier, reproduced deterministically (regression tests) ---------------------------------


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = make_world(tmp_path / "w")
    add_profiles(w)
    return w


def test_kill_right_after_the_state_file_is_written_then_off_restores_it(world: World) -> None:
    killed = run_killed_at(world, ".claude.json", "after", "use", "a")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert b"hasCompletedOnboarding" in world.state.read_bytes()
    off = world.run("off")
    assert off.returncode == 0, off.stderr
    assert world.state.read_bytes() == ORIGINAL_STATE


def test_kill_right_after_the_desktop_entry_is_written_then_off_and_use_work(world: World) -> None:
    from dsconfig.targets import claude_desktop as cd

    entry = world.library / f"{cd.entry_id('a')}.json"
    killed = run_killed_at(world, entry.name, "after", "use", "a", "--target", "claude-desktop")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert entry.exists()
    off = world.run("off", "--target", "claude-desktop")
    assert off.returncode == 0, off.stderr
    again = world.run("use", "a", "--target", "claude-desktop")
    assert again.returncode == 0, again.stderr  # before the fix: "exists and was not made by dsconfig", exit 4
    assert world.run("off", "--target", "claude-desktop").returncode == 0
    assert not entry.exists() and world.meta.read_bytes() == ORIGINAL_META


def test_next_run_removes_the_temp_file_a_kill_left(world: World) -> None:
    killed = run_killed_at(world, "settings.json", "before", "use", "a")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = temp_files(world.settings.parent)
    assert left, "the kill before the rename should leave the complete temp file"
    assert world.run("use", "b").returncode == 0
    assert temp_files(*world.user_roots()) == []


def test_next_run_removes_the_journal_temp_file_a_kill_left(world: World) -> None:
    killed = run_killed_at(world, "journal.json", "before", "use", "a")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert temp_files(world.journal.parent), "the kill before the rename should leave the journal's temp file"
    assert world.run("use", "b").returncode == 0
    assert temp_files(world.dsh) == []


def _interrupted(world: World) -> Any:
    proc = world.run("status", "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["interrupted_switch"]


@pytest.mark.parametrize("killed_after", [".claude.json", "entry"])
def test_a_plain_off_after_a_killed_use_all_keeps_the_marker_until_off_target_all(world: World, killed_after: str) -> None:
    """Killed between Claude Code and Claude Desktop (after Code's last file, or after Desktop's entry): the fix
    names `--target all`; a plain `off` (Claude Code only) does not clear the marker; `off --target all` puts
    every file back and does."""
    from dsconfig.targets import claude_desktop as cd

    name = f"{cd.entry_id('a')}.json" if killed_after == "entry" else killed_after
    killed = run_killed_at(world, name, "after", "use", "a", "--target", "all")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    cut = _interrupted(world)
    assert cut is not None and cut["targets"] == ["claude-code", "claude-desktop"], cut
    assert "dsconfig use a --target all" in cut["fix"] and "dsconfig off --target all" in cut["fix"], cut
    plain = world.run("off")
    assert plain.returncode == 0, plain.stderr
    assert "dsconfig off --target all" in plain.stderr, plain.stderr
    assert world.settings.read_bytes() == ORIGINAL_SETTINGS
    cut = _interrupted(world)
    assert cut is not None and "dsconfig off --target all" in cut["fix"], cut  # before the fix: None
    status = world.run("status")
    assert "dsconfig off --target all" in status.stdout + status.stderr
    every = world.run("off", "--target", "all")
    assert every.returncode == 0, every.stderr
    assert _interrupted(world) is None
    assert world.settings.read_bytes() == ORIGINAL_SETTINGS and world.state.read_bytes() == ORIGINAL_STATE
    assert world.meta.read_bytes() == ORIGINAL_META
    assert sorted(p.name for p in world.library.glob("*.json")) == sorted([f"{FOREIGN_ID}.json", world.meta.name])


def test_a_plain_use_after_a_killed_use_all_keeps_the_marker_until_use_target_all(world: World) -> None:
    killed = run_killed_at(world, ".claude.json", "after", "use", "b", "--target", "all")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    plain = world.run("use", "b")
    assert plain.returncode == 0, plain.stderr
    assert "dsconfig use b --target all" in plain.stderr, plain.stderr
    cut = _interrupted(world)
    assert cut is not None and "dsconfig use b --target all" in cut["fix"], cut  # before the fix: None
    every = world.run("use", "b", "--target", "all")
    assert every.returncode == 0, every.stderr
    assert _interrupted(world) is None
    assert world.run("off", "--target", "all").returncode == 0
    assert world.settings.read_bytes() == ORIGINAL_SETTINGS and world.meta.read_bytes() == ORIGINAL_META
