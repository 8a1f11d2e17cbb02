"""The console reporter: the run header with the seed, one line per clause as it
finishes, a per-family table, and a block per failure (Sent / Expected / Received /
Reproduce / Replay) in the style of schemathesis's failure reports."""

from __future__ import annotations

from typing import TextIO

from conformance.causes import Cause, causes_of
from conformance.events import ClauseFinished, Event, RunFinished, RunStarted
from conformance.records import ClauseResult, Exchange, Finding, RunReport, Verdict
from conformance.reporting.curl import curl
from conformance.reporting.json_report import replay_command
from conformance.reporting.sequence import script

LABELS = {
    Verdict.PASSED: "PASS",
    Verdict.FAILED: "FAIL",
    Verdict.NOT_APPLICABLE: "N/A ",
    Verdict.ERROR: "ERR ",
}
BODY_LINES = 6
BODY_WIDTH = 600


class ConsoleReporter:
    def __init__(self, stream: TextIO, *, verbose: bool = False, quiet: bool = False) -> None:
        self.stream = stream
        self.verbose = verbose
        self.quiet = quiet
        #: The reason the latest undecided clause gave, and how many since gave it too
        #: (an unreachable target: one line, not one per clause).
        self._undecided: str | None = None
        self._same = 0

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._started(event)
        elif isinstance(event, ClauseFinished):
            self._clause(event.result)
        elif isinstance(event, RunFinished):
            self._finished(event.report)

    def _line(self, text: str = "") -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def _started(self, event: RunStarted) -> None:
        self._line(f"session-conformance: checking {event.target}")
        self._line(f"seed: {event.seed}   clauses: {len(event.clauses)}")
        self._line()

    def _clause(self, result: ClauseResult) -> None:
        if result.verdict is Verdict.ERROR and result.summary == self._undecided:
            self._same += 1
            return
        self._flush_same()
        self._undecided = result.summary if result.verdict is Verdict.ERROR else None
        if self.quiet and result.verdict in (Verdict.PASSED, Verdict.NOT_APPLICABLE):
            return
        seconds = f"{result.duration_ms / 1000:6.2f}s"
        self._line(
            f"  {LABELS[result.verdict]}  {result.clause_id:<10} {result.level:<6} {seconds}  "
            f"{_clip(result.statement, 90)}"
        )
        if result.verdict is not Verdict.PASSED or self.verbose:
            self._line(f"{'':>14}{_clip(result.summary, 200)}")

    def _flush_same(self) -> None:
        if self._same:
            self._line(f"{'':>14}… and {self._same} more clause(s) undecided for the same reason")
        self._same = 0

    def _finished(self, report: RunReport) -> None:
        self._flush_same()
        self._line()
        self._family_table(report)
        failures = [r for r in report.results if r.verdict is Verdict.FAILED]
        if failures:
            self._causes(causes_of(failures), len(failures))
            self._line()
            self._line("Failures")
            self._line("========")
            for result in failures:
                self._failure(report, result)
        errors = [r for r in report.results if r.verdict is Verdict.ERROR]
        if errors:
            self._line()
            self._line("Undecided (error: the harness could not decide)")
            for reason, results in _by_reason(errors).items():
                if len(results) == 1:
                    self._line(f"  {results[0].clause_id}: {reason}")
                    replay = replay_command(report, results[0])
                elif len(results) == len(report.results):  # an unreachable target: once
                    self._line(f"  all {len(results)} clauses: {reason}")
                    replay = report.replay
                else:
                    ids = ", ".join(r.clause_id for r in results)
                    self._line(f"  {len(results)} clauses: {reason}")
                    self._line(f"    {_clip(ids, 200)}")
                    replay = report.replay
                if replay:
                    self._line(f"    Replay:  {replay}")
        said = {r.summary for r in errors}
        for note in (note for note in report.notes if note not in said):
            self._line()
            self._line(f"note: {note}")
        totals = report.totals()
        self._line()
        self._line(
            f"{totals['passed']} passed, {totals['failed']} failed, "
            f"{totals['not_applicable']} not applicable, {totals['error']} error "
            f"of {totals['total']} clauses in {report.duration_ms / 1000:.1f}s (seed {report.seed})"
        )

    def _causes(self, causes: tuple[Cause, ...], failed: int) -> None:
        self._line()
        self._line(f"Failures by cause ({failed} failed clause(s), {len(causes)} cause(s))")
        self._line("=================")
        for number, cause in enumerate(causes, 1):
            self._line(f"  {number}. {_clip(cause.headline(), 200)}")
            if cause.shape is not None:
                self._line(f"     breaks {len(cause.clauses)}: {', '.join(cause.clauses)}")
                self._line(f"     e.g. {_clip(cause.example, 200)}")
            else:
                self._line(f"     breaks {', '.join(cause.clauses)}")

    def _family_table(self, report: RunReport) -> None:
        families: dict[str, dict[Verdict, int]] = {}
        for result in report.results:
            counts = families.setdefault(result.family, dict.fromkeys(Verdict, 0))
            counts[result.verdict] += 1
        width = max((12, *map(len, families)))  # the longest family name, at least 12
        self._line(f"  {'family':<{width}} {'passed':>7} {'failed':>7} {'n/a':>5} {'error':>6}")
        for family, counts in families.items():
            self._line(
                f"  {family:<{width}} {counts[Verdict.PASSED]:>7} {counts[Verdict.FAILED]:>7} "
                f"{counts[Verdict.NOT_APPLICABLE]:>5} {counts[Verdict.ERROR]:>6}"
            )

    def _failure(self, report: RunReport, result: ClauseResult) -> None:
        self._line()
        self._line(f"{result.clause_id} [{result.level}] {result.statement}")
        for number, finding in enumerate(result.findings, 1):
            if len(result.findings) > 1:
                self._line(f"  ({number}/{len(result.findings)})")
            self._finding(finding)
        replay = replay_command(report, result)
        if replay:
            self._line(f"  Replay:    {replay}")

    def _finding(self, finding: Finding) -> None:
        self._line(f"  Problem:   {_clip(finding.message, 400)}")
        lines = script(finding.steps, expected=finding.expected)
        if lines:
            self._line("  Steps:     the sequence that shows it, as a shell script:")
            for line in lines:
                self._line(f"{'':>13}{line}")
        exchange = finding.exchange
        if exchange is not None:
            self._line(f"  Sent:      {exchange.request.method} {exchange.request.url}")
            self._body(exchange.request.body)
        self._line(f"  Expected:  {finding.expected}")
        if exchange is not None:
            self._received(exchange)
            self._line(f"  Reproduce: {curl(exchange.request)}")

    def _received(self, exchange: Exchange) -> None:
        response = exchange.response
        if response is None:
            self._line(f"  Received:  no response ({exchange.transport_error})")
            return
        kind = response.header("content-type") or "no Content-Type"
        self._line(f"  Received:  {response.status} ({kind})")
        self._body(response.body)

    def _body(self, body: bytes) -> None:
        if not body:
            return
        text = body[:BODY_WIDTH].decode("utf-8", "replace")
        lines = text.splitlines() or [""]
        for line in lines[:BODY_LINES]:
            self._line(f"{'':>13}{_clip(line, 160)}")
        if len(body) > BODY_WIDTH or len(lines) > BODY_LINES:
            self._line(f"{'':>13}…[cut: {len(body)} bytes in all]")


def _by_reason(results: list[ClauseResult]) -> dict[str, list[ClauseResult]]:
    """Undecided clauses by the reason they give, in the order first met."""
    grouped: dict[str, list[ClauseResult]] = {}
    for result in results:
        grouped.setdefault(result.summary, []).append(result)
    return grouped


def _clip(text: str, width: int) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= width else text[: width - 1] + "…"
