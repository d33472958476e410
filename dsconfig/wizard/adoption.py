"""Adopting what a hand-made setup (or another switcher) left: finding it in Claude Code's user settings or the
exported environment, matching its endpoint to a provider template, and, once adopted, scrubbing its plain-text
key from dsconfig's older backups."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dsconfig import vocab
from dsconfig.credentials import mask
from dsconfig.errors import DsconfigError
from dsconfig.keypaths import ABSENT, KeyPath, get_at, set_at
from dsconfig.profiles import TIER_VARIABLES, ProfileSet, resolve
from dsconfig.targets.context import TargetContext
from dsconfig.templates import Template

KEY_VARS = vocab.KEY_VARS
STALE_HAIKU_VAR = vocab.SMALL_FAST_MODEL_VAR


@dataclass(frozen=True)
class Adoptable:
    """What a hand-made setup (or another switcher) left: where, which endpoint, key and models."""

    source: str  # a file path, or "environment"
    path: Path | None  # the settings file, None for the environment
    base_url: str | None
    key: str | None = field(repr=False)
    key_vars: tuple[str, ...]
    models: Mapping[str, str]
    env: Mapping[str, str]

    def describe(self) -> str:
        parts = [f"base URL {self.base_url}" if self.base_url else "no base URL (Anthropic's API)"]
        if self.key:
            parts.append(f"key {mask(self.key)} in plain text ({', '.join(self.key_vars)})")
        if self.models:
            parts.append("models " + ", ".join(f"{t}={m}" for t, m in self.models.items()))
        return f"found a setup not made by dsconfig in {self.source}: " + "; ".join(parts)


def _settings_env(path: Path) -> dict[str, str]:
    from dsconfig.targets import claude_code

    layer = claude_code.read_layer("user", path)
    return layer.env


def _written_by_dsconfig(path: Path, var: str, value: str, tctx: TargetContext) -> bool:
    record = tctx.journal.get(path)
    if record is None:
        return False
    key = record.key(("env", var))
    return key is not None and key.wrote == value


def _adoptable_from(source: str, path: Path | None, env: Mapping[str, str]) -> Adoptable | None:
    base = env.get("ANTHROPIC_BASE_URL") or None
    key_vars = tuple(v for v in KEY_VARS if env.get(v))
    if not base and not key_vars:
        return None
    models = {tier: env[var] for tier, var in TIER_VARIABLES.items() if env.get(var)}
    if "haiku" not in models and env.get(STALE_HAIKU_VAR):
        models["haiku"] = env[STALE_HAIKU_VAR]  # the deprecated name other switchers still write
    return Adoptable(source, path, base, env[key_vars[0]] if key_vars else None, key_vars, models, dict(env))


def find_adoptable(tctx: TargetContext, profiles: ProfileSet) -> Adoptable | None:
    """A hand-made setup: Claude Code's user settings first (an inline key, or a base URL dsconfig did not
    write), else the exported environment (unless it is a profile's own, e.g. from `dsconfig env`)."""
    from dsconfig.targets import claude_code

    path = claude_code.settings_file(tctx, "user")
    env = _settings_env(path)
    has_key = any(env.get(v) for v in KEY_VARS)
    base = env.get("ANTHROPIC_BASE_URL")
    if has_key or (base and not _written_by_dsconfig(path, "ANTHROPIC_BASE_URL", base, tctx)):
        return _adoptable_from(str(path), path, env)
    exported = {k: v for k, v in tctx.environ.items() if k.startswith(("ANTHROPIC_", "CLAUDE_CODE_"))}
    found = _adoptable_from("environment", None, exported)
    if found is None or _belongs_to_profile(found, profiles):
        return None
    return found


def _belongs_to_profile(found: Adoptable, profiles: ProfileSet) -> bool:
    from dsconfig.templates import load_template

    for profile in profiles.profiles.values():
        try:
            if resolve(profile, load_template(profile.provider)).base_url == (found.base_url or "").rstrip("/"):
                return True
        except DsconfigError:
            continue
    return False


def same_url(a: str, b: str) -> bool:
    x, y = urlsplit(a.rstrip("/")), urlsplit(b.rstrip("/"))
    return (x.scheme.lower(), x.netloc.lower(), x.path) == (y.scheme.lower(), y.netloc.lower(), y.path)


def guess_provider(base_url: str | None, templates: Mapping[str, Template]) -> tuple[str, str | None]:
    """(template id, base URL override) for an endpoint: a template's URL or region, else `custom` with it.
    No base URL means Claude Code talks to Anthropic's own API."""
    if not base_url:
        return ("anthropic", None) if "anthropic" in templates else ("custom", None)
    for t in ordered(templates):
        if t.id == "custom":
            continue
        if same_url(base_url, t.base_url):
            return t.id, None
        for url in t.regions.values():
            if same_url(base_url, url):
                return t.id, url
    return "custom", base_url.rstrip("/")


def ordered(templates: Mapping[str, Template]) -> list[Template]:
    """The order `dsconfig providers` lists them in (templates.PROVIDER_ORDER; the user's own after)."""
    from dsconfig.templates import provider_sort_key

    return sorted(templates.values(), key=provider_sort_key)


def scrub_old_backups(key: str, key_paths: Sequence[KeyPath]) -> None:
    """Backups of earlier `use`/`off` rounds stay in the backups folder after `off` dropped their journal record;
    one made while the inline key was in the file still holds it. Rewrite those without the key's entries."""
    from dsconfig import fileio, jsonfile, paths

    folder = paths.backups_dir()
    for backup in sorted(folder.iterdir()) if folder.is_dir() else []:
        data = fileio.read_bytes(backup)
        if data is None or key.encode() not in data:
            continue
        try:
            doc = jsonfile.parse_json_object(backup, data, what="backup")
        except DsconfigError:
            continue  # not a JSON backup: leave it (and its owner) alone
        scrubbed = copy.deepcopy(doc)
        for kpath in key_paths:
            if get_at(scrubbed, kpath) == key:
                set_at(scrubbed, kpath, ABSENT, [])
        # The splice keeps every other member's text: a dump would write a 1e999 as `Infinity` (not JSON).
        fileio.atomic_write(backup, jsonfile.rewrite(backup, data, doc, scrubbed), mode=0o600)
