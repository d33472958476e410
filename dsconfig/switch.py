"""`dsconfig use` and `dsconfig off`: switch the chosen programs to a profile, or back, all or nothing.

Every target module's plans are made first (each reads and validates the files it will write), so one
malformed or read-only file stops the command before anything is written; then dsconfig.apply applies them.

Targets (`--target`):

- `claude-code` (the default) and `claude-desktop` name one program.
- `all` is Claude Code plus Claude Desktop when Desktop is on this machine: installed, or its configuration
  folders exist (its `detect()` says so). A Desktop that is absent is skipped with a note rather than set up
  for an app that is not there. With `--scope project` Desktop is skipped too (it has one configuration per
  user); `--target claude-desktop --scope project` is a usage error. When the profile's provider cannot drive
  Desktop, `all` skips it with a warning (naming `claude-desktop` explicitly fails instead). `off --target all`
  undoes every target dsconfig has changed, present or not.

The active profile (profiles.toml `active`) follows the user scope: set after a successful user-scope `use`,
cleared after an `off` that leaves nothing applied at user scope anywhere.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from dsconfig import actions, apply, changes, output
from dsconfig.credentials import mask, normalize_key
from dsconfig.errors import DsconfigError, KeyringUnavailableError, NotFoundError, UsageError
from dsconfig.journal import SECRET_NAMES
from dsconfig.profiles import Resolved
from dsconfig.targets.context import TargetContext

CLAUDE_CODE = "claude-code"
CLAUDE_DESKTOP = "claude-desktop"
TARGETS = (CLAUDE_CODE, CLAUDE_DESKTOP, "all")
_MODULES = {CLAUDE_CODE: "dsconfig.targets.claude_code", CLAUDE_DESKTOP: "dsconfig.targets.claude_desktop"}


@dataclass(frozen=True)
class FileChange:
    """One file `use`/`off` changed (or would change, with --dry-run)."""

    target: str
    path: str
    action: str  # "create", "update", "remove", "unchanged"
    diff: str  # unified diff, any inline key masked

    def to_json(self) -> dict[str, str]:
        return {"target": self.target, "path": self.path, "action": self.action, "diff": self.diff}


@dataclass(frozen=True)
class SwitchResult:
    """What `use` or `off` did: the data cli.py renders."""

    command: str  # "use" or "off"
    profile: str | None
    scope: str
    targets: tuple[str, ...]
    dry_run: bool
    files: tuple[FileChange, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> tuple[FileChange, ...]:
        return tuple(f for f in self.files if f.action != "unchanged")

    def diff(self) -> str:
        return "".join(f.diff for f in self.changed)

    def to_json(self) -> dict[str, Any]:
        return {"command": self.command, "profile": self.profile, "scope": self.scope, "targets": list(self.targets),
                "dry_run": self.dry_run, "files": [f.to_json() for f in self.files], "warnings": list(self.warnings),
                "notes": list(self.notes)}


# --- choosing targets ---------------------------------------------------------------------------------------


def _module(target: str) -> ModuleType | None:
    """The target's module, or None when this dsconfig has none (imported lazily: Desktop is heavy)."""
    name = _MODULES[target]
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)


def _check_target(target: str, scope: str) -> None:
    if target not in TARGETS:
        raise UsageError(f"unknown target {target!r}", f"use --target {' | '.join(TARGETS)}")
    if scope not in ("user", "project"):
        raise UsageError(f"unknown scope {scope!r}", "use --scope user or --scope project")
    if target == CLAUDE_DESKTOP and scope == "project":
        raise UsageError("Claude Desktop has no project scope: it has one configuration per user",
                         "drop --scope project, or use --target claude-code")


def _required(target: str) -> ModuleType:
    module = _module(target)
    if module is None:
        raise UsageError(f"this dsconfig cannot configure {target} yet", "use --target claude-code")
    return module


def desktop_present(module: ModuleType, ctx: TargetContext) -> bool:
    """Desktop counts as present when installed or when its configuration folders exist."""
    doc = module.detect(ctx)
    if doc.get("installed"):
        return True
    library = doc.get("library") or {}
    return bool(library.get("exists")) or any(f.get("exists") for f in doc.get("config_files") or [])


def _targets_for_use(target: str, scope: str, resolved: Resolved, ctx: TargetContext,
                     notes: list[str], warnings: list[str]) -> list[tuple[str, ModuleType]]:
    _check_target(target, scope)
    if target != "all":
        return [(target, _required(target))]
    chosen = [(CLAUDE_CODE, _required(CLAUDE_CODE))]
    desktop = _module(CLAUDE_DESKTOP)
    if desktop is None or scope == "project":
        notes.append("Claude Desktop skipped: " + ("it has no project scope" if desktop else "not supported by this dsconfig"))
    elif not desktop_present(desktop, ctx):
        notes.append("Claude Desktop skipped: not found on this machine")
    else:
        try:
            desktop.check_supported(resolved)
            chosen.append((CLAUDE_DESKTOP, desktop))
        except DsconfigError as err:
            warnings.append(f"Claude Desktop skipped: {err.message}")
    return chosen


def _targets_for_off(target: str, scope: str, notes: list[str]) -> list[tuple[str, ModuleType]]:
    _check_target(target, scope)
    if target != "all":
        return [(target, _required(target))]
    chosen = [(CLAUDE_CODE, _required(CLAUDE_CODE))]
    desktop = _module(CLAUDE_DESKTOP)
    if desktop is not None and scope == "user":
        chosen.append((CLAUDE_DESKTOP, desktop))
    elif desktop is not None:
        notes.append("Claude Desktop skipped: it has no project scope")
    return chosen


# --- planning and applying ----------------------------------------------------------------------------------


def _planner(chosen: Sequence[tuple[str, ModuleType]], plan: Callable[[str, ModuleType], list[changes.FilePlan]],
             owners: dict[Path, str]) -> Callable[[], list[changes.FilePlan]]:
    """A function making every target's plans; apply_all calls it again when a file changed meanwhile."""

    def make() -> list[changes.FilePlan]:
        plans: list[changes.FilePlan] = []
        for name, module in chosen:
            for p in plan(name, module):
                owners.setdefault(p.path, name)
                plans.append(p)
        return plans

    return make


def _root(name: str, root: Path | None) -> dict[str, Any]:
    # Claude Code looks up managed settings under `root` (tests); Desktop has its own System for that.
    return {"root": root} if name == CLAUDE_CODE and root is not None else {}


def _action(plan: changes.FilePlan) -> str:
    if not plan.changed:
        return "unchanged"
    if plan.before is None:
        return "create"
    return "remove" if plan.after is None else "update"


def _files(plans: Sequence[changes.FilePlan], owners: dict[Path, str], secret: str | None) -> tuple[FileChange, ...]:
    """What each plan changes, as data. Every key the diffs could show is masked: the one written inline and
    any inline key another tool left in the file (an `off` puts that one back, so the diff would print it)."""
    secrets = {secret} | {v for p in plans for v in _inline_secrets(p)}
    out = []
    for p in plans:
        diff = p.diff() if p.changed else ""
        for value in sorted((v for v in secrets if v), key=len, reverse=True):
            output.register_secret(value)
            diff = diff.replace(value, mask(value))
        out.append(FileChange(owners.get(p.path, "?"), str(p.path), _action(p), diff))
    return tuple(out)


def _inline_secrets(plan: changes.FilePlan) -> set[str]:
    """Values of key members (ANTHROPIC_AUTH_TOKEN, ANTHROPIC_API_KEY, inferenceGatewayApiKey) in either side."""
    import json

    found: set[str] = set()
    for data in (plan.before, plan.after):
        if not data:
            continue
        try:
            doc = json.loads(data)
        except ValueError:
            continue
        stack = [doc]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                for k, v in node.items():
                    if k in SECRET_NAMES and isinstance(v, str) and len(v) >= 8:
                        found.add(v)
                    elif isinstance(v, (dict, list)):
                        stack.append(v)
            elif isinstance(node, list):
                stack.extend(n for n in node if isinstance(n, (dict, list)))
    return found


def _modes(chosen: Sequence[tuple[str, ModuleType]], ctx: TargetContext, scope: str, profile: str,
           inline: bool) -> dict[Path, int]:
    modes: dict[Path, int] = {}
    for _, module in chosen:
        modes.update(module.file_modes(ctx, profile, scope=scope, inline_key=inline))
    return modes


def _emit(warnings: Sequence[str], notes: Sequence[str]) -> None:
    for text in warnings:
        output.warn(text)
    for text in notes:
        output.note(text)


@contextlib.contextmanager
def _switching(t: TargetContext, plans: Sequence[changes.FilePlan], command: str, profile: str | None, scope: str,
               chosen: Sequence[tuple[str, ModuleType]], notes: list[str]) -> Iterator[Callable[[], bool]]:
    """Around the writes of one switch: Ctrl-C held (apply_all puts back what it switched when one arrives),
    and a marker in the journal that only a kill leaves behind, so the next command can say what happened."""
    interrupted_before = t.journal.switch() if t.journal.path.exists() else None
    if interrupted_before is not None:
        notes.append(f"an earlier {interrupted_before.describe()} was interrupted part way; this command "
                     "replaces what it left")
    changing = any(p.changed for p in plans)
    with apply.deferred_interrupt() as interrupted:
        if changing:
            t.journal.begin_switch(command, profile, scope, tuple(n for n, _ in chosen))
        try:
            yield interrupted
        except BaseException as exc:
            # apply_all put back what it switched: the marker has done its job, unless files stay half-switched.
            if not (isinstance(exc, apply.SwitchFailed) and not exc.put_back_all):
                with contextlib.suppress(DsconfigError, OSError):
                    t.journal.end_switch()
            raise
        if changing or interrupted_before is not None:
            t.journal.end_switch()


# --- use ----------------------------------------------------------------------------------------------------


def inline_key_for(name: str, actx: actions.Context, read_key: Callable[[], str | None] | None,
                   *, prefer_input: bool = False) -> str:
    """The key --inline-key writes: typed or piped in (`prefer_input`), else the keyring, else the input."""
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


def _key_warnings(name: str, actx: actions.Context) -> list[str]:
    """The helper runs `dsconfig key get NAME` at every start of the program: say now if it cannot work."""
    try:
        stored = actx.secrets.get(name)
    except KeyringUnavailableError as err:
        return [(f"{err.message}: the key helper will fail until it is fixed ({err.hint}); "
                 "or write the key inline with --inline-key")]
    except DsconfigError as err:  # an env:/command: source that cannot give the key here: it may where Claude starts
        return [f"{err.message}: the key helper will fail where that is still so" + (f" ({err.hint})" if err.hint else "")]
    if stored:
        return []
    return [(f"no API key stored for profile {name!r}: Claude will fail to authenticate until you run "
             f"`dsconfig key set {name}`")]


def use(
    name: str,
    *,
    target: str = CLAUDE_CODE,
    scope: str = "user",
    dry_run: bool = False,
    inline_key: bool = False,
    read_key: Callable[[], str | None] | None = None,
    key_from_input: bool = False,
    actx: actions.Context | None = None,
    tctx: TargetContext | None = None,
    root: Path | None = None,
) -> SwitchResult:
    """Switch the chosen targets to profile `name`; with `dry_run`, only say what would change.

    `read_key` supplies the key for `inline_key` when the keyring has none (first, with `key_from_input`);
    `root` is where system-wide files (managed settings) are looked up, for tests.
    """
    a = actx or actions.Context()
    t = tctx or TargetContext()
    with _one_switch_at_a_time(t, dry_run):
        return _use(name, target, scope, dry_run, inline_key, read_key, key_from_input, a, t, root)


def _one_switch_at_a_time(t: TargetContext, dry_run: bool) -> contextlib.AbstractContextManager[None]:
    """Serialize whole `use`/`off` commands, not only single files: two racing switches could otherwise end
    with the files on one profile and `active` (or Desktop's applied entry) on the other."""
    if dry_run:
        return contextlib.nullcontext()
    from dsconfig.journal import switch_lock

    return switch_lock(t.journal.path)


def _use(name: str, target: str, scope: str, dry_run: bool, inline_key: bool, read_key: Callable[[], str | None] | None,
         key_from_input: bool, a: actions.Context, t: TargetContext, root: Path | None) -> SwitchResult:
    resolved = actions.resolved_profile(name, a)
    notes: list[str] = []
    warnings: list[str] = []
    chosen = _targets_for_use(target, scope, resolved, t, notes, warnings)
    key = inline_key_for(name, a, read_key, prefer_input=key_from_input) if inline_key else None
    owners: dict[Path, str] = {}
    make = _planner(chosen, lambda n, m: list(m.plan_use(resolved, t, scope=scope, inline_key=key, **_root(n, root))), owners)
    plans = make()  # every file read and validated before the first write
    # Members someone changed by hand that this switch replaces (Claude Desktop's planning prints its own notes).
    warnings += [n for p in plans if owners.get(p.path) == CLAUDE_CODE for n in p.notes]
    for target_name, module in chosen:
        if target_name == CLAUDE_CODE:
            warnings += module.use_warnings(resolved, t, scope=scope, inline_key=key is not None, root=root)
    if key is None:
        warnings += _key_warnings(name, a)
    from dsconfig.urls import plain_http_warning

    plain = plain_http_warning(resolved.base_url)
    if plain:
        warnings.append(plain)
    if not dry_run:
        modes = _modes(chosen, t, scope, name, key is not None)
        def record_active() -> None:  # part of the switch: when profiles.toml cannot be written, files go back
            if scope == "user" and a.store.load().active != name:
                a.store.set_active(name)

        with _switching(t, plans, "use", name, scope, chosen, notes) as interrupted:
            plans = apply.apply_all(make, journal=t.journal, modes=modes, plans=plans, interrupted=interrupted,
                                      finish=record_active)
    _emit(warnings, notes)
    return SwitchResult("use", name, scope, tuple(n for n, _ in chosen), dry_run, _files(plans, owners, key),
                        tuple(warnings), tuple(notes))


# --- off ----------------------------------------------------------------------------------------------------


def off(
    *,
    target: str = CLAUDE_CODE,
    scope: str = "user",
    dry_run: bool = False,
    force: bool = False,
    actx: actions.Context | None = None,
    tctx: TargetContext | None = None,
) -> SwitchResult:
    """Undo what `use` did for the chosen targets and scope; with `dry_run`, only say what would change."""
    a = actx or actions.Context()
    t = tctx or TargetContext()
    with _one_switch_at_a_time(t, dry_run):
        return _off(target, scope, dry_run, force, a, t)


def _off(target: str, scope: str, dry_run: bool, force: bool, a: actions.Context, t: TargetContext) -> SwitchResult:
    notes: list[str] = []
    chosen = _targets_for_off(target, scope, notes)
    profile = _applied_profile(t, [n for n, _ in chosen], scope)
    owners: dict[Path, str] = {}
    make = _planner(chosen, lambda _n, m: list(m.plan_off(t, scope=scope, force=force)), owners)
    plans = make()
    # Claude Desktop's plan_off prints its own notes; Claude Code's are surfaced here.
    warnings = [n for p in plans if owners.get(p.path) == CLAUDE_CODE for n in p.notes]
    if not plans:
        notes.append(f"nothing to undo: dsconfig has not changed {' or '.join(n for n, _ in chosen)} at {scope} scope")
    if not dry_run and plans:
        def record_active() -> None:  # part of the switch: when profiles.toml cannot be written, files go back
            if scope == "user":
                still = _still_applied(t, [n for n, _ in chosen])
                wanted = still[0] if len(still) == 1 else None
                if a.store.load().active != wanted:
                    a.store.set_active(wanted)

        with _switching(t, plans, "off", profile, scope, chosen, notes) as interrupted:
            plans = apply.apply_all(make, journal=t.journal, plans=plans, interrupted=interrupted, finish=record_active)
        if any(n == CLAUDE_CODE for n, _ in chosen):
            warnings += _base_url_left(t)
    _emit(warnings, notes)
    return SwitchResult("off", profile, scope, tuple(n for n, _ in chosen), dry_run, _files(plans, owners, None),
                        tuple(warnings), tuple(notes))


def _base_url_left(t: TargetContext) -> list[str]:
    """After `off`: a base URL still exported (here, or by a shell startup file another tool left) is what Claude
    Code follows now, unless a settings file it reads in this folder still sets one."""
    from dsconfig import vocab
    from dsconfig.targets import claude_code, shell

    if any(vocab.BASE_URL_VAR in layer.env for layer in claude_code.settings_layers(t)):
        return []
    return shell.still_exported(vocab.BASE_URL_VAR, t.home, t.environ)


def _still_applied(ctx: TargetContext, turned_off: Sequence[str]) -> list[str]:
    """The profiles targets this `off` did not turn off still use at user scope (the active one after `off`:
    `use b --target all`, `use a`, `off` leaves Claude Desktop on b, so b is active, not a).

    The targets just turned off do not count even when the journal still lists them: what is left there is a
    member a person changed by hand, kept for `off --force`, not a profile in use."""
    found = {r.owner.get("profile") or "" for r in ctx.journal.owned_by(applied_only=True)
             if r.owner.get("scope", "user") == "user" and r.owner.get("target") not in turned_off}
    return sorted(found - {""})


def _applied_profile(ctx: TargetContext, targets: Sequence[str], scope: str) -> str | None:
    for record in ctx.journal.load().values():
        if record.owner.get("target") in targets and record.owner.get("scope", "user") == scope:
            return record.owner.get("profile")
    return None


# --- rendering helpers for cli.py ---------------------------------------------------------------------------


def summary(result: SwitchResult) -> list[str]:
    """The lines cli.py shows on stderr after `use`/`off` (the diff goes to stdout with --dry-run)."""
    verbs = {"create": ("would create", "created"), "update": ("would change", "changed"),
             "remove": ("would remove", "removed")}
    lines = [f"{verbs[f.action][0 if result.dry_run else 1]} {f.path}" for f in result.changed]
    if not result.changed and result.files:
        lines.append("nothing to change: already as requested")
    if result.dry_run:
        lines.append("dry run: nothing was written")
    elif result.command == "use":
        where = "this folder" if result.scope == "project" else "your user account"
        lines.append(f"{' and '.join(_label(t) for t in result.targets)} now use{'s' if len(result.targets) == 1 else ''} "
                     f"profile {result.profile!r} for {where}; undo with `dsconfig off"
                     f"{' --scope project' if result.scope == 'project' else ''}`")
    elif result.changed:
        lines.append(f"{' and '.join(_label(t) for t in result.targets)}: back to the settings from before dsconfig")
    return lines


def _label(target: str) -> str:
    return {CLAUDE_CODE: "Claude Code", CLAUDE_DESKTOP: "Claude Desktop"}.get(target, target)
