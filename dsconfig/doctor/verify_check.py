"""The doctor's test call of the active profile (the only check that uses the network; `--no-verify` skips it)."""

from __future__ import annotations

from dsconfig.doctor.findings import Finding
from dsconfig.doctor.machine import Machine
from dsconfig.errors import DsconfigError
from dsconfig.verify.report import VerifyDoc


def check_verify(m: Machine, timeout: float) -> tuple[list[Finding], VerifyDoc | None]:
    from dsconfig import verify

    if m.resolved is None:
        return [Finding("verify", "info", "test call skipped: no active profile", "dsconfig setup")], None
    try:
        report = verify.run(m.resolved.name, timeout=timeout, ctx=m.actx)
    except DsconfigError as err:
        return [Finding("verify", "error", err.message, err.hint)], None
    profile = report.profiles[0]
    if profile.ok:
        return [Finding("verify", "ok", f"test call to {profile.base_url}: all {len(profile.checks())} checks passed")], report.to_doc()
    seen: dict[tuple[str, str, str], list[str]] = {}
    for label, failure in profile.failures():
        seen.setdefault((failure.kind, failure.message, failure.hint), []).append(label)
    findings = [Finding("verify", "error", f"test call failed ({kind}: {', '.join(labels)}): {message}", hint)
                for (kind, message, hint), labels in seen.items()]
    return findings, report.to_doc()
