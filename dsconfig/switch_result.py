"""What `dsconfig use` and `off` return: the files changed (or that would be) as data, each diff with every key
masked, the notices for the person, and the summary lines cli.py shows. `to_json()` gives the SwitchJSON
document (stable keys)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from dsconfig import changes, notices, output, targets, vocab
from dsconfig.credentials import mask
from dsconfig.journal import SECRET_NAMES
from dsconfig.notices import Notice
from dsconfig.targets.claude_code.settings import HELPER_KEY, header_values, helper_secrets


class FileChangeJSON(TypedDict):
    target: str
    path: str
    action: str
    diff: str


class SwitchJSON(TypedDict):
    command: str
    profile: str | None
    scope: str
    targets: list[str]
    dry_run: bool
    files: list[FileChangeJSON]
    warnings: list[str]
    notes: list[str]


@dataclass(frozen=True)
class FileChange:
    """One file `use`/`off` changed (or would change, with --dry-run)."""

    target: str
    path: str
    action: str  # "create", "update", "remove", "unchanged"
    diff: str  # unified diff, any inline key masked

    def to_json(self) -> FileChangeJSON:
        return {"target": self.target, "path": self.path, "action": self.action, "diff": self.diff}


@dataclass(frozen=True)
class SwitchResult:
    """What `use` or `off` did: the data cli.py renders. `notices` in the order they are shown (warnings first,
    then notes); `warnings` and `notes` are their texts by kind."""

    command: str  # "use" or "off"
    profile: str | None
    scope: str
    targets: tuple[str, ...]
    dry_run: bool
    files: tuple[FileChange, ...] = ()
    notices: tuple[Notice, ...] = field(default=())

    @property
    def warnings(self) -> tuple[str, ...]:
        return notices.texts(self.notices, "warning")

    @property
    def notes(self) -> tuple[str, ...]:
        return notices.texts(self.notices, "note")

    @property
    def changed(self) -> tuple[FileChange, ...]:
        return tuple(f for f in self.files if f.action != "unchanged")

    def diff(self) -> str:
        return "".join(f.diff for f in self.changed)

    def to_json(self) -> SwitchJSON:
        return {"command": self.command, "profile": self.profile, "scope": self.scope, "targets": list(self.targets),
                "dry_run": self.dry_run, "files": [f.to_json() for f in self.files], "warnings": list(self.warnings),
                "notes": list(self.notes)}



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


def _as_written(value: str) -> tuple[str, str]:
    """`value` as it is, and as a JSON string spells it (a quote or backslash escaped), for finding it in a diff."""
    import json

    return value, json.dumps(value, ensure_ascii=False)[1:-1]


def _inline_secrets(plan: changes.FilePlan) -> set[str]:
    """Values of key members (ANTHROPIC_AUTH_TOKEN, ANTHROPIC_API_KEY, inferenceGatewayApiKey) in either side,
    each header value of ANTHROPIC_CUSTOM_HEADERS, and keys written inside an apiKeyHelper command."""
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
                    elif k == vocab.HEADERS_VAR and isinstance(v, str):  # each header's value may be a credential
                        found.update(f for h in header_values(v) if len(h) >= 8 for f in _as_written(h))
                    elif k == HELPER_KEY and isinstance(v, str):  # `echo sk-...`: a key inside another's helper
                        found.update(f for t in helper_secrets(v) for f in _as_written(t))
                    elif isinstance(v, (dict, list)):
                        stack.append(v)
            elif isinstance(node, list):
                stack.extend(n for n in node if isinstance(n, (dict, list)))
    return found



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


def _label(target_id: str) -> str:
    found = targets.find(target_id)
    return found.label if found is not None else target_id
