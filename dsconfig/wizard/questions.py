"""The questions of `dsconfig setup`, as data: each with its id, kind, text and the flag that answers it (named
in the error without a terminal), and the checks of typed answers. The README's flag table is this table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from dsconfig.credentials import normalize_key
from dsconfig.errors import UsageError
from dsconfig.profiles import TIER_VARIABLES, validate_base_url
from dsconfig.templates import TIERS, Template

Kind = Literal["confirm", "select", "text", "secret", "checkbox"]


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    checked: bool = False  # checkbox preselection


@dataclass(frozen=True)
class Question:
    """One question. `flag` is what answers it on the command line (named in the error without a terminal)."""

    id: str
    kind: Kind
    message: str
    flag: str
    default: Any = None  # None: no default (--yes cannot answer it)
    choices: tuple[Choice, ...] = ()
    instruction: str | None = None
    validate: Callable[[Any], str | None] | None = field(default=None, compare=False)

    def choice_label(self, value: Any) -> str:
        return next((c.label for c in self.choices if c.value == value), str(value))


QUESTIONS: Mapping[str, Question] = {q.id: q for q in (
    Question("adopt", "confirm", "Adopt this setup as a dsconfig profile (the key moves into the OS keyring)?",
             "--adopt / --no-adopt"),
    Question("provider", "select", "Provider", "--provider ID"),
    Question("profile", "text", "Profile name", "--profile NAME"),
    Question("base_url", "text", "Base URL of the Anthropic-compatible endpoint", "--base-url URL"),
    Question("region", "select", "Endpoint", "--base-url URL"),
    Question("key_source", "select", "Where should the key live?", "--key-source keyring|env:VAR|command:CMD|kernel"),
    Question("key_source.env", "text", "Environment variable that will hold the key", "--key-source env:VAR"),
    Question("key_source.command", "text", "Command that prints the key (e.g. pass show deepseek)", "--key-source command:CMD"),
    Question("key", "secret", "API key (input hidden)", "--api-key-stdin"),
    Question("verify_failed", "select", "The test call failed. What now?", "--no-verify"),
    Question("models", "select", "Models", "--model TIER=MODEL"),
    *(Question(f"model.{tier}", "text", f"Model for {tier} ({TIER_VARIABLES[tier]})", f"--model {tier}=MODEL")
      for tier in TIERS),
    Question("targets", "checkbox", "Configure", "--target claude-code|claude-desktop|shell"),
    Question("scope", "select", "Claude Code settings for", "--scope user|project"),
    Question("confirm", "confirm", "Write these changes?", "--yes"),
)}


def question(qid: str, **values: Any) -> Question:
    """The question `qid` with this run's defaults and choices filled in."""
    return replace(QUESTIONS[qid], **values)


def name_problem(value: Any) -> str | None:
    from dsconfig.names import validate_name

    try:
        validate_name(str(value))
    except UsageError as err:
        return err.message
    return None


def url_problem(value: Any) -> str | None:
    try:
        validate_base_url(str(value))
    except UsageError as err:
        return err.message
    return None


def source_problem(kind: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        from dsconfig.keysources import parse

        try:
            parse(f"{kind}:{value}")
        except UsageError as err:
            return err.message.removeprefix("--key-source ")
        return None

    return check


def shape_words(t: Template) -> str:
    """The template's key_shape in words: `^sk-[0-9a-f]{32}$` is "DeepSeek keys look like sk- and 32 hex
    characters"; a plain `^prefix` is "... start with prefix". Never the regular expression itself."""
    import re

    shape = t.key_shape or ""
    exact = re.fullmatch(r"\^([A-Za-z0-9_-]*)\[0-9a-f\]\{(\d+)\}\$", shape)
    if exact:
        return f"{t.name} keys look like {exact[1]} and {exact[2]} hex characters"
    prefix = re.fullmatch(r"\^([A-Za-z0-9_-]+)", shape)
    if prefix:
        return f"{t.name} keys start with {prefix[1]}"
    return f"it does not have the shape of {t.name}'s keys"


def key_problem(value: Any) -> str | None:
    try:
        normalize_key(str(value))
    except UsageError as err:
        return err.message
    return None
