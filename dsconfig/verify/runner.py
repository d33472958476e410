"""`dsconfig verify [NAME] [--all]`: load the profile(s) and each key from its own source, run every check of
every profile at once, and assemble the report.

Per profile, concurrently (asyncio + one shared httpx client from checks.py): one streamed message per
distinct model (a template without models is checked with target.DEFAULT_MODEL), the streaming check, the
tool-use check, the model list and balance when the template has them, and with `--via-claude` the real
`claude -p` (claude_check.py). A key source that gives no key (`env:VAR` unset, a failing `command:`) is the
profile's `no_key` failure naming that source (sources.py); a keyring that cannot be used at all is an error
(exit 5), as everywhere.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsconfig import output, urls
from dsconfig.credentials import mask
from dsconfig.drift import LEGACY
from dsconfig.errors import DsconfigError, InvalidFileError, NotFoundError
from dsconfig.keysources import COMMAND, ENV, KeySourceError
from dsconfig.profiles import Resolved
from dsconfig.verify import checks, sources
from dsconfig.verify.checks import DEFAULT_TIMEOUT
from dsconfig.verify.claude_check import run_claude
from dsconfig.verify.diagnosis import unknown_model
from dsconfig.verify.report import Failure, MessageCheck, ModelList, ProfileReport, VerifyReport
from dsconfig.verify.target import Target

if TYPE_CHECKING:
    import httpx

    from dsconfig.actions import Context


def stored_url_check(resolved: Resolved, profiles_path: Path) -> None:
    """Raises InvalidFileError (exit 4) naming the file when a stored base URL cannot be used (a hand edit)."""
    bad = urls.problem(resolved.base_url)
    if bad is None:
        return
    if resolved.profile.base_url:
        where, path = f"profiles.{resolved.name}.base_url", profiles_path
    else:
        where, path = "base_url", resolved.template.source
    raise InvalidFileError(path, f"{where} = {resolved.base_url!r}: {bad}",
                           f"dsconfig profile edit {resolved.name} --base-url {urls.EXAMPLE}  (or correct the file by hand)")


def _head(resolved: Resolved, key: str | None) -> ProfileReport:
    warning = urls.plain_http_warning(resolved.base_url)
    return ProfileReport(profile=resolved.name, provider=resolved.profile.provider, base_url=resolved.base_url,
                         key=mask(key) if key else None, key_source=sources.described(resolved.name, resolved.profile.key_source),
                         warnings=(warning,) if warning else ())


def _setup_failure(resolved: Resolved, key: str | None, key_problem: Failure | None = None) -> Failure | None:
    """Why no check can run: a base URL that cannot be used, then a missing key; None when the checks can run."""
    bad_url = urls.problem(resolved.base_url)
    if bad_url is not None:
        return Failure("error", f"the base URL {resolved.base_url!r} cannot be used: {bad_url}",
                       f"correct it: dsconfig profile edit {resolved.name} --base-url URL (e.g. {urls.EXAMPLE})")
    if key_problem is not None:
        return key_problem
    if not key:
        message, hint = sources.missing_key(resolved.name, resolved.profile.key_source)
        return Failure("no_key", message, hint)
    return None


def _legacy_warnings(model_list: ModelList | None) -> tuple[str, ...]:
    """A legacy model name still answers, so it is no failure; the report's warnings say it, with the fix."""
    found = model_list.drift if model_list is not None else ()
    return tuple(d.message + (f" (fix: {d.fix})" if d.fix else "") for d in found if d.kind == LEGACY)


async def verify_profile(
    resolved: Resolved,
    key: str | None,
    *,
    client: httpx.AsyncClient,
    timeout: float = DEFAULT_TIMEOUT,
    via_claude: bool = False,
    claude_command: str | None = None,
    environ: Mapping[str, str] | None = None,
    concurrent: bool = True,
) -> ProfileReport:
    """Every check of one profile. `concurrent=False` runs the same checks one after another (the bench)."""
    start = time.perf_counter()
    output.register_secret(key)
    head = _head(resolved, key)
    problem = _setup_failure(resolved, key)
    if problem is not None or not key:
        return replace(head, setup_failure=problem)
    target = Target(resolved, key)
    template = resolved.template
    main = target.main_model()
    jobs: list[Any] = [checks.message_check(client, target, "model", model, tiers, timeout) for model, tiers in target.models_to_check()]
    n_models = len(jobs)
    jobs.append(checks.message_check(client, target, "streaming", main, (), timeout))
    jobs.append(checks.message_check(client, target, "tool_use", main, (), timeout))
    list_job = balance_job = claude_job = None
    if template.models_path:
        list_job = len(jobs)
        jobs.append(checks.model_list(client, target, template.models_path, timeout))
    if template.balance_path:
        balance_job = len(jobs)
        jobs.append(checks.balance(client, target, template.balance_path, timeout))
    if via_claude:
        claude_job = len(jobs)
        jobs.append(run_claude(target, timeout, claude_command, os.environ if environ is None else environ))
    if concurrent:
        results = list(await asyncio.gather(*jobs))
    else:
        results = [await job for job in jobs]
    models: list[MessageCheck] = results[:n_models]
    streaming: MessageCheck = results[n_models]
    tool_use: MessageCheck = results[n_models + 1]
    model_list: ModelList | None = results[list_job] if list_job is not None else None
    if model_list is not None and model_list.models is not None:
        known = model_list.models
        models = [_with_list(target, m, known) for m in models]
        streaming, tool_use = _with_list(target, streaming, known), _with_list(target, tool_use, known)
    claude = results[claude_job] if claude_job is not None else None
    return replace(
        head,
        models=tuple(models),
        streaming=streaming,
        tool_use=tool_use,
        model_list=model_list,
        balance=results[balance_job] if balance_job is not None else None,
        claude=claude,
        elapsed=time.perf_counter() - start,
        warnings=head.warnings + _legacy_warnings(model_list) + (claude.warnings if claude is not None else ()),
    )


def _with_list(target: Target, check: MessageCheck, known: tuple[str, ...]) -> MessageCheck:
    """Mark whether the model is listed, and name the provider's models in an unknown-model failure."""
    listed = check.model in known
    check = replace(check, listed=listed)
    failure = check.failure
    if failure is not None and (failure.kind == "unknown_model" or (failure.kind == "bad_request" and not listed)):
        check = replace(check, failure=unknown_model(target, check.model, failure.status, failure.detail, known))
    elif check.ok and check.check == "model":
        if listed:
            check = replace(check, detail="answered, listed")
        elif check.answered_by and check.answered_by != check.model:
            check = replace(check, detail=f"answered as {check.answered_by}: not on the provider's list, it maps the name")
        else:
            check = replace(check, detail="answered, not on the provider's list")
    return check


async def verify_many(
    targets: Sequence[tuple[Resolved, str | None] | ProfileReport],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    via_claude: bool = False,
    claude_command: str | None = None,
    environ: Mapping[str, str] | None = None,
    concurrent: bool = True,
) -> VerifyReport:
    """Several profiles at once; an already-made ProfileReport (a profile that failed to load) passes through."""
    start = time.perf_counter()
    async with checks.client(timeout) as http:
        async def one(item: tuple[Resolved, str | None] | ProfileReport) -> ProfileReport:
            if isinstance(item, ProfileReport):
                return item
            resolved, key = item
            return await verify_profile(resolved, key, client=http, timeout=timeout, via_claude=via_claude,
                                        claude_command=claude_command, environ=environ, concurrent=concurrent)

        if concurrent:
            reports = list(await asyncio.gather(*(one(t) for t in targets)))
        else:
            reports = [await one(t) for t in targets]
    return VerifyReport(tuple(reports), timeout, time.perf_counter() - start)


def _with_key(resolved: Resolved, c: Context) -> tuple[Resolved, str | None] | ProfileReport:
    """The profile and its key from the profile's own source, or, when an `env:` or `command:` source gives none,
    the report of that (no_key, naming the variable or the command). Raises KeyringUnavailableError or
    KeySourceError when the keyring or the kernel keyring cannot be used at all."""
    from dsconfig.actions import profile_secret

    source = resolved.profile.key_source
    try:
        return resolved, profile_secret(resolved.profile, c)
    except KeySourceError as err:
        if source.kind not in (ENV, COMMAND):
            raise
        message, hint = sources.unreadable_key(resolved.name, source, err.message, err.hint, c.environ)
        return replace(_head(resolved, None), setup_failure=_setup_failure(resolved, None, Failure("no_key", message, hint)))


def run(
    name: str | None = None,
    *,
    all_profiles: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    via_claude: bool = False,
    ctx: Context | None = None,
    claude_command: str | None = None,
) -> VerifyReport:
    """`dsconfig verify [NAME] [--all]`: load the profile(s) and their keys, run every check, return the report.

    Raises NotFoundError (no such profile / none at all), InvalidFileError (a stored base URL that cannot be
    used), KeyringUnavailableError (no keyring: nothing can be checked) and KeySourceError (the kernel keyring
    refused). A profile that fails to load under `--all` becomes a report with its own failure; so does a
    profile whose `env:` / `command:` source gives no key.
    """
    from dsconfig.actions import Context, resolved_profile

    c = ctx or Context()
    targets: list[tuple[Resolved, str | None] | ProfileReport] = []
    if all_profiles:
        found = c.store.load()
        if not found.profiles:
            raise NotFoundError("no profile yet", "run `dsconfig setup`, or `dsconfig profile add ds --provider deepseek --api-key-stdin`")
        for profile_name, profile in found.profiles.items():
            try:
                resolved = resolved_profile(profile_name, c)
            except DsconfigError as err:
                targets.append(ProfileReport(profile=profile_name, provider=profile.provider, base_url=None,
                                             key=None, key_source=sources.described(profile_name, profile.key_source),
                                             setup_failure=Failure("error", f"the profile cannot be used: {err.message}", err.hint or "see `dsconfig doctor`")))
                continue
            targets.append(_with_key(resolved, c))
    else:
        resolved = resolved_profile(name, c)
        stored_url_check(resolved, c.store.path)
        targets.append(_with_key(resolved, c))
    return asyncio.run(verify_many(targets, timeout=timeout, via_claude=via_claude, claude_command=claude_command, environ=c.environ))
