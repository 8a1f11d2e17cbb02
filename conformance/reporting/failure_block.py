"""The failure block of one clause, from a saved report, as plain text lines.

It is the block the console prints under "Failures" (clause id, Problem / Sent /
Expected / Received / Reproduce / Replay), so a JUnit failure or a Markdown summary shows
a user exactly what the terminal showed. Bodies are cut the same way, with a marker.
"""

from __future__ import annotations

from conformance.records import Verdict
from conformance.reporting.saved import SavedBody, SavedClause, SavedExchange, SavedFinding

BODY_LINES = 6
BODY_WIDTH = 600
INDENT = " " * 13


def failure_block(clause: SavedClause) -> list[str]:
    """The lines explaining why ``clause`` did not pass (failed or error)."""
    lines = [f"{clause.id} [{clause.level}] {clause.statement}"]
    if clause.verdict is Verdict.FAILED:
        for number, finding in enumerate(clause.findings, 1):
            if len(clause.findings) > 1:
                lines.append(f"  ({number}/{len(clause.findings)})")
            lines += finding_lines(finding)
    else:
        label = "Undecided:" if clause.verdict is Verdict.ERROR else "Reason:   "
        lines.append(f"  {label} {clip(clause.summary, 400)}")
    if clause.replay:
        lines.append(f"  Replay:    {clause.replay}")
    return lines


def finding_lines(finding: SavedFinding) -> list[str]:
    lines = [f"  Problem:   {clip(finding.message, 400)}"]
    if finding.script:
        lines.append("  Steps:     the sequence that shows it, as a shell script:")
        lines += [f"{INDENT}{line}" for line in finding.script.splitlines()]
    else:
        for number, step in enumerate(finding.steps, 1):
            lines.append(f"  Step {number}:    {step.curl}")
    exchange = finding.exchange
    if exchange is not None:
        lines.append(f"  Sent:      {exchange.request.method} {exchange.request.url}")
        lines += body_lines(exchange.request.body)
    lines.append(f"  Expected:  {finding.expected}")
    if exchange is not None:
        lines += received_lines(exchange)
        lines.append(f"  Reproduce: {exchange.curl}")
    return lines


def received_lines(exchange: SavedExchange) -> list[str]:
    response = exchange.response
    if response is None:
        return [f"  Received:  no response ({exchange.transport_error})"]
    kind = response.content_type or "no Content-Type"
    return [f"  Received:  {response.status} ({kind})", *body_lines(response.body)]


def body_lines(body: SavedBody) -> list[str]:
    if body.size == 0:
        return []
    raw = body.raw()[:BODY_WIDTH]
    text = raw.decode("utf-8", "replace")
    shown = text.splitlines() or [""]
    lines = [f"{INDENT}{clip(line, 160)}" for line in shown[:BODY_LINES]]
    if body.size > BODY_WIDTH or len(shown) > BODY_LINES:
        lines.append(f"{INDENT}…[cut: {body.size} bytes in all]")
    return lines


def clip(text: str, width: int) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= width else text[: width - 1] + "…"
