"""What `dsconfig doctor` reports: a Finding per observation, the Report of a run (its --json document), and
the text rendering. The JSON document is described in dsconfig/doctor/__init__.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from dsconfig.errors import EXIT_ERROR, EXIT_OK
from dsconfig.verify.report import VerifyDoc

SEVERITIES = ("ok", "info", "warning", "error")


class FindingDoc(TypedDict):
    check: str
    severity: str
    message: str
    fix: str | None
    where: str | None


class ReportDoc(TypedDict):
    ok: bool
    exit_code: int
    counts: dict[str, int]
    findings: list[FindingDoc]
    verify: VerifyDoc | None


@dataclass(frozen=True)
class Finding:
    """One observation of one check: its severity, and (for a problem) the exact command or edit that fixes it."""

    check: str
    severity: str
    message: str
    fix: str | None = None
    where: str | None = None

    def to_doc(self) -> FindingDoc:
        return {"check": self.check, "severity": self.severity, "message": self.message, "fix": self.fix,
                "where": self.where}


@dataclass(frozen=True)
class Report:
    """Every finding of a run, in check order, and the test call's `dsconfig verify --json` document (or None)."""

    findings: tuple[Finding, ...]
    verify: VerifyDoc | None = None

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_ERROR

    def to_doc(self) -> ReportDoc:
        counts = {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}
        return {"ok": self.ok, "exit_code": self.exit_code, "counts": counts,
                "findings": [f.to_doc() for f in self.findings], "verify": self.verify}


_MARK = {"ok": "ok", "info": "info", "warning": "WARN", "error": "ERROR"}


def render_text(report: Report) -> str:
    """One line per finding (and its fix), then the counts; what `dsconfig doctor` prints without --json."""
    lines = []
    for f in report.findings:
        lines.append(f"{_MARK[f.severity]:<6} {f.check:<17} {f.message}")
        if f.fix and f.severity != "ok":
            lines.append(f"{'':<6} {'':<17} fix: {f.fix}")
    counts = report.to_doc()["counts"]
    lines.append("")
    lines.append(f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s), {counts['ok']} ok"
                 + ("" if report.ok else ": exit status 1"))
    return "\n".join(lines) + "\n"
