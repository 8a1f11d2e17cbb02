"""The runner: decides the clauses of a plan in concurrent lanes and emits events.

The engine emits :mod:`conformance.events`; the console, the progress, the reports and
the pytest plugin consume them. Each clause is decided by the kernel
(:func:`conformance.kernel.decide`) on a *lane*: a view of the target with its own record
(:meth:`~conformance.target.Target.lane`), in a thread of its own, with its own users and
seed, so that no clause sees another's sessions and the same seed sends the same requests
within each clause in any interleaving. At most ``workers`` lanes run at once
(``--workers``; by default more for a slow target: :func:`default_workers`). The clauses
sharing one piece of work (the stateful family's exploration) run in one lane, one after
the other. Results are told, and judged by the passive invariants
(:mod:`conformance.passive`), in clause order, whatever order the lanes finish in; the
passive clauses run after all others, when the run has seen everything.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import queue
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from conformance import __version__, interruption
from conformance.bounds import wake_stopped
from conformance.client import ContractClient
from conformance.context import Settings
from conformance.deadline import CLEANUP_OVERTIME, Deadline, Stop
from conformance.events import (
    ClauseFinished,
    ClauseStarted,
    Event,
    FindingFound,
    RunFinished,
    RunStarted,
)
from conformance.kernel import (
    MAX_FINDINGS,
    NO_ANSWER,
    Decision,
    Why,
    clause_seed,
    decide,
    missing_reason,
)
from conformance.passive import PASSIVE, Watch, roles_of
from conformance.plan import MAX_WORKERS, RunPlan
from conformance.profile import CANONICAL, Profile
from conformance.records import ClauseResult, RunReport, Verdict
from conformance.registry import Clause
from conformance.selection import UnknownClause, select
from conformance.target import RunDeadlinePassed, Target, TargetError, Unreachable

INTERRUPTED = "interrupted"
#: The fewest lanes a run has unless ``--workers`` says (see :func:`default_workers`).
MIN_WORKERS = 4
#: Clauses that share one piece of work, by family: they run in one lane, in order.
SHARED_WORK = frozenset({"stateful"})

__all__ = [
    "CLEANUP_OVERTIME",
    "INTERRUPTED",
    "MAX_FINDINGS",
    "NO_ANSWER",
    "ClauseFinished",
    "ClauseStarted",
    "Event",
    "FindingFound",
    "RunFinished",
    "RunStarted",
    "UnknownClause",
    "clause_seed",
    "default_workers",
    "execute",
    "exit_code",
    "run",
    "run_clause",
    "select",
]


def run(
    target: Target,
    settings: Settings,
    *,
    clause_ids: Sequence[str] | None = None,
    profile: Profile = CANONICAL,
    deadline: float | None = None,
    workers: int | None = None,
) -> Generator[Event, None, None]:
    """:func:`execute` the plan these make (the selection ``clause_ids``, default all)."""
    plan = RunPlan(target, settings, select(clause_ids), profile, deadline, workers)
    return execute(plan)


def run_clause(clause: Clause, client: ContractClient, settings: Settings) -> ClauseResult:
    """Decide one clause on ``client`` (the kernel, without the run around it)."""
    return decide(clause, client, settings).result


def default_workers(target: Target, latency_ms: float | None) -> int:
    """Lanes for a target whose first answer took ``latency_ms``: at least
    :data:`MIN_WORKERS` (a target's sessions provision while the harness waits: measured on
    the bundled reference in-process, 7.6 s with four against 12.0 s with two; served on
    loopback with its 0.5 s provisioning, 7.1-8.0 s with four against 11.8-12.2 s with two,
    and 6.6 s against 6.3 s when it provisions at once), one per 2 ms of latency on a
    slower target, up to :data:`~conformance.plan.MAX_WORKERS` (measured behind a proxy
    adding 40 ms: 24 lanes, 20 s; one per 4 ms, 22 s)."""
    if target.in_process or latency_ms is None:
        return MIN_WORKERS
    return max(MIN_WORKERS, min(MAX_WORKERS, math.ceil(latency_ms / 2)))


def execute(plan: RunPlan) -> Generator[Event, None, None]:
    """Run the plan, yielding events; the last is always :class:`RunFinished`.

    ``plan.deadline`` (seconds) bounds the whole run: past it no clause starts, those
    under way are cut short, and each clause left is ``error`` with the reason; deleting
    what the run created may take :data:`CLEANUP_OVERTIME` more. An interrupt (Ctrl-C,
    or SIGTERM as ``check`` maps it), raised here or thrown in by the consumer while it
    handles an event, stops the lanes and still yields the report of what was decided.
    """
    clauses, target, settings = plan.clauses, plan.target, plan.settings
    position = {clause.id: index for index, clause in enumerate(clauses)}
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    stop = Stop()
    deadline = Deadline.after(plan.deadline, stop)
    run = _Run(plan, deadline, Watch(roles=roles_of(plan.profile, target.base_url)))
    workers = plan.workers or 1
    try:
        yield RunStarted(target=target.public_url, seed=settings.seed, clauses=clauses)
        unusable, latency = run.preflight()
        workers = plan.workers or default_workers(target, latency)
        run.settings = dataclasses.replace(settings, lanes=workers)
        if unusable is not None:
            run.notes.append(unusable)
            for clause in clauses:
                yield from run.tell(run.unusable(clause, unusable, gone=False))
        else:
            active = [clause for clause in clauses if clause.id not in PASSIVE]
            passive = [clause for clause in clauses if clause.id in PASSIVE]
            # The clauses judged on every exchange come last, when the run has seen it all.
            yield from run.lanes(active, workers, stop)
            yield from run.lanes(passive, workers, stop, settle_after=True)
        run.notes.extend(run.watch.unselected(clause.id for clause in clauses))
        interruption.hold()  # the run is over: a signal now waits until it is reported
    except KeyboardInterrupt:
        # The run ends early but still ends: the report holds what was decided.
        run.interrupted = True
        # Decided: a verdict the run reached (a clause cut short is an error, undecided).
        decided = sum(result.verdict is not Verdict.ERROR for result in run.results)
        run.notes.append(f"{INTERRUPTED}: {decided} of {len(clauses)} clauses decided")
    if run.late:
        run.notes.append(
            f"deadline: the run's deadline of {plan.deadline:g} s passed; "
            f"{run.late} of {len(clauses)} clauses were not started"
        )
    report = RunReport(
        tool="session-conformance",
        version=__version__,
        target=target.public_url,
        profile=plan.profile.name,
        seed=settings.seed,
        started_at=started_at,
        duration_ms=(time.perf_counter() - started) * 1000,
        results=tuple(sorted(run.results, key=lambda r: position[r.clause_id])),
        settings=(
            *_settings_items(settings),
            ("workers", str(workers)),
            *target.limits.items(),
            ("deadline", "none" if plan.deadline is None else f"{plan.deadline:g}"),
        ),
        notes=tuple(run.notes),
        interrupted=run.interrupted,
    )
    yield RunFinished(report)


@dataclass(frozen=True, slots=True)
class _Started:
    clause: Clause


@dataclass(frozen=True, slots=True)
class _Decided:
    clause: Clause
    decision: Decision


class _Run:
    """What one run keeps while its lanes go: the results told, the notes, whether the
    target went away."""

    def __init__(self, plan: RunPlan, deadline: Deadline, watch: Watch) -> None:
        self.plan = plan
        #: The plan's settings, with the lanes the run chose (once it knows the target).
        self.settings = plan.settings
        self.deadline = deadline
        self.watch = watch
        self.results: list[ClauseResult] = []
        self.notes: list[str] = []
        self.late = 0
        self.interrupted = False
        #: Why no clause can be decided any more (the target stopped answering).
        self.gone: str | None = None
        self._lock = threading.Lock()
        self._main = plan.target.lane(deadline)
        self._client = ContractClient(self._main, plan.profile)

    # -- before and after -----------------------------------------------------------------

    def preflight(self) -> tuple[str | None, float | None]:
        """Why the target cannot be checked at all (None: it can), and how long its first
        answer took (ms)."""
        try:
            return _preflight(self._client)
        except RunDeadlinePassed as exc:
            return f"not decided: the run's deadline (--deadline) passed ({exc})", None

    def unusable(self, clause: Clause, why: str, *, gone: bool) -> Decision:
        """The result of a clause that cannot be decided: ``error`` with the reason, or
        still ``not_applicable`` if it never applied (once the target went away)."""
        seed = clause_seed(self.settings.seed, clause.id)
        if gone:
            missing = missing_reason(clause, self.plan.profile, self.settings)
            if missing is not None:
                return Decision(clause.result(Verdict.NOT_APPLICABLE, missing, seed=seed))
        return Decision(clause.result(Verdict.ERROR, why, seed=seed), Why.UNDECIDED)

    # -- the lanes ------------------------------------------------------------------------

    def lanes(
        self, clauses: list[Clause], workers: int, stop: Stop, *, settle_after: bool = False
    ) -> Iterator[Event]:
        """Decide ``clauses`` in at most ``workers`` lanes at once, telling each result in
        clause order; ``settle_after``: the passive clauses, settled once all are judged."""
        if not clauses:
            return
        events: queue.SimpleQueue[_Started | _Decided] = queue.SimpleQueue()
        decided: dict[str, Decision] = {}
        told = 0
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sc-lane")
        try:
            for unit in _units(clauses):
                pool.submit(self._lane, unit, events)
            while told < len(clauses):
                interruption.stop_if_interrupted()  # however the signal got lost on its way
                try:
                    event = events.get(timeout=0.2)
                except queue.Empty:
                    continue
                if isinstance(event, _Started):
                    yield ClauseStarted(event.clause)
                    continue
                decided[event.clause.id] = event.decision
                self._went_away(event.clause, event.decision)
                while told < len(clauses) and clauses[told].id in decided:
                    clause = clauses[told]
                    told += 1
                    decision = decided[clause.id]
                    self.watch.judge(decision.exchanges, clause.id)
                    if not settle_after:
                        yield from self.tell(decision)
            if settle_after:
                for clause in clauses:
                    yield from self.tell(decided[clause.id])
        except BaseException:
            stop.interrupted.set()  # no lane checks any further; clean-ups go on
            wake_stopped()  # and none waits out a hung read
            try:
                pool.shutdown(wait=True, cancel_futures=True)
            except BaseException:
                stop.aborted.set()  # a second signal: no clean-up either
                wake_stopped()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
            self._keep_decided(events, decided, clauses[told:])
            raise
        pool.shutdown(wait=True)

    def _lane(self, unit: list[Clause], events: queue.SimpleQueue[_Started | _Decided]) -> None:
        """One lane: the clauses of ``unit`` in order, on a target of their own."""
        target = self.plan.target.lane(self.deadline)
        client = ContractClient(target, self.plan.profile)
        for clause in unit:
            events.put(_Decided(clause, self._decide(clause, client, events)))

    def _decide(
        self,
        clause: Clause,
        client: ContractClient,
        events: queue.SimpleQueue[_Started | _Decided],
    ) -> Decision:
        if self.gone is not None:
            return self.unusable(clause, self.gone, gone=True)
        if self.deadline.stopped():
            return self.unusable(clause, f"not decided: the run was {INTERRUPTED}", gone=False)
        if self.deadline.passed():
            with self._lock:
                self.late += 1
            why = (
                f"not decided: the run's deadline of {self.plan.deadline:g} s "
                "(--deadline) had passed"
            )
            return Decision(
                clause.result(Verdict.ERROR, why, seed=clause_seed(self.settings.seed, clause.id)),
                Why.DEADLINE,
            )
        events.put(_Started(clause))
        try:
            return decide(clause, client, self.settings)
        except BaseException as exc:  # a fault of the harness: still a result, and told
            why = f"the check itself failed: {type(exc).__name__}: {exc}"
            seed = clause_seed(self.settings.seed, clause.id)
            return Decision(clause.result(Verdict.ERROR, why, seed=seed), Why.UNDECIDED)

    def _went_away(self, clause: Clause, decision: Decision) -> None:
        """After a clause got no usable answer: is the target gone for good? Then every
        clause left would wait for it in vain."""
        if decision.why is not Why.NO_ANSWER or self.gone is not None:
            return
        try:
            gone, _ = _preflight(self._client)
        except RunDeadlinePassed:
            return  # the clauses left are not started anyway, for the deadline
        if gone is not None:
            self.gone = f"not decided: the target stopped answering during {clause.id} ({gone})"
            self.notes.append(self.gone)

    def _keep_decided(
        self,
        events: queue.SimpleQueue[_Started | _Decided],
        decided: dict[str, Decision],
        untold: list[Clause],
    ) -> None:
        """After an interrupt: what the lanes decided that the run had not told yet (the
        clauses under way, cut short) goes into the report all the same."""
        while True:
            try:
                event = events.get_nowait()
            except queue.Empty:
                break
            if isinstance(event, _Decided):
                decided[event.clause.id] = event.decision
        for clause in untold:
            if clause.id in decided:
                list(self.tell(decided[clause.id]))

    def tell(self, decision: Decision) -> Iterator[Event]:
        """Tell a clause's result (settled by the passive invariants) and its findings."""
        result = self.watch.settle(decision.result)
        self.notes.extend(decision.notes)
        self.results.append(result)
        for finding in result.findings:
            yield FindingFound(result.clause_id, finding)
        yield ClauseFinished(result)


def _units(clauses: list[Clause]) -> list[list[Clause]]:
    """The clauses, each alone but those sharing one piece of work, which go together;
    the shared pieces first (the longest work of a run: started last, the stateful
    exploration would be the run's tail alone), the others in clause order."""
    units: list[list[Clause]] = []
    shared: dict[str, list[Clause]] = {}
    for clause in clauses:
        if clause.family in SHARED_WORK:
            if clause.family not in shared:
                shared[clause.family] = []
                units.append(shared[clause.family])
            shared[clause.family].append(clause)
        else:
            units.append([clause])
    return sorted(units, key=lambda unit: unit[0].family not in SHARED_WORK)


def exit_code(report: RunReport, *, strict: bool = False) -> int:
    """0 all applicable clauses passed; 1 a clause failed; 3 undecided (error), none failed.

    A failed SHOULD or MAY clause fails the run only with ``strict``.
    """
    failed = [
        r for r in report.results if r.verdict is Verdict.FAILED and (strict or r.level == "MUST")
    ]
    if failed:
        return 1
    if any(r.verdict is Verdict.ERROR for r in report.results):
        return 3
    return 0


def _preflight(client: ContractClient) -> tuple[str | None, float | None]:
    """One harmless request first (a list for a user id of the harness's, or where the
    layout has no list, a get or status of a never-created id: it reads, never changes,
    anyone's sessions): a target that gives no usable answer, or redirects it elsewhere,
    decides no clause at all. Also how long the answer took (ms)."""
    try:
        exchange = client.safe_read("sc-preflight")
    except RunDeadlinePassed:
        raise
    except Unreachable as exc:
        return f"target unreachable: {exc}", None
    except TargetError as exc:
        return f"{NO_ANSWER}: {exc}", None
    location = exchange.response.header("location") if exchange.response else None
    if exchange.status is not None and 300 <= exchange.status < 400:
        return (
            f"the target redirects ({exchange.request.method} {exchange.request.url} answered "
            f"{exchange.status} to {location or 'nowhere'}); the harness follows no redirect, "
            "so that the token and probes never leave the target: give the URL that answers"
        ), exchange.elapsed_ms
    return None, exchange.elapsed_ms


def _settings_items(settings: Settings) -> tuple[tuple[str, str], ...]:
    return (
        ("max_examples", str(settings.max_examples)),
        ("max_steps", str(settings.max_steps)),
        ("concurrency", str(settings.concurrency)),
        ("ready_timeout", f"{settings.ready_timeout:g}"),
        ("auth", "on" if settings.token else "off"),
        ("cors_origin", settings.cors_origin or ""),
    )
