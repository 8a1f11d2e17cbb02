"""What a client check gets: the clause, the trace seen as steps, and the settings that
turn the clauses' words ("the minimum interval", "its deadline") into numbers."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.client_checks.view import Step, TraceView
from conformance.records import Finding
from conformance.registry import Clause

#: CLIENT-004/-012: the least a client waits after an answer before asking again.
MIN_POLL_INTERVAL = 0.1
#: CLIENT-005: intervals at or above this are slow enough whatever comes next.
BACKOFF_PLATEAU = 1.0
#: CLIENT-005: over this many consecutive intervals below the plateau ...
BACKOFF_WINDOW = 4
#: ... the last must be at least this many times the first.
BACKOFF_GROWTH = 1.5
#: Timer slack allowed when judging Retry-After and deadlines (seconds). The mock
#: measures from the end of its answer to the start of the next request, so network
#: time only ever lengthens what it sees; this covers timers that fire a little early.
TIMER_SLACK = 0.02


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """The numbers behind the client clauses (``verify-client`` flags set them)."""

    min_poll_interval: float = MIN_POLL_INTERVAL
    backoff_plateau: float = BACKOFF_PLATEAU
    backoff_window: int = BACKOFF_WINDOW
    backoff_growth: float = BACKOFF_GROWTH
    timer_slack: float = TIMER_SLACK
    #: The client's deadline for a session to become ready, when its creates do not
    #: state one in ``X-Client-Deadline-Ms``.
    deadline_ms: int | None = None

    def items(self) -> tuple[tuple[str, str], ...]:
        return (
            ("min_poll_interval_ms", f"{self.min_poll_interval * 1000:g}"),
            ("backoff_plateau_ms", f"{self.backoff_plateau * 1000:g}"),
            ("deadline_ms", "" if self.deadline_ms is None else str(self.deadline_ms)),
        )


class ClientCheckContext:
    def __init__(self, clause: Clause, view: TraceView, settings: ClientSettings) -> None:
        self.clause = clause
        self.view = view
        self.settings = settings
        self.judged: list[Step] = []

    def judge(self, *steps: Step) -> None:
        """Note steps the check judged (the evidence of a clause that passed)."""
        self.judged.extend(steps)

    def finding(self, message: str, expected: str, step: Step, *before: Step) -> Finding:
        """A finding on ``step``, with the steps that explain it shown first."""
        return Finding(
            message=message,
            expected=expected,
            exchange=step.exchange,
            steps=tuple(s.exchange for s in before),
        )


def ms(seconds: float) -> str:
    """``0.0123`` -> ``'12 ms'``; ``2.5`` -> ``'2.50 s'``."""
    return f"{seconds * 1000:.0f} ms" if abs(seconds) < 1 else f"{seconds:.2f} s"
