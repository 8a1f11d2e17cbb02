"""What a run tells as it goes: the events every shell consumes.

The engine (:func:`conformance.runner.run`, and the verifiers of recorded traffic) yields
them; the console, the live progress, every report and the pytest plugin only consume
them. A run yields :class:`RunStarted` first and :class:`RunFinished` last, always; in
between, for each clause, :class:`ClauseStarted` (when its check begins: clauses run at
once in lanes, so several may have begun), a :class:`FindingFound` per finding it keeps,
and :class:`ClauseFinished` — those two in clause order, whatever order the lanes
finished in.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.records import ClauseResult, Finding, RunReport
from conformance.registry import Clause


@dataclass(frozen=True, slots=True)
class RunStarted:
    target: str
    seed: int
    clauses: tuple[Clause, ...]


@dataclass(frozen=True, slots=True)
class ClauseStarted:
    """A clause's check begins (a clause decided without one, e.g. not applicable at
    once or past the deadline, only finishes)."""

    clause: Clause


@dataclass(frozen=True, slots=True)
class FindingFound:
    """A way the target broke a clause, told before the clause's result."""

    clause_id: str
    finding: Finding


@dataclass(frozen=True, slots=True)
class ClauseFinished:
    result: ClauseResult


@dataclass(frozen=True, slots=True)
class RunFinished:
    report: RunReport


Event = RunStarted | ClauseStarted | FindingFound | ClauseFinished | RunFinished
