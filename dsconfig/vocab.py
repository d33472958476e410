"""Claude Code's vocabulary, defined once: variable names, model tiers, their companions, target ids.

Every name here is a string Claude Code 2.1.332 reads (all of them occur in its binary) or an id dsconfig
itself uses; the source is the pinned binary (tests/fakes/claude.py installs it) and Claude Code's documented
model tiers, behaviour variables and credential precedence. Modules spell
none of these as literals: they import them from here, so a tier Claude Code adds is one line in `TIERS`.

Import cost matters (`dsconfig env` and `key get` run at every shell and Claude Code start): this module imports
nothing but collections' namedtuple (dataclasses would pull in inspect, ~10 ms).
"""

from __future__ import annotations

from collections import namedtuple

# --- targets ------------------------------------------------------------------------------------------------

TARGET_CLAUDE_CODE = "claude-code"
"""The `claude` CLI: settings files' `env` block, apiKeyHelper, ~/.claude.json."""
TARGET_CLAUDE_DESKTOP = "claude-desktop"
"""Claude Desktop's third-party inference config library (TARGETS.md section 3)."""
TARGET_SHELL = "shell"
"""Variables exported into a shell (`dsconfig env`)."""
TARGETS = (TARGET_CLAUDE_CODE, TARGET_CLAUDE_DESKTOP, TARGET_SHELL)
"""Every target id, in the order the wizard offers them."""

# --- endpoint and key ---------------------------------------------------------------------------------------

BASE_URL_VAR = "ANTHROPIC_BASE_URL"
"""Where Claude Code sends requests; it appends /v1/messages itself (TARGETS.md section 1)."""
AUTH_TOKEN_VAR = "ANTHROPIC_AUTH_TOKEN"
"""Sent as `Authorization: Bearer`; beats ANTHROPIC_API_KEY and apiKeyHelper (TARGETS.md section 2)."""
API_KEY_VAR = "ANTHROPIC_API_KEY"
"""Sent as `x-api-key`; interactive sessions ask once to approve it (TARGETS.md section 2)."""
KEY_VARS = (AUTH_TOKEN_VAR, API_KEY_VAR)
"""The variables that carry a key, highest precedence first."""
HEADERS_VAR = "ANTHROPIC_CUSTOM_HEADERS"
"""Extra request headers, one `Name: value` per line; a header may carry a credential (`Authorization`)."""

# --- model tiers --------------------------------------------------------------------------------------------

COMPANION_SUFFIXES = ("_NAME", "_DESCRIPTION", "_SUPPORTED_CAPABILITIES")
"""Each `ANTHROPIC_DEFAULT_<TIER>_MODEL` (and ANTHROPIC_CUSTOM_MODEL_OPTION) has these companions in 2.1.332:
the label and description the `/model` picker shows, and the capabilities (`effort`, `max_effort`,
`thinking`, ...) Claude Code assumes the model has (TARGETS.md section 2, "Model tiers")."""


class Tier(namedtuple("Tier", ["name", "variable", "has_companions"], defaults=(False,))):
    """One model tier: the name used in `--model TIER=MODEL` and in templates, and Claude Code's variable.
    Immutable and comparable (a named tuple)."""

    __slots__ = ()
    name: str
    variable: str
    has_companions: bool

    @property
    def companions(self) -> tuple[str, ...]:
        """`<variable>_NAME`, `_DESCRIPTION`, `_SUPPORTED_CAPABILITIES` (none for main and subagent)."""
        return tuple(self.variable + suffix for suffix in COMPANION_SUFFIXES) if self.has_companions else ()

    @property
    def name_variable(self) -> str | None:
        """The companion holding the `/model` picker's label, or None for a tier without companions."""
        return self.variable + "_NAME" if self.has_companions else None

    @property
    def variables(self) -> tuple[str, ...]:
        """The tier variable and its companions: what `use` sets or removes together."""
        return (self.variable, *self.companions)


MAIN = Tier("main", "ANTHROPIC_MODEL")
"""The model a session starts on; also the sub-agent model unless CLAUDE_CODE_SUBAGENT_MODEL is set."""
OPUS = Tier("opus", "ANTHROPIC_DEFAULT_OPUS_MODEL", has_companions=True)
SONNET = Tier("sonnet", "ANTHROPIC_DEFAULT_SONNET_MODEL", has_companions=True)
HAIKU = Tier("haiku", "ANTHROPIC_DEFAULT_HAIKU_MODEL", has_companions=True)
"""Also used for background tasks (TARGETS.md section 2)."""
FABLE = Tier("fable", "ANTHROPIC_DEFAULT_FABLE_MODEL", has_companions=True)
"""The fifth tier of 2.1.332 (`claude --model fable`)."""
SUBAGENT = Tier("subagent", "CLAUDE_CODE_SUBAGENT_MODEL")

TIERS = (MAIN, OPUS, SONNET, HAIKU, FABLE, SUBAGENT)
"""Every tier, in the order profiles, templates and the wizard list them."""
TIER_NAMES = tuple(t.name for t in TIERS)
"""("main", "opus", "sonnet", "haiku", "fable", "subagent")"""
TIER_BY_NAME = {t.name: t for t in TIERS}
TIER_VARIABLES = {t.name: t.variable for t in TIERS}
"""Tier name -> Claude Code variable."""
FAMILY_TIERS = tuple(t.name for t in TIERS if t.has_companions)
"""The `ANTHROPIC_DEFAULT_<TIER>_MODEL` tiers, those `claude --model <tier>` selects."""
FALLBACK_TIERS = {FABLE.name: OPUS.name}
"""A template that names no model for the key tier gets the value tier's model (issue 13: fable = opus)."""
TIER_MODEL_VARS = tuple(t.variable for t in TIERS)
"""Every tier variable, companions excluded."""
TIER_COMPANION_VARS = tuple(c for t in TIERS for c in t.companions)
"""Every tier companion (`ANTHROPIC_DEFAULT_OPUS_MODEL_NAME`, ...)."""

# --- other model-choosing variables -------------------------------------------------------------------------

DEFAULT_MODEL_VAR = "ANTHROPIC_DEFAULT_MODEL"
"""The model new sessions start on when no settings file sets `model` (2.1.332 binary)."""
CUSTOM_MODEL_OPTION_VAR = "ANTHROPIC_CUSTOM_MODEL_OPTION"
"""One extra `/model` entry (2.1.332 binary)."""
CUSTOM_MODEL_OPTION_VARS = (CUSTOM_MODEL_OPTION_VAR, *(CUSTOM_MODEL_OPTION_VAR + s for s in COMPANION_SUFFIXES))
"""The custom option and its companions."""
GATEWAY_MODEL_DISCOVERY_VAR = "CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY"
"""`1` fills `/model` from the gateway's /v1/models (2.1.332 binary)."""
SMALL_FAST_MODEL_VAR = "ANTHROPIC_SMALL_FAST_MODEL"
"""Deprecated for ANTHROPIC_DEFAULT_HAIKU_MODEL, still read (TARGETS.md section 2)."""

MODEL_VARS = (*TIER_MODEL_VARS, *TIER_COMPANION_VARS, DEFAULT_MODEL_VAR, *CUSTOM_MODEL_OPTION_VARS,
              GATEWAY_MODEL_DISCOVERY_VAR, SMALL_FAST_MODEL_VAR)
"""Every variable that decides which model Claude Code sends or offers. `use` owns all of them: it sets those
the profile defines and removes (or blanks) the rest, so nothing of another setup survives."""

STALE_VARS = (SMALL_FAST_MODEL_VAR, *TIER_COMPANION_VARS, DEFAULT_MODEL_VAR, *CUSTOM_MODEL_OPTION_VARS,
              GATEWAY_MODEL_DISCOVERY_VAR)
"""Variables another switcher may leave behind that no dsconfig profile sets today: each one left in place
makes Claude Code offer or send another provider's model (issue 13: a Kimi label in
ANTHROPIC_DEFAULT_SONNET_MODEL_NAME). Tier variables are not listed: whether they are stale depends on the
profile (see `MODEL_VARS`)."""

# --- behaviour and routing ----------------------------------------------------------------------------------

EFFORT_LEVEL_VAR = "CLAUDE_CODE_EFFORT_LEVEL"
AUTO_COMPACT_WINDOW_VAR = "CLAUDE_CODE_AUTO_COMPACT_WINDOW"
MAX_RETRIES_VAR = "CLAUDE_CODE_MAX_RETRIES"
DISABLE_NONESSENTIAL_TRAFFIC_VAR = "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"
API_TIMEOUT_VAR = "API_TIMEOUT_MS"
CLOUD_VARS = (
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_USE_FOUNDRY",
    "CLAUDE_CODE_USE_ANTHROPIC_AWS",
    "CLAUDE_CODE_USE_ANTHROPIC_GOOGLE_CLOUD",
    "CLAUDE_CODE_USE_MANTLE",
)
"""Any of these set to a true value sends Claude Code to a cloud provider whatever the base URL says
(TARGETS.md section 2, "Credential precedence": cloud provider vars first; names from the 2.1.332 binary)."""

RESERVED_ENV = frozenset({BASE_URL_VAR, AUTH_TOKEN_VAR, *TIER_MODEL_VARS})
"""Variables a profile's extra `env` may not set: the endpoint has `base_url`, the key has its own store,
and tier models go through `--model TIER=MODEL` so one place decides them. (Companions and the other
model variables stay settable with `--env`, e.g. CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY=1.)"""
