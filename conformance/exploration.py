"""The stateful exploration: its lanes, rounds and budget (the machine: :mod:`conformance.stateful`).

One exploration decides every clause of the ``stateful`` family: it runs once per target
and settings (:func:`explore`), seeded from the run's seed and the family, so
``--clause STATE-003`` alone sends the same requests. Its sequences are split over up
to :data:`LANES` lanes, whatever ``--workers`` is: each lane is a search of its own (its
seed, its users, its ready sessions, a target lane of its own) and ``--workers`` of them
run at once, so a slow target's waits overlap and the same seed still sends the same
requests in each lane (hypothesis opens every search with its simplest sequence, the
same in every lane: only the first lane explores it). When a round of the lanes finds violations, each violated clause
is shrunk (its first lane's) and *muted* (the sessions a muted clause's violation casts
doubt on are no longer judged), and the lanes search again for the others.
``--stateful-budget`` bounds the exploration's time besides its count of sequences: past
it, no sequence starts and none takes another step, and the clauses say how much was
explored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, Verbosity, seed, settings
from hypothesis.stateful import run_state_machine_as_test

from conformance import hypothesis_guard
from conformance.client import ContractClient
from conformance.context import CheckContext
from conformance.deadline import CLEANUP_OVERTIME
from conformance.model import CLAUSES
from conformance.records import Finding
from conformance.sequences import Pool, Violation, World
from conformance.shrinking import Shrinker
from conformance.stateful import Search, SessionMachine
from conformance.target import Target

hypothesis_guard.guard()

#: Sequences explored however low ``--max-examples`` is: fewer leave the exploration too
#: thin to decide its clauses (measured: 10 sequences of 50 steps found each stateful
#: mutant at 57 of 60 seeds; 3 sequences at 34 of 60).
MIN_SEQUENCES = 10
#: The most lanes the exploration's sequences are split over: one sequence each up to
#: this many, then more each (fixed by the count of sequences alone: what the exploration
#: sends does not depend on how many lanes run at once). Measured behind a proxy adding
#: 200 ms, the default exploration took 45 s in 8 lanes, 29 s in 25.
LANES = 32


@dataclass(frozen=True, slots=True)
class Exploration:
    """What one exploration decided: a finding per violated clause, and how often each
    clause was judged."""

    findings: dict[str, Finding]
    judged: dict[str, int]
    sequences: int
    steps: int
    seconds: float
    error: Exception | None = None
    #: The budget (``--stateful-budget``) ended it before its count of sequences.
    cut_by_budget: bool = False


_MEMO: weakref.WeakKeyDictionary[Target, dict[object, Exploration]] = weakref.WeakKeyDictionary()


def explore(ctx: CheckContext) -> Exploration:
    """The exploration of this target with these settings (run once, then remembered)."""
    runs = _MEMO.setdefault(ctx.client.target, {})
    key = (dataclasses.replace(ctx.settings, lanes=1), ctx.client.profile)
    if key not in runs:
        runs[key] = _explore(ctx)
    return runs[key]


def family_seed(run_seed: int) -> int:
    """The exploration's seed: stable for (run seed, family), like a clause's seed."""
    digest = hashlib.sha256(f"{run_seed}:stateful".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


@dataclass(frozen=True, slots=True)
class _Lane:
    """One lane of the exploration: its context (its own target lane), world and seed."""

    ctx: CheckContext
    world: World
    seed: int
    examples: int


def _lanes(ctx: CheckContext, muted: set[str]) -> list[_Lane]:
    """The exploration's lanes, each with its share of the sequences (the count of the
    settings, at least :data:`MIN_SEQUENCES`, split as evenly as it goes)."""
    total = max(MIN_SEQUENCES, ctx.settings.max_examples)
    base = family_seed(ctx.settings.seed)
    lanes = []
    for number in range(min(LANES, total)):
        examples = total // LANES + (1 if number < total % LANES else 0)
        if number:  # and one more, the simplest, left out (Search.skip_first)
            examples += 1
        seed_value = base if number == 0 else _lane_seed(base, number)
        target = ctx.client.target.lane(ctx.client.target.deadline)
        client = ContractClient(target, ctx.client.profile)
        lane_ctx = CheckContext(ctx.clause, client, ctx.settings, seed_value)
        world = World(lane_ctx, Pool(lane_ctx, random.Random(seed_value), 2 * examples))
        world.muted = muted  # one set for every lane: muted between rounds only
        lanes.append(_Lane(lane_ctx, world, seed_value, examples))
    return lanes


def _lane_seed(base: int, number: int) -> int:
    digest = hashlib.sha256(f"{base}:lane:{number}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _explore(ctx: CheckContext) -> Exploration:
    started = time.monotonic()
    budget = ctx.settings.stateful_budget
    until = None if budget is None else started + budget
    muted: set[str] = set()
    lanes = _lanes(ctx, muted)
    findings: dict[str, Finding] = {}
    error: Exception | None = None
    sequences = steps = 0
    cut = False
    threads = max(1, min(len(lanes), ctx.settings.lanes))
    try:
        with ThreadPoolExecutor(threads, thread_name_prefix="sc-stateful") as pool:
            for _ in CLAUSES:
                searches = [
                    Search(lane.world, lane.seed, lane.examples, until, skip_first=number > 0)
                    for number, lane in enumerate(lanes)
                ]
                list(pool.map(_search, searches))
                sequences += sum(search.sequences for search in searches)
                steps += sum(search.steps for search in searches)
                cut = cut or any(search.out_of_time for search in searches)
                found = [search for search in searches if search.found is not None]
                if not found:
                    error = next((s.stopped for s in searches if s.stopped is not None), None)
                    break
                for search in found:
                    assert search.found is not None
                    if search.found.clause in findings:
                        continue
                    shrinker = Shrinker(search.world, search.found)
                    violation, again = shrinker.shrink()
                    sequences += shrinker.replays
                    findings[violation.clause] = _finding(violation, again)
                muted.update(findings)
    finally:
        _gather(ctx, lanes, threads)
    judged: dict[str, int] = {}
    for lane in lanes:
        for clause, count in lane.world.judged.items():
            judged[clause] = judged.get(clause, 0) + count
    seconds = time.monotonic() - started
    return Exploration(findings, judged, sequences, steps, seconds, error, cut)


def _gather(ctx: CheckContext, lanes: list[_Lane], threads: int) -> None:
    """Clean up the lanes (``threads`` at once), then take each one's exchanges and what
    it deleted into the check's own record and context, lane after lane (the run judges
    them in that order)."""
    with ThreadPoolExecutor(threads, thread_name_prefix="sc-stateful-cleanup") as pool:
        list(pool.map(_clean_up, lanes))
    for lane in lanes:
        ctx.absorb(lane.ctx)
        ctx.client.target.recording.adopt(lane.ctx.client.target.since(0))


def _clean_up(lane: _Lane) -> None:
    with lane.ctx.client.target.overtime(CLEANUP_OVERTIME):
        lane.ctx.cleanup()


def _search(search: Search) -> None:
    """Generate sequences until one violates an unmuted clause (hypothesis, seeded)."""

    @seed(search.seed)
    class Bound(SessionMachine):
        def __init__(self) -> None:
            super().__init__(search)

    ctx = search.world.ctx
    options = settings(
        max_examples=search.examples,
        stateful_step_count=ctx.settings.max_steps,
        database=None,
        deadline=None,
        derandomize=False,
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate),
    )
    # The rules never raise: the first violation is kept, and the sequences after it do
    # nothing, so hypothesis neither shrinks nor replays (the Shrinker does that).
    run_state_machine_as_test(Bound, settings=options)


def _finding(violation: Violation, again: bool) -> Finding:
    problem = violation.discrepancy.problem
    count = len(violation.exchanges)
    note = (
        f" (step {count}, the last of the shrunk sequence)"
        if again
        else f" (step {count}; it did not fail again on replay: the target is not deterministic)"
    )
    return Finding(
        problem + note,
        violation.discrepancy.expected,
        violation.exchange,
        steps=violation.exchanges,
        expected_status=violation.discrepancy.status,
    )
