"""Drift: when what a profile names no longer matches what the provider offers, or what is applied.

Two comparisons, both pure (data in, findings out; nothing here does I/O or prints):

- `model_drift(resolved, listed)`: the profile's models against the provider's model list (verify reads it:
  DeepSeek's `GET /models` on the host root). A model the list does not name is reported with the listed
  ones and the `dsconfig profile edit NAME --model TIER=MODEL` that fixes it; a model the template's
  `[legacy]` table names (still accepted, documented as retired) is a warning naming its replacement.
- `settings_drift(applied_env, resolved)`: the `env` values applied in a settings file against what the
  profile resolves to now (after an upgrade changed a template, or `profile edit` without `use`), with the one
  command that refreshes it, `dsconfig use NAME`.

`suggest_model` is shared by both and by verify's "model not offered" failure, so every fix names the same
replacement: the template's legacy replacement, else the template's own model for that tier when the provider
lists it, else the closest listed name.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from dsconfig import vocab
from dsconfig.profiles import Resolved, strip_context_suffix

NOT_LISTED = "not_listed"
LEGACY = "legacy"


def _wire(model: str) -> str:
    return strip_context_suffix(model)


def tiers_using(resolved: Resolved, wire_model: str) -> tuple[str, ...]:
    """The tiers whose model is `wire_model` once Claude Code strips the `[1m]` suffix, in vocab order."""
    return tuple(t for t, m in resolved.tier_models().items() if m and _wire(m) == wire_model)


def suggest_model(resolved: Resolved, tier: str, wire_model: str, listed: Sequence[str] | None) -> str | None:
    """The model to use instead of `wire_model` for `tier`, as it would be written in the profile (a template
    model keeps its `[1m]` suffix), or None when nothing better is known.

    Order: the template's `[legacy]` replacement (trusted even without a list: the provider documents it), the
    template's own model for the tier when the provider lists it (or no list is known), the closest listed
    name, the first listed name."""
    template = resolved.template
    replacement = template.legacy.get(wire_model)
    if replacement and (listed is None or _wire(replacement) in listed):
        own = template.models.get(tier)
        # Keep the template's `[1m]` when the replacement is that tier's own model.
        return own if own and _wire(own) == _wire(replacement) else replacement
    own = template.models.get(tier)
    if own and _wire(own) != wire_model and (listed is None or _wire(own) in listed):
        return own
    if not listed:
        return None
    candidates = [m for m in listed if m != wire_model]
    if not candidates:
        return None
    close = difflib.get_close_matches(wire_model, candidates, n=1, cutoff=0.6)
    return close[0] if close else candidates[0]


def fix_command(profile: str, changes: Mapping[str, str]) -> str:
    """`dsconfig profile edit NAME --model TIER=MODEL ...`; a model with `[1m]` is quoted for the shell."""
    parts = [f"dsconfig profile edit {profile}"]
    for tier, model in changes.items():
        arg = f"{tier}={model}"
        parts.append(f"--model '{arg}'" if re.search(r"[^\w.=/:@+-]", arg) else f"--model {arg}")
    return " ".join(parts)


class ModelDriftJSON(TypedDict):
    """One model drift in `verify --json` (`model_list.drift`) and `doctor --json`."""

    kind: str
    model: str
    tiers: list[str]
    replacement: str | None
    listed: list[str]
    message: str
    fix: str | None


class DifferenceJSON(TypedDict):
    variable: str
    applied: str | None
    wanted: str | None


class LagJSON(TypedDict):
    """Settings that lag their profile, in `status --json` (`applied_lag`, with the file's `path` and `scope`
    added there) and doctor's `applied-lag`."""

    profile: str
    differences: list[DifferenceJSON]
    message: str
    fix: str


class AppliedLagJSON(LagJSON):
    path: str
    scope: str


@dataclass(frozen=True)
class ModelDrift:
    """One profile model the provider's list does not confirm."""

    kind: str
    """NOT_LISTED (the provider does not list it) or LEGACY (listed as retired in the template)."""
    model: str
    """The id as sent on the wire (`[1m]` stripped)."""
    tiers: tuple[str, ...]
    replacement: str | None
    listed: tuple[str, ...]
    fix: str | None
    """The command that moves every affected tier to the replacement, or None when none is known."""

    @property
    def message(self) -> str:
        used = f"used by {', '.join(self.tiers)}"
        if self.kind == LEGACY:
            text = f"model {self.model!r} ({used}) is a legacy name: the provider still accepts it but has retired its model"
            if self.replacement:
                text += f"; use {self.replacement!r}"
            return text
        have = f"; the provider lists: {', '.join(self.listed)}" if self.listed else "; the provider lists no models"
        return f"model {self.model!r} ({used}) is not on the provider's model list{have}"

    def to_doc(self) -> ModelDriftJSON:
        return {
            "kind": self.kind,
            "model": self.model,
            "tiers": list(self.tiers),
            "replacement": self.replacement,
            "listed": list(self.listed),
            "message": self.message,
            "fix": self.fix,
        }


def model_drift(resolved: Resolved, listed: Sequence[str]) -> list[ModelDrift]:
    """Every distinct model of the profile that is legacy or not on `listed`, in tier order.

    A legacy name is reported as LEGACY even when the provider still lists it. Names the provider maps
    rather than lists (DeepSeek maps `claude-*`) are reported as NOT_LISTED too: the caller, which knows
    whether the name was answered, decides whether that is a problem."""
    known = tuple(listed)
    out: list[ModelDrift] = []
    for model in resolved.distinct_models():
        legacy = model in resolved.template.legacy
        if not legacy and model in known:
            continue
        tiers = tiers_using(resolved, model)
        changes: dict[str, str] = {}
        for tier in tiers:
            suggestion = suggest_model(resolved, tier, model, known or None)
            if suggestion:
                changes[tier] = suggestion
        replacement = next(iter(changes.values()), None)
        out.append(ModelDrift(
            kind=LEGACY if legacy else NOT_LISTED,
            model=model,
            tiers=tiers,
            replacement=replacement,
            listed=known,
            fix=fix_command(resolved.name, changes) if changes else None,
        ))
    return out


def not_offered(resolved: Resolved, wire_model: str, listed: Sequence[str] | None) -> tuple[str, str]:
    """(message, fix) for a model the provider refused (HTTP 400 "model not offered")."""
    tiers = tiers_using(resolved, wire_model) or ("main",)
    changes = {t: s for t in tiers if (s := suggest_model(resolved, t, wire_model, listed))}
    have = f"; the provider has: {', '.join(listed)}" if listed else ""
    message = f"model not offered: the provider does not know model {wire_model!r} (used by {', '.join(tiers)}){have}"
    if changes and len(changes) == len(tiers):
        return message, fix_command(resolved.name, changes)
    placeholder = {t: changes.get(t, "MODEL") for t in tiers}
    return message, fix_command(resolved.name, placeholder) + " (MODEL: a name from the provider's model list)"


# --- applied settings against the profile -------------------------------------------------------------------


@dataclass(frozen=True)
class SettingDifference:
    variable: str
    applied: str | None
    """The value in the settings file (None: absent)."""
    wanted: str | None
    """What the profile resolves to now (None: it should be absent or blank)."""

    def describe(self) -> str:
        def shown(value: str | None) -> str:
            return "(not set)" if value is None else repr(value)

        return f"{self.variable}: applied {shown(self.applied)}, profile now {shown(self.wanted)}"


@dataclass(frozen=True)
class SettingsDrift:
    profile: str
    differences: tuple[SettingDifference, ...]

    @property
    def fix(self) -> str:
        return f"dsconfig use {self.profile}"

    @property
    def message(self) -> str:
        names = ", ".join(d.variable for d in self.differences)
        return f"the applied settings lag profile {self.profile!r} ({names})"

    def to_doc(self) -> LagJSON:
        return {
            "profile": self.profile,
            "differences": [{"variable": d.variable, "applied": d.applied, "wanted": d.wanted} for d in self.differences],
            "message": self.message,
            "fix": self.fix,
        }


_COMPANIONS = frozenset(vocab.TIER_COMPANION_VARS)
_SKIP = frozenset(vocab.KEY_VARS)
"""The key is not compared: it lives in the keyring (apiKeyHelper) or inline, and is never shown."""


def settings_drift(applied_env: Mapping[str, Any], resolved: Resolved) -> SettingsDrift | None:
    """Compare the `env` block applied in a settings file with what `resolved` would write now.

    Checked: the base URL, every tier variable in vocab (a tier the profile does not define must be absent or
    blank), every companion that is set (another setup's label must not survive), and every extra variable of
    the profile/template env. Other variables of the
    file are the user's and are not compared. The key variables are skipped. None when nothing differs.
    """
    wanted: dict[str, str | None] = {vocab.BASE_URL_VAR: resolved.base_url}
    wanted.update(resolved.model_variables())
    for name, value in resolved.env.items():
        # An empty template value (openrouter's ANTHROPIC_API_KEY = "") means "blank": treat as unset.
        wanted[name] = value if value != "" else None
    diffs: list[SettingDifference] = []
    for name, want in wanted.items():
        if name in _SKIP:
            continue
        raw = applied_env.get(name)
        have = raw if isinstance(raw, str) else (None if raw is None else str(raw))
        if (have or None) == (want or None):
            continue
        if name in _COMPANIONS and not have:
            # Whether `use` writes a display name is the target's choice: only a label that is there and
            # wrong (another setup's) is drift, a missing one is not.
            continue
        diffs.append(SettingDifference(name, have, want))
    return SettingsDrift(resolved.name, tuple(diffs)) if diffs else None
