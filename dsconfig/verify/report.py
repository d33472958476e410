"""What `dsconfig verify` found: the result types, their JSON shapes (TypedDicts), the failure classes and the
exit code they give.

Pure data, no I/O, no httpx: `dsconfig doctor --no-verify` and `dsconfig setup --no-verify` import this module
(and render.py) without paying for the HTTP client.

JSON document (`VerifyReport.to_doc()`, printed by `dsconfig verify --json`). Times are whole milliseconds;
the key is only ever shown masked; absent values are null. Every key is always present.

    {"ok", "exit_code", "timeout_s", "elapsed_ms", "profiles": [PROFILE, ...]}
    PROFILE  = {"profile", "provider", "base_url", "key", "key_source", "ok", "exit_code", "elapsed_ms",
                "models": [MESSAGE, ...], "streaming": MESSAGE|null, "tool_use": MESSAGE|null,
                "model_list": LIST|null, "balance": BALANCE|null, "claude": CLAUDE|null,
                "failures": [FAILURE, ...], "warnings": [str, ...]}
               # failures: every failed check, in table order; warnings: plain http to another machine, a
               # legacy model name (with its fix)
               # key_source: where the key came from ('keyring service "dsconfig", user "NAME"',
               # "environment variable VAR", "the output of `CMD`", 'Linux kernel keyring, key "dsconfig:NAME"')
    MESSAGE  = {"check" ("model"|"streaming"|"tool_use"), "model", "tiers", "answered_by", "status",
                "ttft_ms", "total_ms", "input_tokens", "output_tokens", "events", "tool", "listed", "ok",
                "detail", "failure"}
    LIST     = {"url", "status", "total_ms", "models", "missing", "drift": [DRIFT, ...], "ok", "detail", "failure"}
               # DRIFT: drift.ModelDrift.to_doc() (a model the list does not confirm, or a legacy name)
    BALANCE  = {"url", "status", "total_ms", "available", "balances": [{"currency", "total"}], "ok", "detail",
                "failure"}
    CLAUDE   = {"command", "exit_code", "total_ms", "answered", "model", "result", "ok", "detail", "failure"}
               # model: the model Claude Code says it used (its modelUsage key, e.g. "deepseek-v4-pro[1m]")
    FAILURE  = {"check", "class", "message", "hint", "status", "detail", "exit_code"}
               # inside a check, "check" names that check ("model deepseek-v4-pro", "balance", ...)

Exit code precedence when several failures occur (across every checked profile): 6 if any key/credit failure,
else 7 if any network failure, else 1 if any failure, else 0. A key problem comes first because it is certain
and only the user can fix it, while network trouble is often transient or shared by every check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

from dsconfig.drift import ModelDrift, ModelDriftJSON
from dsconfig.errors import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_VERIFY_AUTH,
    EXIT_VERIFY_NETWORK,
    DsconfigError,
    VerifyAuthError,
    VerifyNetworkError,
)

NETWORK_CLASSES = frozenset({"dns", "refused", "tls", "proxy", "timeout", "stall"})
AUTH_CLASSES = frozenset({"auth", "credit", "no_key"})
OTHER_CLASSES = frozenset({
    "forbidden", "not_found", "unknown_model", "bad_request", "rate_limited", "server", "not_anthropic",
    "bad_stream", "no_tool_use", "no_claude", "error",
})
CLASSES = NETWORK_CLASSES | AUTH_CLASSES | OTHER_CLASSES


def exit_code_for(kinds: Sequence[str] | frozenset[str] | set[str]) -> int:
    """The process status for a set of failure classes (precedence: key/credit > network > other)."""
    found = set(kinds)
    if found & AUTH_CLASSES:
        return EXIT_VERIFY_AUTH
    if found & NETWORK_CLASSES:
        return EXIT_VERIFY_NETWORK
    return EXIT_ERROR if found else EXIT_OK


# --- the JSON shapes --------------------------------------------------------------------------------------

# "class" is a keyword: the functional form.
FailureDoc = TypedDict("FailureDoc", {
    "check": "str | None", "class": str, "message": str, "hint": str, "status": "int | None",
    "detail": "str | None", "exit_code": int,
})


class MessageDoc(TypedDict):
    check: str
    model: str
    tiers: list[str]
    answered_by: str | None
    status: int | None
    ttft_ms: int | None
    total_ms: int | None
    input_tokens: int | None
    output_tokens: int | None
    events: int
    tool: str | None
    listed: bool | None
    ok: bool
    detail: str
    failure: FailureDoc | None


class ModelListDoc(TypedDict):
    url: str
    status: int | None
    total_ms: int | None
    models: list[str] | None
    missing: list[str]
    drift: list[ModelDriftJSON]
    ok: bool
    detail: str
    failure: FailureDoc | None


class AmountDoc(TypedDict):
    currency: str
    total: str


class BalanceDoc(TypedDict):
    url: str
    status: int | None
    total_ms: int | None
    available: bool | None
    balances: list[AmountDoc]
    ok: bool
    detail: str
    failure: FailureDoc | None


class ClaudeDoc(TypedDict):
    command: str
    exit_code: int | None
    total_ms: int | None
    answered: bool
    model: str | None
    result: str | None
    ok: bool
    detail: str
    failure: FailureDoc | None


class ProfileDoc(TypedDict):
    profile: str
    provider: str | None
    base_url: str | None
    key: str | None
    key_source: str
    ok: bool
    exit_code: int
    elapsed_ms: int | None
    models: list[MessageDoc]
    streaming: MessageDoc | None
    tool_use: MessageDoc | None
    model_list: ModelListDoc | None
    balance: BalanceDoc | None
    claude: ClaudeDoc | None
    failures: list[FailureDoc]
    warnings: list[str]


class VerifyDoc(TypedDict):
    ok: bool
    exit_code: int
    timeout_s: float
    elapsed_ms: int | None
    profiles: list[ProfileDoc]


# --- the result tree --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """Why a check failed: a class (`kind`), a one-line explanation and the exact fix."""

    kind: str
    message: str
    hint: str
    status: int | None = None
    detail: str | None = None
    """The provider's or the library's own words, shortened and with the key masked."""

    @property
    def exit_code(self) -> int:
        return exit_code_for({self.kind})

    def to_doc(self, check: str | None = None) -> FailureDoc:
        return {
            "check": check,
            "class": self.kind,
            "message": self.message,
            "hint": self.hint,
            "status": self.status,
            "detail": self.detail,
            "exit_code": self.exit_code,
        }


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


@dataclass(frozen=True)
class MessageCheck:
    """One streamed POST /v1/messages: a model check, the streaming check or the tool-use check."""

    check: str
    model: str
    tiers: tuple[str, ...] = ()
    answered_by: str | None = None
    status: int | None = None
    ttft: float | None = None
    total: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    events: int = 0
    tool: str | None = None
    listed: bool | None = None
    detail: str = ""
    failure: Failure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def label(self) -> str:
        return {"model": f"model {self.model}", "streaming": "streaming", "tool_use": "tool use"}[self.check]

    def to_doc(self) -> MessageDoc:
        return {
            "check": self.check,
            "model": self.model,
            "tiers": list(self.tiers),
            "answered_by": self.answered_by,
            "status": self.status,
            "ttft_ms": _ms(self.ttft),
            "total_ms": _ms(self.total),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "events": self.events,
            "tool": self.tool,
            "listed": self.listed,
            "ok": self.ok,
            "detail": self.detail,
            "failure": self.failure.to_doc(self.label) if self.failure else None,
        }


@dataclass(frozen=True)
class ModelList:
    url: str
    status: int | None = None
    total: float | None = None
    models: tuple[str, ...] | None = None
    missing: tuple[str, ...] = ()
    detail: str = ""
    failure: Failure | None = None
    drift: tuple[ModelDrift, ...] = ()
    """Profile models the list does not confirm: not listed, or legacy names (drift.py), each with its fix."""

    label = "model list"

    @property
    def ok(self) -> bool:
        return self.failure is None

    def to_doc(self) -> ModelListDoc:
        return {
            "url": self.url,
            "status": self.status,
            "total_ms": _ms(self.total),
            "models": list(self.models) if self.models is not None else None,
            "missing": list(self.missing),
            "drift": [d.to_doc() for d in self.drift],
            "ok": self.ok,
            "detail": self.detail,
            "failure": self.failure.to_doc(self.label) if self.failure else None,
        }


@dataclass(frozen=True)
class Amount:
    currency: str
    total: str


@dataclass(frozen=True)
class Balance:
    url: str
    status: int | None = None
    total: float | None = None
    available: bool | None = None
    balances: tuple[Amount, ...] = ()
    detail: str = ""
    failure: Failure | None = None

    label = "balance"

    @property
    def ok(self) -> bool:
        return self.failure is None

    def to_doc(self) -> BalanceDoc:
        return {
            "url": self.url,
            "status": self.status,
            "total_ms": _ms(self.total),
            "available": self.available,
            "balances": [{"currency": a.currency, "total": a.total} for a in self.balances],
            "ok": self.ok,
            "detail": self.detail,
            "failure": self.failure.to_doc(self.label) if self.failure else None,
        }


@dataclass(frozen=True)
class ClaudeRun:
    """`claude -p` run with the profile: did Claude Code itself get an answer?"""

    command: str
    exit_code: int | None = None
    total: float | None = None
    answered: bool = False
    model: str | None = None
    """The model Claude Code reports having used (its `modelUsage` key, `[1m]` suffix included)."""
    result: str | None = None
    detail: str = ""
    failure: Failure | None = None
    warnings: tuple[str, ...] = ()
    """What the run's settings could not decide (managed settings that beat them); they join the report's."""

    label = "claude -p"

    @property
    def ok(self) -> bool:
        return self.failure is None

    def to_doc(self) -> ClaudeDoc:
        return {
            "command": self.command,
            "exit_code": self.exit_code,
            "total_ms": _ms(self.total),
            "answered": self.answered,
            "model": self.model,
            "result": self.result,
            "ok": self.ok,
            "detail": self.detail,
            "failure": self.failure.to_doc(self.label) if self.failure else None,
        }


Check = MessageCheck | ModelList | Balance | ClaudeRun


@dataclass(frozen=True)
class ProfileReport:
    profile: str
    provider: str | None
    base_url: str | None
    key: str | None
    """The key, masked (`sk-…abcd`), or None when there is none."""
    key_source: str
    """Where the key came from (or would have), in words: sources.py."""
    models: tuple[MessageCheck, ...] = ()
    streaming: MessageCheck | None = None
    tool_use: MessageCheck | None = None
    model_list: ModelList | None = None
    balance: Balance | None = None
    claude: ClaudeRun | None = None
    setup_failure: Failure | None = None
    """A failure before any check could run (no key, a broken profile): the only entry then."""
    elapsed: float = 0.0
    warnings: tuple[str, ...] = ()
    """Not failures, but worth saying: plain http to another machine sends the key in clear text; a legacy
    model name still answers but its model is retired."""

    def checks(self) -> list[Check]:
        """Every check that ran, in table order."""
        out: list[Check] = list(self.models)
        for extra in (self.streaming, self.tool_use, self.model_list, self.balance, self.claude):
            if extra is not None:
                out.append(extra)
        return out

    def failures(self) -> list[tuple[str, Failure]]:
        """(check label, failure) for every failed check, in table order."""
        out = [("profile", self.setup_failure)] if self.setup_failure else []
        out += [(c.label, c.failure) for c in self.checks() if c.failure is not None]
        return out

    @property
    def ok(self) -> bool:
        return not self.failures()

    @property
    def exit_code(self) -> int:
        return exit_code_for({f.kind for _, f in self.failures()})

    def to_doc(self) -> ProfileDoc:
        return {
            "profile": self.profile,
            "provider": self.provider,
            "base_url": self.base_url,
            "key": self.key,
            "key_source": self.key_source,
            "ok": self.ok,
            "exit_code": self.exit_code,
            "elapsed_ms": _ms(self.elapsed),
            "models": [m.to_doc() for m in self.models],
            "streaming": self.streaming.to_doc() if self.streaming else None,
            "tool_use": self.tool_use.to_doc() if self.tool_use else None,
            "model_list": self.model_list.to_doc() if self.model_list else None,
            "balance": self.balance.to_doc() if self.balance else None,
            "claude": self.claude.to_doc() if self.claude else None,
            "failures": [f.to_doc(label) for label, f in self.failures()],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class VerifyReport:
    profiles: tuple[ProfileReport, ...]
    timeout: float
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.profiles)

    @property
    def exit_code(self) -> int:
        return exit_code_for({f.kind for p in self.profiles for _, f in p.failures()})

    def to_doc(self) -> VerifyDoc:
        return {
            "ok": self.ok,
            "exit_code": self.exit_code,
            "timeout_s": self.timeout,
            "elapsed_ms": _ms(self.elapsed),
            "profiles": [p.to_doc() for p in self.profiles],
        }

    def error(self) -> DsconfigError | None:
        """The error the command exits with (its exit code follows the precedence above), or None when all passed:
        VerifyAuthError (6), VerifyNetworkError (7) or DsconfigError (1), for the caller to raise."""
        failed = [(p, label, f) for p in self.profiles for label, f in p.failures()]
        if not failed:
            return None
        code = self.exit_code
        # The hint of the failure that decides the exit code: the first thing to fix.
        deciding = next((p, label, f) for p, label, f in failed if f.exit_code == code)
        profile, label, failure = deciding
        total = sum(len(p.failures()) for p in self.profiles)
        kinds = sorted({f.kind for _, _, f in failed})
        where = f"profile {profile.profile!r}" if len(self.profiles) == 1 else f"{len({p.profile for p, _, _ in failed})} profile(s)"
        message = f"verify: {total} check(s) failed in {where} ({', '.join(kinds)})"
        error_class: type[DsconfigError] = {EXIT_VERIFY_AUTH: VerifyAuthError, EXIT_VERIFY_NETWORK: VerifyNetworkError}.get(code, DsconfigError)
        return error_class(message, f"{profile.profile} {label}: {failure.hint}")
