"""Causes: the failures of a run grouped by what the target did wrong.

One bug often breaks many clauses: a ``/run`` that creates the session it is sent to
answers 200 where LIFE-001 and LIFE-002 (a never-created id), LIFE-007 (a deleted one),
ISO-003 (another user's) and STATE-001 (any unknown one) each wanted 404. A *cause* is
such a root: a request :class:`Shape` — the method, the protocol role the request was sent for, the status the
clause wanted and the status that came back — shared by findings of several clauses. It
is read from typed fields of the findings (:attr:`Finding.expected_status`, the
exchange's :attr:`~conformance.records.Exchange.role` and status), never from their
messages. A finding with no such shape (no exchange, a request for no role) is a cause
of its own clause alone.

The exchange a finding names is where the fault shows first. A clause whose violation a
later request reveals names the wrong answer it began with, and replays the rest in its
steps: LIFE-002's runs on a never-created id answered 200 are its exchange, the get that
then finds the session a step, so that it joins the run cause of LIFE-001. Shapes are
never read from steps: a sequence holds many right answers (a run answered 200 on a
Ready session), and only the check knows which one was wrong.

Causes come most clauses first, then in clause order; a clause whose findings have
several shapes is listed under each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from conformance.records import ClauseResult, Finding, Verdict


@dataclass(frozen=True, slots=True)
class Shape:
    """A request shape and how it was answered wrongly."""

    method: str
    #: The protocol role the request was sent for (``run``, ``get``, ``run_stream`` ...).
    role: str
    #: The status the clauses wanted (None: no single status, e.g. "a 4xx").
    expected: int | None
    #: The status that came back (None: no answer).
    answered: int | None

    def headline(self) -> str:
        """E.g. ``POST for run answered 200 where 404 was wanted``."""
        answered = "got no answer" if self.answered is None else f"answered {self.answered}"
        wanted = "" if self.expected is None else f" where {self.expected} was wanted"
        return f"{self.method} for {self.role} {answered}{wanted}"


@dataclass(frozen=True, slots=True)
class Cause:
    """One root of failures and the clauses it breaks."""

    #: None: a failure with no shape to share, the cause of its one clause.
    shape: Shape | None
    #: The failed clauses it breaks, in run order.
    clauses: tuple[str, ...]
    #: One of its findings' messages, as an example.
    example: str

    def headline(self) -> str:
        return self.shape.headline() if self.shape is not None else self.example


def shape_of(finding: Finding) -> Shape | None:
    """The shape of a finding's exchange, when it was sent for a role."""
    exchange = finding.exchange
    if exchange is None or exchange.role is None:
        return None
    return Shape(
        method=exchange.request.method,
        role=exchange.role,
        expected=finding.expected_status,
        answered=exchange.status,
    )


def causes_of(results: Iterable[ClauseResult]) -> tuple[Cause, ...]:
    """The causes of the failed clauses among ``results``."""
    clauses: dict[Shape | str, list[str]] = {}
    examples: dict[Shape | str, str] = {}
    for result in results:
        if result.verdict is not Verdict.FAILED:
            continue
        keyed = [(shape_of(f) or result.clause_id, f.message) for f in result.findings]
        for key, message in keyed or [(result.clause_id, result.summary)]:
            named = clauses.setdefault(key, [])
            if result.clause_id not in named:
                named.append(result.clause_id)
            examples.setdefault(key, message)
    return ordered(
        Cause(
            shape=key if isinstance(key, Shape) else None,
            clauses=tuple(named),
            example=examples[key],
        )
        for key, named in clauses.items()
    )


def ordered(causes: Iterable[Cause]) -> tuple[Cause, ...]:
    """Most clauses first; then as met (the run's clause order)."""
    return tuple(sorted(causes, key=lambda cause: -len(cause.clauses)))
