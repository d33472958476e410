"""Profiles: a provider template plus the user's overrides, stored in one TOML file.

The file is edited with tomlkit so the user's comments and layout survive; it is read with the fast
stdlib parser (tomlread) on the paths that run on every shell start. A profile never holds the key: that
lives in the OS keyring under the profile's name (credentials.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsconfig import keysources, paths, tomlread, vocab
from dsconfig.errors import DsconfigError, InvalidFileError, NotFoundError, UsageError
from dsconfig.names import validate_name
from dsconfig.templates import TIERS, Template

SCHEMA_VERSION = 1
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_URL = re.compile(r"^https?://[^\s/?#]+(/\S*)?$")
_PROFILE_KEYS = {"provider", "base_url", "models", "env", "key_source"}

# Kept as names of this module for its importers; defined once in vocab.
TIER_VARIABLES = vocab.TIER_VARIABLES
RESERVED_ENV = vocab.RESERVED_ENV
KEY_VARIABLES = frozenset(vocab.KEY_VARS)


def _encodable(flag: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{flag}: the value is not valid UTF-8 text", "check the terminal's encoding and type it again") from None


def validate_base_url(url: str) -> str:
    from dsconfig import urls

    _encodable("--base-url", url)
    return urls.validate_base_url(url)


def parse_model_option(text: str) -> tuple[str, str]:
    """`--model TIER=MODEL` as (tier, model). Raises UsageError (exit 2) for another form or an unknown tier."""
    _encodable("--model", text)
    tier, sep, model = text.partition("=")
    if not sep or tier not in TIERS or not model.strip() or "\0" in model:
        raise UsageError(f"--model {text!r}: expected TIER=MODEL", f"tiers: {', '.join(TIERS)}; e.g. --model haiku=deepseek-flash")
    return tier, model.strip()


def parse_env_option(text: str) -> tuple[str, str]:
    """`--env KEY=VALUE` as (name, value). Raises UsageError (exit 2) for another form, a variable dsconfig sets itself, or a key in plain text."""
    _encodable("--env", text)
    name, sep, value = text.partition("=")
    if not sep or not _ENV_NAME.fullmatch(name):
        raise UsageError(f"--env {text.split('=')[0]!r}: expected KEY=VALUE with a valid variable name", "e.g. --env API_TIMEOUT_MS=600000")
    if name in RESERVED_ENV:
        raise UsageError(f"--env {name} is set by dsconfig itself", "use --base-url or --model TIER=MODEL; keys go in the keyring")
    if name in KEY_VARIABLES and value:
        # Only "must be empty" is allowed (as OpenRouter wants): a key here would sit in plain text.
        raise UsageError(f"--env {name}=... would store a key in plain text", f"store keys with `dsconfig key set NAME`; --env {name}= (empty) is allowed")
    if "\0" in value:
        raise UsageError(f"--env {name}: the value contains a NUL character", "remove it")
    return name, value


@dataclass(frozen=True)
class Profile:
    """What the user chose: a provider template id and overrides. `None`/empty means the template's value."""

    name: str
    provider: str
    base_url: str | None = None
    models: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    # Where `key get` finds the key; written to the file only when not the default (older files stay valid).
    key_source: keysources.KeySource = keysources.DEFAULT


@dataclass(frozen=True)
class Resolved:
    """A profile with its template applied: the values every target writes."""

    profile: Profile
    template: Template
    base_url: str
    models: Mapping[str, str]
    env: Mapping[str, str]

    @property
    def name(self) -> str:
        return self.profile.name

    def tier_models(self) -> dict[str, str | None]:
        """Every tier in vocab -> its model, or None when neither the profile nor the template names one.

        None tells `use` to remove (or blank) the tier variable and its companions, so no other setup's
        model survives there. `models` already holds the fallbacks (fable = opus, see `resolve`)."""
        return {tier: self.models.get(tier) or None for tier in TIERS}

    def tier_names(self) -> dict[str, str | None]:
        """Every tier in vocab -> the template's display name for its model (for a `_NAME` companion), or None.

        A name is only given while the tier still uses the template's own model for that tier: after
        `--model opus=other`, the template's label would name the wrong model."""
        out: dict[str, str | None] = {}
        for tier in TIERS:
            label = self.template.model_names.get(tier)
            model = self.models.get(tier)
            out[tier] = label if label and model and model == _template_model(self.template, tier) else None
        return out

    def model_variables(self) -> dict[str, str | None]:
        """Every tier variable and companion in vocab -> the value `use` writes, None for "remove it".

        Tier variables get the tier's model; `_NAME` companions the template's display name (None without
        one); `_DESCRIPTION` and `_SUPPORTED_CAPABILITIES` None: no template defines them. Which companions
        Claude Code honours with a custom base URL is the caller's decision (the target module)."""
        models, names = self.tier_models(), self.tier_names()
        out: dict[str, str | None] = {}
        for tier in vocab.TIERS:
            out[tier.variable] = models[tier.name]
            for companion in tier.companions:
                out[companion] = names[tier.name] if companion == tier.name_variable else None
        return out

    def claude_env(self) -> dict[str, str]:
        """The `env` entries Claude Code needs, key excluded (it comes from apiKeyHelper or the caller).

        Only tiers with a model appear; `model_variables()` says what to remove for the others."""
        out = {vocab.BASE_URL_VAR: self.base_url}
        for tier, model in self.tier_models().items():
            if model:
                out[TIER_VARIABLES[tier]] = model
        out.update(self.env)
        return out

    def process_env(self, key: str) -> dict[str, str | None]:
        """Variables for a process (a shell, the SDKs, `claude` run by `dsconfig exec`), key included.

        The key goes into exactly one variable, and the other is unset: with both set, the anthropic SDK warns
        on every run ("both set, using ANTHROPIC_API_KEY"). `ANTHROPIC_API_KEY` (sent as `x-api-key`) when the
        provider accepts it, which is what the SDK reads first and what DeepSeek's SDK page documents;
        `ANTHROPIC_AUTH_TOKEN` (sent as `Authorization: Bearer`) for a provider that takes Bearer only. Claude
        Code started from such a shell is not affected where `dsconfig use` applied a profile (its settings set
        both variables to "", which beats the environment), and `dsconfig exec` blanks them for `claude`.
        None means "unset this variable".
        """
        out: dict[str, str | None] = {"ANTHROPIC_BASE_URL": self.base_url}
        bearer_only = self.template.auth == "bearer"
        out["ANTHROPIC_AUTH_TOKEN"] = key if bearer_only else None
        out["ANTHROPIC_API_KEY"] = None if bearer_only else key
        for name, value in self.claude_env().items():
            if name != "ANTHROPIC_BASE_URL":
                # An empty template value (openrouter's ANTHROPIC_API_KEY = "") means "must not be set".
                out[name] = value if value != "" else None
        return out

    def distinct_models(self) -> list[str]:
        """Model ids as sent on the wire (Claude Code strips a `[1m]` suffix), each once, in tier order."""
        seen: list[str] = []
        for tier in TIERS:
            model = self.models.get(tier)
            if model:
                wire = strip_context_suffix(model)
                if wire not in seen:
                    seen.append(wire)
        return seen


def strip_context_suffix(model: str) -> str:
    return re.sub(r"\[\w+\]$", "", model)


def _template_model(template: Template, tier: str) -> str | None:
    """The template's model for `tier` (templates.py already filled fable from opus)."""
    return template.models.get(tier) or None


def resolve(profile: Profile, template: Template) -> Resolved:
    """The profile over its template. A tier still empty that has a fallback (fable -> opus) takes the fallback
    tier's resolved model: a gateway template without models plus `--model opus=X` gets X for fable too."""
    models = {**template.models, **profile.models}
    for tier, fallback in vocab.FALLBACK_TIERS.items():
        if not models.get(tier) and models.get(fallback):
            models[tier] = models[fallback]
    return Resolved(
        profile=profile,
        template=template,
        base_url=profile.base_url or template.base_url,
        models=models,
        env={**template.env, **profile.env},
    )


@dataclass(frozen=True)
class ProfileSet:
    profiles: Mapping[str, Profile]
    active: str | None

    def get(self, name: str) -> Profile:
        """Profile `name`. Raises NotFoundError (exit 3) naming the profiles there are."""
        if name not in self.profiles:
            known = ", ".join(self.profiles) or "none yet"
            raise NotFoundError(f"no profile named {name!r}", f"profiles: {known}; create one with `dsconfig profile add {name} --provider deepseek`")
        return self.profiles[name]

    def key_sources(self) -> dict[str, str]:
        """Profile name -> its key source (`env:VAR`...), for every profile whose source is not the keyring."""
        return {p.name: str(p.key_source) for p in self.profiles.values() if p.key_source != keysources.DEFAULT}

    def pick(self, name: str | None) -> Profile:
        """`name`, or the active profile when name is None."""
        if name is not None:
            return self.get(name)
        if self.active and self.active in self.profiles:
            return self.profiles[self.active]
        if not self.profiles:
            raise NotFoundError("no profile yet", "run `dsconfig setup`, or `dsconfig profile add ds --provider deepseek --api-key-stdin`")
        raise NotFoundError("no active profile", f"name one ({', '.join(self.profiles)}) or activate one with `dsconfig use NAME`")


class ProfileStore:
    """The profiles file. Reads are lock-free; every change is lock + tomlkit edit + atomic write."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.profiles_file()

    # -- reading (fast: tomllib) --

    def load(self) -> ProfileSet:
        if not self.path.exists() and not self.path.is_symlink():  # a dangling link is reported by read()
            return ProfileSet({}, None)
        data = tomlread.read(self.path, hint=self._hint())
        return self._parse(data)

    def loads(self, text: str) -> ProfileSet:
        """The profiles of `text` (this file's content, read by the caller), validated as `load` does.

        Raises InvalidFileError naming the file, line and column."""
        return self._parse(tomlread.loads(self.path, text, hint=self._hint()))

    def _hint(self) -> str:
        return f"fix {self.path} by hand (it is plain TOML), or move it away to start over"

    def _parse(self, data: Mapping[str, Any]) -> ProfileSet:
        version = data.get("schema_version", SCHEMA_VERSION)
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise InvalidFileError(
                self.path,
                f"schema_version {version!r} is newer than this dsconfig understands ({SCHEMA_VERSION})",
                "upgrade dsconfig: pip install -U dsconfig",
            )
        unknown = sorted(set(data) - {"schema_version", "active", "profiles"})
        if unknown:
            raise InvalidFileError(self.path, f"unknown key {unknown[0]!r}", "known top-level keys: schema_version, active, profiles")
        table = data.get("profiles", {})
        if not isinstance(table, dict):
            raise InvalidFileError(self.path, "'profiles' must be a table", "write profiles as [profiles.NAME] tables")
        profiles = {name: self._parse_profile(name, item) for name, item in table.items()}
        active = data.get("active")
        if active is not None and not isinstance(active, str):
            raise InvalidFileError(self.path, "'active' must be a string", 'set active = "NAME" or remove the line')
        return ProfileSet(profiles, active or None)

    def _parse_profile(self, name: str, item: Any) -> Profile:
        where = f"profiles.{name}"
        try:
            validate_name(name)
        except UsageError as err:
            raise InvalidFileError(self.path, f"[{where}]: {err.message}", err.hint) from None
        if not isinstance(item, dict):
            raise InvalidFileError(self.path, f"{where} must be a table", f"write it as [{where}]")
        unknown = sorted(set(item) - _PROFILE_KEYS)
        if unknown:
            raise InvalidFileError(self.path, f"{where}: unknown key {unknown[0]!r}", f"known keys: {', '.join(sorted(_PROFILE_KEYS))}")
        provider = item.get("provider")
        if not isinstance(provider, str) or not provider:
            raise InvalidFileError(self.path, f"{where}: 'provider' is missing", f'add provider = "deepseek" under [{where}]')
        base_url = item.get("base_url")
        if isinstance(base_url, str):
            _check_text(self.path, f"{where}.base_url", base_url)
        if base_url is not None and (not isinstance(base_url, str) or not _URL.fullmatch(base_url)):
            raise InvalidFileError(self.path, f"{where}.base_url: {base_url!r} is not an http(s) URL", "give a URL such as https://api.deepseek.com/anthropic")
        models = self._str_table(item.get("models", {}), f"{where}.models")
        bad = sorted(set(models) - set(TIERS))
        if bad:
            raise InvalidFileError(self.path, f"{where}.models.{bad[0]} is not a tier", f"tiers: {', '.join(TIERS)}")
        env = self._str_table(item.get("env", {}), f"{where}.env")
        for var in env:
            if not _ENV_NAME.fullmatch(var):
                raise InvalidFileError(self.path, f"{where}.env: {var!r} is not a variable name", "use letters, digits and _")
        source = keysources.from_file_value(self.path, where, item["key_source"]) if "key_source" in item else keysources.DEFAULT
        return Profile(name=name, provider=provider, base_url=base_url.rstrip("/") if base_url else None, models=models, env=env,
                       key_source=source)

    def _str_table(self, value: Any, where: str) -> dict[str, str]:
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise InvalidFileError(self.path, f"{where} must be a table of strings", f'write it as [{where}] with NAME = "value" lines')
        for name, item in value.items():
            _check_text(self.path, f"{where}.{name}", item)
        return dict(value)

    # -- changing (tomlkit keeps comments) --

    def _edit(self, change: Any) -> ProfileSet:
        """Apply `change` to the file under its lock, keeping the user's comments and layout (tomlkit).

        TOML can say one thing in many forms (dotted keys, inline tables, quoted keys), and tomlkit cannot make
        every edit in every form: added after `profiles.a.x = 1` lines, a new `[profiles.z]` table would swallow
        a's following lines. So the same change is also applied to the plain parsed document, and the text is
        written only if reading it back gives exactly that document; otherwise nothing is written.
        """
        import tomlkit

        from dsconfig import fileio  # writing only: keeps the read path (`dsconfig env`) light

        with fileio.locked(self.path):
            fileio.remove_stale_temp_files(self.path)
            old = fileio.read_bytes(self.path)
            if old is None:
                doc = tomlkit.document()
                doc.add(tomlkit.comment("dsconfig profiles: edit with `dsconfig profile edit` or by hand. No keys here: they live in the OS keyring."))
                doc["schema_version"] = SCHEMA_VERSION
                intended: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
            else:
                # Read exactly as load() does (a byte-order mark is tolerated, and dropped on write).
                text = old.decode("utf-8", "replace").removeprefix("\ufeff")
                intended = tomlread.loads(self.path, text, hint=self._hint())
                self._parse(intended)  # refuse a broken file before editing
                doc = tomlkit.parse(text)
            change(intended)  # the plain document: what the file must mean afterwards
            try:
                change(doc)
                new = tomlkit.dumps(doc)
                written = tomlread.loads(self.path, new, hint=self._hint())
            except DsconfigError:
                raise
            except Exception:  # noqa: BLE001 - tomlkit refusing the edit in this form (inline tables raise)
                written = None
            if written is None or _plain(written) != _plain(intended):
                raise InvalidFileError(
                    self.path,
                    "cannot be changed without changing its meaning: its profiles are written in a TOML form "
                    "dsconfig cannot edit in place (dotted keys or inline tables)",
                    "rewrite each profile as a [profiles.NAME] table (keys on their own lines below it), then run "
                    "again; nothing was written",
                )
            result = self._parse(_plain(intended))
            data = new.encode("utf-8")
            if old is not None and old.startswith(b"\xef\xbb\xbf"):
                data = b"\xef\xbb\xbf" + data  # the user's file, the user's encoding choice
            if data != old:
                fileio.atomic_write(self.path, data)
                # `key get` reads each profile's key source from this index while it matches the file's text
                # (profileindex.py); the text as key get decodes it: without a byte-order mark.
                from dsconfig import profileindex

                profileindex.write(new, result.key_sources(), list(result.profiles), result.active)
        return result

    def add(self, profile: Profile, *, replace_existing: bool = False) -> ProfileSet:
        """Raises DsconfigError when a profile of that name exists (unless `replace_existing`), InvalidFileError when the file cannot be edited without changing its meaning."""
        import tomlkit

        def change(doc: Any) -> None:
            profiles = doc.setdefault("profiles", tomlkit.table(is_super_table=True))
            if profile.name in profiles and not replace_existing:
                raise DsconfigError(f"profile {profile.name!r} already exists", f"change it with `dsconfig profile edit {profile.name} ...`, or remove it first")
            profiles[profile.name] = _profile_table(profile)

        return self._edit(change)

    def update(self, profile: Profile) -> ProfileSet:
        def change(doc: Any) -> None:
            table = _existing(doc, profile.name)
            _merge_into(table, profile)

        return self._edit(change)

    def remove(self, name: str) -> ProfileSet:
        def change(doc: Any) -> None:
            _existing(doc, name)
            del doc["profiles"][name]
            if doc.get("active") == name:
                del doc["active"]

        return self._edit(change)

    def rename(self, old: str, new: str) -> ProfileSet:
        """Raises DsconfigError when `new` exists, NotFoundError when `old` does not, InvalidFileError as `add`."""
        def change(doc: Any) -> None:
            table = _existing(doc, old)
            if new in doc["profiles"]:
                raise DsconfigError(f"profile {new!r} already exists", f"pick another name, or remove it: dsconfig profile rm {new}")
            del doc["profiles"][old]
            doc["profiles"][new] = table
            if doc.get("active") == old:
                doc["active"] = new

        return self._edit(change)

    def set_active(self, name: str | None) -> ProfileSet:
        def change(doc: Any) -> None:
            if name is None:
                if "active" in doc:
                    del doc["active"]
                return
            _existing(doc, name)
            # tomlkit places a new plain key before the first table, so `active` lands near the top.
            doc["active"] = name

        return self._edit(change)


def _plain(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A document as nested plain dicts, for comparison; an empty `profiles` table and none mean the same."""
    out = {k: _plain(v) if isinstance(v, Mapping) else v for k, v in doc.items()}
    if out.get("profiles") == {}:
        del out["profiles"]
    return out


def _check_text(path: Path, where: str, value: str) -> None:
    """A NUL cannot reach an environment variable or an argument; refuse it where the file is read."""
    if "\0" in value:
        raise InvalidFileError(path, f"{where} contains a NUL character", "remove it (a \\u0000 escape) from the file")


def _existing(doc: Any, name: str) -> Any:
    profiles = doc.get("profiles")
    if profiles is None or name not in profiles:
        raise NotFoundError(f"no profile named {name!r}", "see `dsconfig profile list`")
    return profiles[name]


def _profile_table(profile: Profile) -> Any:
    import tomlkit

    table = tomlkit.table()
    _merge_into(table, profile)
    return table


def _merge_into(table: Any, profile: Profile) -> None:
    import tomlkit

    table["provider"] = profile.provider
    if profile.base_url is not None:
        table["base_url"] = profile.base_url
    elif "base_url" in table:
        del table["base_url"]
    if profile.key_source != keysources.DEFAULT:
        if table.get("key_source") != str(profile.key_source):
            table["key_source"] = str(profile.key_source)
    elif "key_source" in table:
        del table["key_source"]
    for key, values in (("models", profile.models), ("env", profile.env)):
        if values:
            sub = table.get(key)
            if sub is None:
                sub = tomlkit.table()
                table[key] = sub
            for name in [n for n in sub if n not in values]:
                del sub[name]
            for name, value in values.items():
                if sub.get(name) != value:
                    sub[name] = value
        elif key in table:
            del table[key]
