"""`dsconfig use` and `dsconfig off`: switch the chosen programs to a profile, or back, all or nothing.

Every registered target's plans are made first (each reads and validates the files it will write), so one
malformed or read-only file stops the command before anything is written; then dsconfig.apply applies them.
What the person must be told comes back as data (`SwitchResult.notices`); cli.py renders it.

Targets (`--target`, the ids of dsconfig.targets.REGISTRY, or `all`):

- `claude-code` (the default) and `claude-desktop` name one program.
- `all` is every registered target that is on this machine (its `present()`: Claude Code always; Desktop when
  installed or its configuration folders exist). One that is absent is skipped with a note rather than set up
  for an app that is not there. A target without the scope asked for is skipped too (Desktop has one
  configuration per user); naming it with that scope (`--target claude-desktop --scope project`) is a usage
  error. When the profile's provider cannot drive a target, `all` skips it with a warning (naming it
  explicitly fails instead). `off --target all` undoes every target dsconfig has changed, present or not.

The active profile (profiles.toml `active`) follows the user scope: set after a successful user-scope `use`,
cleared after an `off` that leaves nothing applied at user scope anywhere.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dsconfig import actions, apply, changes, notices, targets, vocab
from dsconfig.context import AppContext
from dsconfig.credentials import normalize_key
from dsconfig.errors import DsconfigError, KeyringUnavailableError, NotFoundError, UsageError
from dsconfig.notices import Notice
from dsconfig.profiles import Resolved
from dsconfig.switch_result import FileChange, SwitchJSON, SwitchResult, _files, summary
from dsconfig.targets.base import Planned, Target
from dsconfig.targets.context import TargetContext

__all__ = ["ALL", "CLAUDE_CODE", "CLAUDE_DESKTOP", "FileChange", "OffRequest", "SwitchJSON", "SwitchResult", "UseRequest",
           "inline_key_for", "run_off", "run_use", "summary"]

CLAUDE_CODE = vocab.TARGET_CLAUDE_CODE
CLAUDE_DESKTOP = vocab.TARGET_CLAUDE_DESKTOP
ALL = "all"
SCOPES = ("user", "project")


# --- choosing targets ---------------------------------------------------------------------------------------


def _check_target(target: str, scope: str) -> None:
    if target != ALL and targets.find(target) is None:
        raise UsageError(f"unknown target {target!r}", f"use --target {' | '.join((*targets.ids(), ALL))}")
    if scope not in SCOPES:
        raise UsageError(f"unknown scope {scope!r}", "use --scope user or --scope project")
    if target != ALL:
        chosen = targets.get(target)
        if scope not in chosen.scopes:
            why = "it has one configuration per user" if chosen.scopes == ("user",) else f"it has scopes {', '.join(chosen.scopes)}"
            other = next((t for t in targets.ids() if scope in targets.get(t).scopes), CLAUDE_CODE)
            raise UsageError(f"{chosen.label} has no {scope} scope: {why}", f"drop --scope {scope}, or use --target {other}")


def _targets_for_use(target: str, scope: str, resolved: Resolved, ctx: TargetContext) -> tuple[list[Target], list[Notice]]:
    """The targets to switch, and why any registered one is skipped under `all`."""
    _check_target(target, scope)
    if target != ALL:
        return [targets.get(target)], []
    chosen: list[Target] = []
    said: list[Notice] = []
    for candidate in targets.all_targets():
        if scope not in candidate.scopes:
            said.append(notices.note(f"{candidate.label} skipped: it has no {scope} scope"))
        elif not candidate.present(ctx):
            said.append(notices.note(f"{candidate.label} skipped: not found on this machine"))
        else:
            try:
                candidate.check_supported(resolved)
                chosen.append(candidate)
            except DsconfigError as err:
                said.append(notices.warning(f"{candidate.label} skipped: {err.message}"))
    return chosen, said


def _targets_for_off(target: str, scope: str) -> tuple[list[Target], list[Notice]]:
    _check_target(target, scope)
    if target != ALL:
        return [targets.get(target)], []
    chosen = [t for t in targets.all_targets() if scope in t.scopes]
    said = [notices.note(f"{t.label} skipped: it has no {scope} scope") for t in targets.all_targets() if t not in chosen]
    return chosen, said


# --- planning and applying ----------------------------------------------------------------------------------


def _planner(chosen: Sequence[Target], plan: Callable[[Target], Planned], owners: dict[Path, str],
             said: list[Notice]) -> Callable[[], list[changes.FilePlan]]:
    """A function making every target's plans; apply_all calls it again when a file changed meanwhile. `said`
    holds the notices of the latest planning."""

    def make() -> list[changes.FilePlan]:
        plans: list[changes.FilePlan] = []
        found: list[Notice] = []
        for target in chosen:
            planned = plan(target)
            for p in planned.files:
                owners.setdefault(p.path, target.id)
                plans.append(p)
            found += planned.notices
        said[:] = found
        return plans

    return make


def _modes(chosen: Sequence[Target], ctx: TargetContext, scope: str, profile: str, inline: bool) -> dict[Path, int]:
    modes: dict[Path, int] = {}
    for target in chosen:
        modes.update(target.file_modes(ctx, profile, scope=scope, inline_key=inline))
    return modes


@contextlib.contextmanager
def _switching(t: TargetContext, plans: Sequence[changes.FilePlan], command: str, profile: str | None, scope: str,
               chosen: Sequence[Target], said: list[Notice]) -> Iterator[Callable[[], bool]]:
    """Around the writes of one switch: Ctrl-C held (apply_all puts back what it switched when one arrives),
    and a marker in the journal that only a kill leaves behind, so the next command can say what happened.

    An earlier interrupted switch's marker is replaced (and cleared) only by a command covering all its targets
    at its scope; any other keeps it, so `status` still names the command that settles it."""
    interrupted_before = t.journal.switch() if t.journal.path.exists() else None
    covers = interrupted_before is None or interrupted_before.covered_by([c.id for c in chosen], scope)
    if interrupted_before is not None and covers:
        said.append(notices.note(f"an earlier {interrupted_before.describe()} was interrupted part way; this "
                                 "command replaces what it left"))
    elif interrupted_before is not None:
        cut = interrupted_before
        said.append(notices.warning(
            f"an earlier {cut.describe()} was interrupted part way, and this command does not cover all it switched "
            f"({', '.join(cut.targets)} at {cut.scope} scope): run {cut.describe()} (finishes it) or "
            f"`{cut.undo_command()}` (undoes it)"))
    changing = any(p.changed for p in plans)
    with apply.deferred_interrupt() as interrupted:
        if changing and covers:
            t.journal.begin_switch(command, profile, scope, tuple(c.id for c in chosen))
        try:
            yield interrupted
        except BaseException as exc:
            # apply_all put back what it switched: the marker has done its job, unless files stay half-switched.
            if covers and not (isinstance(exc, apply.SwitchFailed) and not exc.put_back_all):
                with contextlib.suppress(DsconfigError, OSError):
                    t.journal.end_switch()
            raise
        if covers and (changing or interrupted_before is not None):
            t.journal.end_switch()


@contextlib.contextmanager
def _told_on_failure(planned: list[Notice]) -> Iterator[None]:
    """What planning found (a running app, a value kept) still reaches the person when the writes then fail:
    the error carries it for the renderer."""
    try:
        yield
    except DsconfigError as err:
        err.notices = (*planned, *err.notices)
        raise


def _ordered(said: Sequence[Notice]) -> tuple[Notice, ...]:
    """Warnings first, then notes, each in the order given: why a target was skipped, what planning found, what
    would still beat the profile. The order `use` and `off` have always printed."""
    return tuple([n for n in said if n.kind == "warning"] + [n for n in said if n.kind == "note"])


# --- use ----------------------------------------------------------------------------------------------------


def inline_key_for(name: str, actx: actions.Context, read_key: Callable[[], str | None] | None,
                   *, prefer_input: bool = False) -> str:
    """The key --inline-key writes: typed or piped in (`prefer_input`), else the keyring, else the input.

    Raises: NotFoundError when there is none anywhere."""
    if prefer_input and read_key is not None:
        raw = read_key()
        if raw is not None:
            return normalize_key(raw)
    try:
        stored = actx.secrets.get(name)
    except KeyringUnavailableError:
        stored = None
    if stored:
        return stored
    raw = read_key() if read_key is not None and not prefer_input else None
    if raw is None:
        raise NotFoundError(f"no API key for profile {name!r} in the keyring to write inline",
                            f"pipe it in: printf %s \"$KEY\" | dsconfig use {name} --inline-key --api-key-stdin")
    return normalize_key(raw)


def _key_warnings(name: str, actx: actions.Context) -> list[Notice]:
    """The helper runs `dsconfig key get NAME` at every start of the program: say now if it cannot work."""
    try:
        stored = actx.secrets.get(name)
    except KeyringUnavailableError as err:
        return [notices.warning(f"{err.message}: the key helper will fail until it is fixed ({err.hint}); "
                                "or write the key inline with --inline-key")]
    except DsconfigError as err:  # an env:/command: source that cannot give the key here: it may where Claude starts
        return [notices.warning(f"{err.message}: the key helper will fail where that is still so"
                                + (f" ({err.hint})" if err.hint else ""))]
    if stored:
        return []
    return [notices.warning(f"no API key stored for profile {name!r}: Claude will fail to authenticate until you "
                            f"run `dsconfig key set {name}`")]


@dataclass(frozen=True)
class UseRequest:
    """What `dsconfig use` was asked: switch `target` at `scope` to `profile`. `read_key` supplies the key for
    `inline_key` when the keyring has none (first, with `key_from_input`)."""

    profile: str
    target: str = CLAUDE_CODE
    scope: str = "user"
    dry_run: bool = False
    inline_key: bool = False
    read_key: Callable[[], str | None] | None = None
    key_from_input: bool = False


@dataclass(frozen=True)
class OffRequest:
    """What `dsconfig off` was asked; `force` also puts back values changed by hand since `use`."""

    target: str = CLAUDE_CODE
    scope: str = "user"
    dry_run: bool = False
    force: bool = False


def run_use(request: UseRequest, ctx: AppContext | None = None) -> SwitchResult:
    """Switch the chosen targets to the profile; with `dry_run`, only say what would change. Prints nothing:
    the result's `notices` are for the renderer. Takes the profile and secret stores (`ctx.actions`) and where
    targets look and write (`ctx.targets`) from the one context.

    Raises: UsageError (a target or scope that does not exist), NotFoundError (no such profile, no key to write
    inline), DsconfigError (a target refusing the profile, a malformed or read-only file), apply.SwitchFailed
    (a write failed part way: what was put back)."""
    c = ctx or AppContext()
    with _one_switch_at_a_time(c.targets, request.dry_run):
        return _use(request, c.actions, c.targets)


def _one_switch_at_a_time(t: TargetContext, dry_run: bool) -> contextlib.AbstractContextManager[None]:
    """Serialize whole `use`/`off` commands, not only single files: two racing switches could otherwise end
    with the files on one profile and `active` (or Desktop's applied entry) on the other."""
    if dry_run:
        return contextlib.nullcontext()
    from dsconfig.journal import switch_lock

    return switch_lock(t.journal.path)


def _use(request: UseRequest, a: actions.Context, t: TargetContext) -> SwitchResult:
    name, target, scope, dry_run = request.profile, request.target, request.scope, request.dry_run
    resolved = actions.resolved_profile(name, a)
    chosen, said = _targets_for_use(target, scope, resolved, t)
    key = inline_key_for(name, a, request.read_key, prefer_input=request.key_from_input) if request.inline_key else None
    owners: dict[Path, str] = {}
    planned: list[Notice] = []
    make = _planner(chosen, lambda c: c.plan_use(resolved, t, scope=scope, inline_key=key), owners, planned)
    plans = make()  # every file read and validated before the first write
    found: list[Notice] = []
    for c in chosen:
        found += c.use_warnings(resolved, t, scope=scope, inline_key=key is not None)
    if key is None:
        found += _key_warnings(name, a)
    from dsconfig.urls import plain_http_warning

    plain = plain_http_warning(resolved.base_url)
    if plain:
        found.append(notices.warning(plain))
    if not dry_run:
        modes = _modes(chosen, t, scope, name, key is not None)

        def record_active() -> None:  # part of the switch: when profiles.toml cannot be written, files go back
            if scope == "user" and a.store.load().active != name:
                a.store.set_active(name)

        with _told_on_failure(planned), _switching(t, plans, "use", name, scope, chosen, said) as interrupted:
            plans = apply.apply_all(make, journal=t.journal, modes=modes, plans=plans, interrupted=interrupted,
                                    finish=record_active)
    return SwitchResult("use", name, scope, tuple(c.id for c in chosen), dry_run, _files(plans, owners, key),
                        _ordered([*said, *planned, *found]))


# --- off ----------------------------------------------------------------------------------------------------


def run_off(request: OffRequest, ctx: AppContext | None = None) -> SwitchResult:
    """Undo what `use` did for the chosen targets and scope; with `dry_run`, only say what would change. Prints
    nothing: the result's `notices` are for the renderer.

    Raises: UsageError (a target or scope that does not exist), DsconfigError (a malformed or read-only
    file), apply.SwitchFailed (a write failed part way: what was put back)."""
    c = ctx or AppContext()
    with _one_switch_at_a_time(c.targets, request.dry_run):
        return _off(request.target, request.scope, request.dry_run, request.force, c.actions, c.targets)


def _off(target: str, scope: str, dry_run: bool, force: bool, a: actions.Context, t: TargetContext) -> SwitchResult:
    chosen, said = _targets_for_off(target, scope)
    ids = [c.id for c in chosen]
    profile = _applied_profile(t, ids, scope)
    owners: dict[Path, str] = {}
    planned: list[Notice] = []
    make = _planner(chosen, lambda c: c.plan_off(t, scope=scope, force=force), owners, planned)
    plans = make()
    found: list[Notice] = []
    if not plans:
        said.append(notices.note(f"nothing to undo: dsconfig has not changed {' or '.join(ids)} at {scope} scope"))
    if not dry_run and plans:
        def record_active() -> None:  # part of the switch: when profiles.toml cannot be written, files go back
            if scope == "user":
                still = _still_applied(t, ids)
                wanted = still[0] if len(still) == 1 else None
                if a.store.load().active != wanted:
                    a.store.set_active(wanted)

        with _told_on_failure(planned), _switching(t, plans, "off", profile, scope, chosen, said) as interrupted:
            plans = apply.apply_all(make, journal=t.journal, plans=plans, interrupted=interrupted, finish=record_active)
        for c in chosen:
            found += c.off_warnings(t)
    elif not dry_run:
        said += _settle_interrupted(t, ids, scope)
    return SwitchResult("off", profile, scope, tuple(ids), dry_run, _files(plans, owners, None),
                        _ordered([*said, *planned, *found]))


def _settle_interrupted(t: TargetContext, ids: Sequence[str], scope: str) -> list[Notice]:
    """An `off` with nothing left to undo still settles an interrupted switch it covers (killed before it
    changed anything of these targets, or its other targets already undone): the marker goes."""
    marker = t.journal.switch() if t.journal.path.exists() else None
    if marker is None or not marker.covered_by(ids, scope):
        return []
    t.journal.end_switch()
    return [notices.note(f"an earlier {marker.describe()} was interrupted part way; nothing of it is left to undo")]


def _still_applied(ctx: TargetContext, turned_off: Sequence[str]) -> list[str]:
    """The profiles targets this `off` did not turn off still use at user scope (the active one after `off`:
    `use b --target all`, `use a`, `off` leaves Claude Desktop on b, so b is active, not a).

    The targets just turned off do not count even when the journal still lists them: what is left there is a
    member a person changed by hand, kept for `off --force`, not a profile in use."""
    found = {r.owner.get("profile") or "" for r in ctx.journal.owned_by(applied_only=True)
             if r.owner.get("scope", "user") == "user" and r.owner.get("target") not in turned_off}
    return sorted(found - {""})


def _applied_profile(ctx: TargetContext, ids: Sequence[str], scope: str) -> str | None:
    for record in ctx.journal.load().values():
        if record.owner.get("target") in ids and record.owner.get("scope", "user") == scope:
            return record.owner.get("profile")
    return None
