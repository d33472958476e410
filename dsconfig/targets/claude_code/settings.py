"""Claude Code's settings files: where they are, the layers it reads in precedence order, and what dsconfig
checks before it edits one (Claude Code's own rules for `env`, a read-only file or folder).

Everything outside the home folder (managed settings) is looked up under `root` (TargetContext.root; None:
the real file system root), so tests lay out macOS, Windows and Linux machines in temp folders.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from dsconfig import claudejson, fileio, paths, vocab
from dsconfig.credentials import mask
from dsconfig.errors import InvalidFileError, UsageError
from dsconfig.targets.context import TargetContext

TARGET = vocab.TARGET_CLAUDE_CODE
SCOPES = ("user", "project")
TOKEN_VAR = vocab.AUTH_TOKEN_VAR
API_KEY_VAR = vocab.API_KEY_VAR
CREDENTIAL_VARS = vocab.KEY_VARS
HELPER_KEY = "apiKeyHelper"
ONBOARDING_KEY = "hasCompletedOnboarding"
CLOUD_VARS = vocab.CLOUD_VARS
# Every variable that picks or offers a model (tiers, their `/model` companions, the default and custom
# options, gateway discovery, the deprecated small-fast one): `use` owns all of them.
MODEL_VARS = vocab.MODEL_VARS
# Keys whose value decides where Claude Code sends requests, with which key and which model.
ROUTING_VARS = (vocab.BASE_URL_VAR, *CREDENTIAL_VARS, *MODEL_VARS, *CLOUD_VARS)
SETTINGS_WHAT = "Claude Code settings file"
STATE_WHAT = "Claude Code state file (~/.claude.json)"
VERSION_TIMEOUT = 3.0


# --- where files are ----------------------------------------------------------------------------------------


def check_scope(scope: str) -> str:
    """`scope` when Claude Code has it.

    Raises: UsageError for any other scope."""
    if scope not in SCOPES:
        raise UsageError(f"unknown scope {scope!r}", "use --scope user or --scope project")
    return scope


def settings_file(ctx: TargetContext, scope: str) -> Path:
    """The file `use` writes for `scope`: the user settings, or the project's settings.local.json in cwd.

    Raises: UsageError for an unknown scope."""
    if check_scope(scope) == "user":
        return paths.claude_user_settings(ctx.home, ctx.environ)
    return paths.claude_project_settings(ctx.cwd)[0]


def state_file(ctx: TargetContext) -> Path:
    return paths.claude_global_state(ctx.home, ctx.environ)


def _system(path: Path, root: Path | None) -> Path:
    """A system-wide path, looked up under `root` when tests give one (a Windows path works on Linux too)."""
    if root is None:
        return path
    pure = PurePath(str(path).replace("\\", "/"))
    return root.joinpath(*[part for part in pure.parts if part not in ("/", pure.anchor)])


# --- reading the settings layers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    """One settings file in Claude Code's precedence order. `doc` is None when absent or unreadable."""

    scope: str  # "managed", "project-local", "project", "user"
    path: Path
    doc: dict[str, Any] | None
    error: str | None = None
    # Read as Claude Code reads it, but dsconfig would refuse to edit it (byte-order mark, duplicate key).
    notes: tuple[str, ...] = ()

    @property
    def env(self) -> dict[str, str]:
        raw = (self.doc or {}).get("env")
        if not isinstance(raw, dict):
            return {}
        return {k: v for k, v in raw.items() if isinstance(v, str)}

    @property
    def helper(self) -> str | None:
        value = (self.doc or {}).get(HELPER_KEY)
        return value if isinstance(value, str) and value.strip() else None

    def routing(self) -> dict[str, str]:
        """The keys of this file that decide endpoint, key and models (helper included), values masked."""
        found = {var: _shown(var, value) for var, value in self.env.items() if var in ROUTING_VARS}
        if self.helper is not None:
            found[HELPER_KEY] = shown_helper(self.helper)
        return found


def _shown(var: str, value: str) -> str:
    """`value` as reports show it: a key variable masked; in ANTHROPIC_CUSTOM_HEADERS each header's value
    masked (`Authorization: Bea…cdef`), since a header may carry a credential."""
    if value and var == vocab.HEADERS_VAR:
        return "\n".join(f"{name}:{' ' + mask(rest.strip()) if rest.strip() else ''}" if sep else mask(line)
                         for line in value.splitlines() for name, sep, rest in [line.partition(":")])
    return mask(value) if value and var in CREDENTIAL_VARS else value


def header_values(value: str) -> list[str]:
    """The value of each `Name: value` line of an ANTHROPIC_CUSTOM_HEADERS value (what the diffs mask)."""
    return [rest.strip() for line in value.splitlines() for _name, sep, rest in [line.partition(":")]
            if sep and rest.strip()]


_CREDENTIAL_HEADER_WORDS = ("auth", "key", "token", "secret", "cookie")


def credential_headers(value: str) -> list[str]:
    """The names of the headers in an ANTHROPIC_CUSTOM_HEADERS value that look like they carry a credential
    (`Authorization`, `x-api-key`, `X-Auth-Token`, ...)."""
    return [name.strip() for line in value.splitlines() for name, sep, rest in [line.partition(":")]
            if sep and rest.strip() and any(word in name.lower() for word in _CREDENTIAL_HEADER_WORDS)]


def helper_secrets(command: str) -> list[str]:
    """Tokens of an apiKeyHelper command that look like a key itself (`echo sk-...`), found as in a command:
    key source; registered so that nothing this process prints shows them."""
    from dsconfig import output
    from dsconfig.keysources import secret_tokens

    found = secret_tokens(command)
    for token in found:
        output.register_secret(token)
    return found


def shown_helper(command: str) -> str:
    """An apiKeyHelper command as reports show it: any key written inside it masked."""
    for token in sorted(helper_secrets(command), key=len, reverse=True):
        command = command.replace(token, mask(token))
    return command


def read_layer(scope: str, path: Path) -> Layer:
    """Read one settings file for reporting: a malformed file is described, never fatal.

    Read the way Claude Code reads it (claudejson): a byte-order mark is skipped and the last of two duplicate
    keys wins, so reports say what is really in effect; such a file gets `notes`, and editing it still fails."""
    try:
        data = fileio.read_bytes(path)
        if data is None:
            return Layer(scope, path, None)
        doc, notes = claudejson.parse_json_like_claude(path, data, what=SETTINGS_WHAT)
        validate_settings(path, doc)
    except InvalidFileError as err:
        return Layer(scope, path, None, err.message + (f" (hint: {err.hint})" if err.hint else ""))
    return Layer(scope, path, doc, notes=tuple(notes))


def managed_files(platform: str, *, root: Path | None = None) -> list[Path]:
    """managed-settings.json and its drop-in folder, highest precedence first (later drop-ins win)."""
    main = _system(paths.claude_managed_settings(platform), root)
    drop_ins = sorted((main.parent / "managed-settings.d").glob("*.json"), reverse=True)
    return [*drop_ins, main]


def settings_layers(ctx: TargetContext, *, root: Path | None = None) -> list[Layer]:
    """Every settings file Claude Code reads when started in ctx.cwd, highest precedence first (managed ones
    under `root`, default ctx.root)."""
    layers = [read_layer("managed", p) for p in managed_files(ctx.platform, root=root if root is not None else ctx.root)]
    local, shared = paths.claude_project_settings(ctx.cwd)
    user = settings_file(ctx, "user")
    # Started in the home folder, the "project" settings.json *is* the user file: count it once.
    layers += [read_layer(s, p) for s, p in (("project-local", local), ("project", shared)) if p != user]
    layers.append(read_layer("user", user))
    return layers


def _above(layers: Sequence[Layer], target: Path) -> list[Layer]:
    index = next((i for i, layer in enumerate(layers) if layer.path == target), len(layers))
    return list(layers[:index])


def _below(layers: Sequence[Layer], target: Path) -> list[Layer]:
    index = next((i for i, layer in enumerate(layers) if layer.path == target), len(layers))
    return list(layers[index + 1 :])


# --- validation ---------------------------------------------------------------------------------------------


def validate_settings(path: Path, doc: dict[str, Any]) -> None:
    """Refuse what Claude Code itself would reject in `env`: writing into such a file would hide the problem.

    Raises: InvalidFileError with the line and column of the offending member."""
    env = doc.get("env")
    if env is None and "env" not in doc:
        return
    if not isinstance(env, dict):
        line, col = _locate(path, "env")
        raise InvalidFileError(path, f"'env' is a JSON {_json_type(env)}, expected an object", 'write it as "env": {"NAME": "value"}',
                               line=line, column=col)
    for name, value in env.items():
        if not isinstance(value, str):
            line, col = _locate(path, name)
            raise InvalidFileError(path, f"env.{name} is a JSON {_json_type(value)}; Claude Code accepts only strings there",
                                   f'quote the value: "{name}": "{json.dumps(value)}"', line=line, column=col)


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def _locate(path: Path, key: str) -> tuple[int | None, int | None]:
    """Line and column of `"key":` in the file, for the error message (best effort)."""
    data = fileio.read_bytes(path) or b""
    text = data.decode("utf-8", "replace")
    match = re.search(r'"' + re.escape(key) + r'"\s*:', text)
    if match is None:
        return None, None
    before = text[: match.start()]
    return before.count("\n") + 1, match.start() - (before.rfind("\n") + 1) + 1


def check_writable(path: Path) -> None:
    """A read-only settings file or folder is the user's decision: say so instead of replacing the file.

    Checked on the mode bits too, not only with os.access: root may write anything, and an atomic rename
    replaces a read-only file in a writable folder without complaint.

    Raises: fileio.WriteError naming the file or folder and the chmod that fixes it.
    """
    target = fileio.real_target(path)
    if target.exists():
        mode = target.stat().st_mode
        if not mode & stat.S_IWUSR or not os.access(target, os.W_OK):
            raise fileio.WriteError(f"{target} is read-only", f"make it writable (chmod u+w '{target}') and run again")
    folder = target.parent
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    mode = folder.stat().st_mode
    if not mode & stat.S_IWUSR or not os.access(folder, os.W_OK | os.X_OK):
        raise fileio.WriteError(f"folder {folder} is read-only", f"make it writable (chmod u+w '{folder}') and run again")


