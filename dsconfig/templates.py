"""Provider templates: what dsconfig knows about each Anthropic-compatible provider, as TOML data.

Built-in templates ship in the wheel (templates/*.toml); the user's own in `<config>/templates/*.toml` add
providers or override a built-in one with the same id. A malformed user template is reported and skipped;
it never hides the others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsconfig import paths, tomlread, vocab
from dsconfig.errors import InvalidFileError, NotFoundError

SCHEMA_VERSION = 1
TIERS = vocab.TIER_NAMES
AUTH_KINDS = ("bearer", "x-api-key", "both")
DESKTOP_TIERS = ("opus", "sonnet", "haiku")  # Claude Desktop's anthropicFamilyTier values (TARGETS.md section 3)
PROVIDER_ORDER = (
    "deepseek", "kimi", "kimi-code", "glm", "minimax", "qwen", "mimo", "volcengine", "openrouter",
    "ollama", "lmstudio", "vllm", "anthropic", "custom",
)
"""The one order `dsconfig providers` and the setup wizard list built-in templates in: DeepSeek first, then
hosted providers, local servers, and the two ways back out (Anthropic, any gateway). Others (user
templates) follow alphabetically."""
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOP_KEYS = {
    "schema_version", "id", "name", "description", "base_url", "auth", "key_shape", "key_url",
    "models_path", "balance_path", "regions", "models", "env", "desktop", "docs_url", "checked", "legacy",
    "model_names",
}
_DESKTOP_KEYS = {"supported", "reason", "auth_scheme", "models"}
_DESKTOP_MODEL_KEYS = {"id", "label", "tier", "supports_1m"}


@dataclass(frozen=True)
class DesktopModel:
    id: str
    label: str
    tier: str | None = None
    supports_1m: bool = False


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    base_url: str
    auth: str
    source: Path
    builtin: bool
    description: str = ""
    key_shape: str | None = None
    key_url: str | None = None
    models_path: str | None = None
    balance_path: str | None = None
    regions: Mapping[str, str] = field(default_factory=dict)
    models: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    desktop_supported: bool = False
    desktop_reason: str | None = None
    desktop_auth_scheme: str = "bearer"
    desktop_models: tuple[DesktopModel, ...] = ()
    docs_url: str | None = None
    """The provider's own page this template follows."""
    checked: str | None = None
    """The day (YYYY-MM-DD) that page was last checked against this template; None when it could not be."""
    legacy: Mapping[str, str] = field(default_factory=dict)
    """Model ids the provider still accepts but documents as retired -> the id to use instead."""
    model_names: Mapping[str, str] = field(default_factory=dict)
    """Tier -> the label Claude Code's `/model` picker may show instead of the raw id."""

    def key_matches_shape(self, key: str) -> bool:
        return self.key_shape is None or re.search(self.key_shape, key) is not None


@dataclass(frozen=True)
class TemplateSet:
    """Every template that loaded, plus the errors of those that did not (user templates only)."""

    templates: Mapping[str, Template]
    errors: tuple[InvalidFileError, ...] = ()

    def ordered(self) -> list[Template]:
        """Every template in PROVIDER_ORDER, then the rest (the user's own) by id."""
        return sorted(self.templates.values(), key=provider_sort_key)

    def get(self, template_id: str) -> Template:
        """Raises NotFoundError (exit 3) naming the known providers, or the InvalidFileError of a user template by that id that did not load."""
        if template_id in self.templates:
            return self.templates[template_id]
        for err in self.errors:
            if Path(str(err.path)).stem == template_id:
                raise err
        known = ", ".join(sorted(self.templates)) or "none"
        raise NotFoundError(
            f"no provider template {template_id!r}", f"known providers: {known} (see `dsconfig providers`)"
        )


def provider_sort_key(t: Template) -> tuple[int, str]:
    return (PROVIDER_ORDER.index(t.id) if t.id in PROVIDER_ORDER else len(PROVIDER_ORDER), t.id)


def load_templates(user_dir: Path | None = None, builtin_dir: Path | None = None) -> TemplateSet:
    builtin_dir = builtin_dir or paths.builtin_templates_dir()
    user_dir = user_dir if user_dir is not None else paths.user_templates_dir()
    found: dict[str, Template] = {}
    for path in sorted(builtin_dir.glob("*.toml")):
        # A broken built-in template is a packaging bug: let it raise.
        tpl = load_template_file(path, builtin=True)
        found[tpl.id] = tpl
    errors: list[InvalidFileError] = []
    if user_dir.is_dir():
        for path in sorted(user_dir.glob("*.toml")):
            try:
                tpl = load_template_file(path, builtin=False)
            except InvalidFileError as err:
                errors.append(err)
                continue
            found[tpl.id] = tpl
    return TemplateSet(found, tuple(errors))


def load_template(template_id: str, user_dir: Path | None = None, builtin_dir: Path | None = None) -> Template:
    """One template by id, reading only its own file (the fast path for `env` and `key get`)."""
    user_dir = user_dir if user_dir is not None else paths.user_templates_dir()
    builtin_dir = builtin_dir or paths.builtin_templates_dir()
    if _ID.fullmatch(template_id):
        for folder, builtin in ((user_dir, False), (builtin_dir, True)):
            path = folder / f"{template_id}.toml"
            if path.is_file():
                return load_template_file(path, builtin=builtin)
    return load_templates(user_dir, builtin_dir).get(template_id)


def load_template_file(path: Path, *, builtin: bool) -> Template:
    data = tomlread.read(path, hint=_fix_hint(path))
    return parse_template(path, data, builtin=builtin)


def parse_template_text(path: Path, text: str, *, builtin: bool) -> Template:
    """The template in `text`, the content of `path` read by the caller. Raises InvalidFileError."""
    return parse_template(path, tomlread.loads(path, text, hint=_fix_hint(path)), builtin=builtin)


def _fix_hint(path: Path) -> str:
    return f"fix {path} or remove it; `dsconfig providers` lists the templates that load"


def is_template_id(text: str) -> bool:
    """Whether `text` can name a template file (`<id>.toml`): lowercase letters, digits, `-` and `_`."""
    return _ID.fullmatch(text) is not None


def _bad(path: Path, key: str, problem: str, fix: str) -> InvalidFileError:
    return InvalidFileError(path, f"key {key!r}: {problem}", fix)


def _check_url(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"https?://[^\s/?#]+(/\S*)?", value):
        raise _bad(path, key, f"{value!r} is not an http(s) URL", f'set {key} = "https://host/path"')
    return value.rstrip("/")


def _str(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _bad(path, key, f"expected a string, got {type(value).__name__}", f'quote the value: {key} = "..."')
    return value


def _str_table(path: Path, key: str, value: Any, *, names: re.Pattern[str] | None = None) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _bad(path, key, "expected a table", f"write it as [{key}] with NAME = \"value\" lines")
    out: dict[str, str] = {}
    for name, item in value.items():
        if names is not None and not names.fullmatch(name):
            raise _bad(path, f"{key}.{name}", "is not a valid name", "use letters, digits and underscores")
        out[name] = _str(path, f"{key}.{name}", item)
    return out


def parse_template(path: Path, data: Mapping[str, Any], *, builtin: bool) -> Template:
    """Raises InvalidFileError (exit 4) naming the key and its fix."""
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise _bad(path, unknown[0], "is not a template key", f"known keys: {', '.join(sorted(_TOP_KEYS))}")
    version = data.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise _bad(path, "schema_version", f"{version!r} is newer than this dsconfig understands",
                   "upgrade dsconfig (pip install -U dsconfig) or set schema_version = 1")
    tid = _str(path, "id", data.get("id", path.stem))
    if not _ID.fullmatch(tid):
        raise _bad(path, "id", f"{tid!r} is not a valid id", "use lowercase letters, digits, '-' and '_'")
    if tid != path.stem:
        raise _bad(path, "id", f"{tid!r} does not match the file name {path.name!r}", f"rename the file to {tid}.toml")
    if "base_url" not in data:
        raise _bad(path, "base_url", "is missing", 'add base_url = "https://host/anthropic"')
    base_url = _check_url(path, "base_url", data["base_url"])
    auth = _str(path, "auth", data.get("auth", "both"))
    if auth not in AUTH_KINDS:
        raise _bad(path, "auth", f"{auth!r} is not one of {', '.join(AUTH_KINDS)}", 'set auth = "bearer"')
    key_shape = data.get("key_shape")
    if key_shape is not None:
        key_shape = _str(path, "key_shape", key_shape)
        try:
            re.compile(key_shape)
        except re.error as exc:
            raise _bad(path, "key_shape", f"is not a valid regular expression ({exc})", "fix the pattern") from None
    models = _str_table(path, "models", data.get("models", {}))
    bad_tiers = sorted(set(models) - set(TIERS))
    if bad_tiers:
        raise _bad(path, f"models.{bad_tiers[0]}", "is not a tier", f"tiers are {', '.join(TIERS)}")
    for tier, fallback in vocab.FALLBACK_TIERS.items():
        # A template that names no fable model gets its opus model there (issue 13), so `claude --model fable`
        # never falls through to a Claude name or to another switcher's leftover.
        if not models.get(tier) and models.get(fallback):
            models[tier] = models[fallback]
    regions = {name: _check_url(path, f"regions.{name}", url) for name, url in _str_table(path, "regions", data.get("regions", {})).items()}
    for key in ("models_path", "balance_path"):
        if key in data and not _str(path, key, data[key]).startswith("/"):
            raise _bad(path, key, "must start with '/'", f'set {key} = "/path" (joined to the base URL\'s host)')
    desktop = data.get("desktop", {})
    if not isinstance(desktop, dict):
        raise _bad(path, "desktop", "expected a table", "write it as [desktop]")
    unknown = sorted(set(desktop) - _DESKTOP_KEYS)
    if unknown:
        raise _bad(path, f"desktop.{unknown[0]}", "is not a desktop key", f"known keys: {', '.join(sorted(_DESKTOP_KEYS))}")
    supported = desktop.get("supported", False)
    if not isinstance(supported, bool):
        raise _bad(path, "desktop.supported", "expected true or false", "set supported = true or false")
    scheme = _str(path, "desktop.auth_scheme", desktop.get("auth_scheme", "bearer"))
    if scheme not in ("bearer", "x-api-key"):
        raise _bad(path, "desktop.auth_scheme", f"{scheme!r} is not bearer or x-api-key", 'set auth_scheme = "bearer"')
    desktop_models = tuple(_desktop_model(path, i, m) for i, m in enumerate(desktop.get("models", [])))
    checked = data.get("checked")
    if checked is not None and not (isinstance(checked, str) and _DATE.fullmatch(checked)):
        raise _bad(path, "checked", f"{checked!r} is not a YYYY-MM-DD date", 'set checked = "2026-11-30" (a quoted date)')
    model_names = _str_table(path, "model_names", data.get("model_names", {}))
    bad_names = sorted(set(model_names) - set(TIERS))
    if bad_names:
        raise _bad(path, f"model_names.{bad_names[0]}", "is not a tier", f"tiers are {', '.join(TIERS)}")
    if supported and not desktop_models:
        raise _bad(path, "desktop.models", "is empty but desktop.supported is true",
                   'list Claude-shaped ids: models = [{ id = "claude-opus-4-5", label = "..." }]')
    return Template(
        id=tid,
        name=_str(path, "name", data.get("name", tid)),
        description=_str(path, "description", data.get("description", "")),
        base_url=base_url,
        auth=auth,
        source=path,
        builtin=builtin,
        key_shape=key_shape,
        key_url=_str(path, "key_url", data["key_url"]) if "key_url" in data else None,
        models_path=data.get("models_path"),
        balance_path=data.get("balance_path"),
        regions=regions,
        models=models,
        env=_str_table(path, "env", data.get("env", {}), names=_ENV_NAME),
        desktop_supported=supported,
        desktop_reason=_str(path, "desktop.reason", desktop["reason"]) if "reason" in desktop else None,
        desktop_auth_scheme=scheme,
        desktop_models=desktop_models,
        docs_url=_check_url(path, "docs_url", data["docs_url"]) if "docs_url" in data else None,
        checked=checked,
        legacy=_str_table(path, "legacy", data.get("legacy", {})),
        model_names=model_names,
    )


def _desktop_model(path: Path, index: int, item: Any) -> DesktopModel:
    key = f"desktop.models[{index}]"
    if not isinstance(item, dict):
        raise _bad(path, key, "expected an inline table", '{ id = "claude-opus-4-5", label = "..." }')
    unknown = sorted(set(item) - _DESKTOP_MODEL_KEYS)
    if unknown:
        raise _bad(path, f"{key}.{unknown[0]}", "is not a model key", f"known keys: {', '.join(sorted(_DESKTOP_MODEL_KEYS))}")
    model_id = _str(path, f"{key}.id", item.get("id"))
    if not model_id.startswith("claude-"):
        raise _bad(path, f"{key}.id", f"{model_id!r} is not Claude-shaped", "Claude Desktop accepts only ids starting with claude-")
    tier = item.get("tier")
    if tier is not None and tier not in DESKTOP_TIERS:
        raise _bad(path, f"{key}.tier", f"{tier!r} is not one of {', '.join(DESKTOP_TIERS)}", 'set tier = "opus"')
    s1m = item.get("supports_1m", False)
    if not isinstance(s1m, bool):
        raise _bad(path, f"{key}.supports_1m", "expected true or false", "set supports_1m = true or false")
    return DesktopModel(id=model_id, label=_str(path, f"{key}.label", item.get("label", model_id)), tier=tier, supports_1m=s1m)
