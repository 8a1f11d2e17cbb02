"""A Markdown summary, fit for a CI step summary (``$GITHUB_STEP_SUMMARY``) or a PR comment.

The verdict on top, the failures grouped by cause (:mod:`conformance.causes`: one line
per cause with the clauses it breaks, most clauses first), totals and a table by
family, then each failure in a collapsed
``<details>`` block holding the console's failure block (curl and replay included), the
undecided clauses and the not-applicable ones with their reasons. Everything the target
sent is escaped: text in tables and headings is backslash- and entity-escaped, bodies
sit in code fences longer than any backtick run inside them. The summary stays under
:data:`MAX_CHARS` (a GitHub comment holds 65,536); failures past the budget are listed
one line each, pointing to the full reports.
"""

from __future__ import annotations

import html
import re

from conformance.records import Verdict
from conformance.reporting.failure_block import failure_block
from conformance.reporting.saved import SavedClause, SavedReport

MAX_CHARS = 60_000
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def render_markdown(report: SavedReport) -> str:
    lines = [f"## {_headline(report)}", ""]
    lines.append(
        f"Target `{_code(report.target)}` · seed `{report.seed}` · "
        f"{len(report.clauses)} clauses in {report.duration_ms / 1000:.1f} s · "
        f"{_text(report.tool)} {_text(report.version)} · started {_text(report.started_at)}"
    )
    lines.append("")
    lines += _causes(report)
    lines += _totals(report)
    lines += _families(report)
    for note in report.notes:
        lines += [f"> **Note:** {_text(note)}", ""]
    budget = MAX_CHARS - sum(len(line) + 1 for line in lines) - 2_000
    lines += _failures(report, budget)
    errors = report.by_verdict(Verdict.ERROR)
    if errors:
        lines += ["### Undecided (the harness could not decide)", ""]
        lines += [f"- `{c.id}` [{c.level}]: {_text(_clip(c.summary, 300))}" for c in errors]
        lines.append("")
    skipped = report.by_verdict(Verdict.NOT_APPLICABLE)
    if skipped:
        lines += [
            "<details><summary>Not applicable: "
            f"{len(skipped)} clause(s), never counted as passed</summary>",
            "",
        ]
        lines += [f"- `{c.id}`: {_text(_clip(c.summary, 300))}" for c in skipped]
        lines += ["", "</details>", ""]
    if report.replay:
        lines += ["Replay this run:", "", *_fence(report.replay, "sh"), ""]
    return "\n".join(lines)


def _headline(report: SavedReport) -> str:
    must = [c for c in report.by_verdict(Verdict.FAILED) if c.level == "MUST"]
    failed = report.by_verdict(Verdict.FAILED)
    errors = report.by_verdict(Verdict.ERROR)
    if report.interrupted():
        return "⏹️ Session contract: interrupted before every clause was decided"
    if must:
        return f"❌ Session contract: {len(must)} MUST clause(s) failed"
    if errors:
        return f"⚠️ Session contract: {len(errors)} clause(s) undecided"
    if failed:
        return f"🟡 Session contract: passed, but {len(failed)} SHOULD/MAY clause(s) failed"
    if not report.clauses:
        return "⚠️ Session contract: no clause was run"
    return "✅ Session contract: every applicable clause passed"


def _causes(report: SavedReport) -> list[str]:
    if not report.causes:
        return []
    failed = len(report.by_verdict(Verdict.FAILED))
    lines = [
        f"### Failures by cause ({failed} failed clause(s), {len(report.causes)} cause(s))",
        "",
    ]
    for number, cause in enumerate(report.causes, 1):
        clauses = ", ".join(f"`{_code(cid)}`" for cid in cause.clauses)
        lines.append(f"{number}. **{_text(_clip(cause.headline(), 200))}**: breaks {clauses}")
    return [*lines, ""]


def _totals(report: SavedReport) -> list[str]:
    totals = report.totals()
    return [
        "| passed | failed | not applicable | error | total |",
        "|---:|---:|---:|---:|---:|",
        f"| {totals['passed']} | {totals['failed']} | {totals['not_applicable']} | "
        f"{totals['error']} | {totals['total']} |",
        "",
    ]


def _families(report: SavedReport) -> list[str]:
    lines = ["| family | passed | failed | n/a | error |", "|---|---:|---:|---:|---:|"]
    for family in report.families():
        members = [c for c in report.clauses if c.family == family]
        counts = {v: sum(c.verdict is v for c in members) for v in Verdict}
        mark = " ❌" if counts[Verdict.FAILED] else ""
        lines.append(
            f"| {_text(family)}{mark} | {counts[Verdict.PASSED]} | {counts[Verdict.FAILED]} | "
            f"{counts[Verdict.NOT_APPLICABLE]} | {counts[Verdict.ERROR]} |"
        )
    return [*lines, ""]


def _failures(report: SavedReport, budget: int) -> list[str]:
    failed = report.by_verdict(Verdict.FAILED)
    if not failed:
        return []
    lines = ["### Failures", ""]
    left_out: list[SavedClause] = []
    for clause in failed:
        block = _failure(clause)
        size = sum(len(line) + 1 for line in block)
        if size > budget:
            left_out.append(clause)
            continue
        budget -= size
        lines += block
    if left_out:
        lines += [
            f"{len(left_out)} more failure(s), left out to keep this summary short "
            "(the JSON, JUnit and HTML reports hold every one):",
            "",
        ]
        lines += [f"- `{c.id}` [{c.level}]: {_text(_clip(c.summary, 200))}" for c in left_out]
        lines.append("")
    return lines


def _failure(clause: SavedClause) -> list[str]:
    summary = html.escape(f"{clause.id} [{clause.level}] {_clip(clause.summary, 120)}")
    return [
        f"<details><summary>❌ {summary}</summary>",
        "",
        f"**{_text(clause.statement)}**",
        "",
        *_fence("\n".join(failure_block(clause)), "text"),
        "",
        "</details>",
        "",
    ]


def _fence(text: str, info: str) -> list[str]:
    """A code fence that nothing inside can close: longer than any backtick run."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *text.splitlines(), fence]


def _text(value: str) -> str:
    """Inline text: no Markdown, no HTML, no line break survives from the target."""
    escaped = html.escape(value.replace("\r", " ").replace("\n", " "), quote=False)
    return _SPECIAL.sub(r"\\\1", escaped)


def _code(value: str) -> str:
    return value.replace("`", "'").replace("\n", " ")


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
