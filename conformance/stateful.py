"""The stateful exploration: random interleavings of every role, judged by the model.

A hypothesis :class:`~hypothesis.stateful.RuleBasedStateMachine` (run by
``run_state_machine_as_test`` with the family's seed and no example database) generates
sequences (:mod:`conformance.sequences`) of create (with metadata, with and without a
client-chosen id), get, list, status, run, streamed run and delete for two users, naming
their own sessions (live or deleted), the other user's, ids never created and sentinel
ids. The :class:`~conformance.model.Model` judges every answer against everything before
it. A violation is then *shrunk* (:mod:`conformance.shrinking`) by delta debugging over
the sequence's actions (each candidate replayed from scratch on fresh users): removing
chunks of actions, then simplifying what is left, while the same clause still fails. Actions name sessions
symbolically, so a shorter sequence means the same thing; hypothesis's own shrinker,
which sees only the drawn choices, kept losing track of server-minted ids (1,842
replays, 23 s, and 13 steps left for a fault that needs 5). The shrunk sequence is the
finding's ``steps``, rendered as a shell script by :mod:`conformance.reporting.sequence`.

One exploration decides every clause of the ``stateful`` family: it runs once per target
and settings (:func:`explore`), seeded from the run's seed and the family, so
``--clause STATE-003`` alone sends the same requests. When it finds a violation, it runs
again with that clause *muted* (the sessions a muted clause's violation casts doubt on
are no longer judged) and goes on for the others.
"""

from __future__ import annotations

import hashlib
import random
import time
import weakref
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, Verbosity, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from conformance.context import CheckContext, Undecided
from conformance.model import CLAUSES
from conformance.records import Finding, JSONValue
from conformance.sequences import (
    CHOSEN_IDS,
    Action,
    Pool,
    Ref,
    Sequence,
    Violated,
    Violation,
    World,
)
from conformance.shrinking import Shrinker
from conformance.target import Target, TargetError

#: Sequences explored however low ``--max-examples`` is: fewer leave the exploration too
#: thin to decide its clauses (measured: 10 sequences of 50 steps found each stateful
#: mutant at 57 of 60 seeds; 3 sequences at 34 of 60).
MIN_SEQUENCES = 10
#: Ids no sequence creates (unless a client-chosen one happens to match: the model knows).
NEVER_IDS = ("chat-404", "00000000-0000-0000-0000-000000000000", "0", "sess_made_up")
PATH_SENTINELS = ("undefined", "null", "None", "nil", "NaN", "[object Object]", " undefined ")
_CHOSEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


@dataclass(frozen=True, slots=True)
class Pick:
    """Which session a request names: ``last`` (the session the previous action named
    or created, by its owner), ``last_other`` (the same session, by the other user),
    ``mine`` / ``other`` (the ``index``-th session of the user / of the other user, live
    or deleted), ``seen`` (any session of the sequence), or ``literal`` (``value``: an id
    never created, a sentinel, a client-chosen name). Faults that need several steps on
    one session (run, delete, run again) are found far sooner when the next action
    often names the last session."""

    kind: str
    index: int = 0
    value: str = ""


def _picks(sentinels: tuple[str, ...]) -> st.SearchStrategy[Pick]:
    kinds = ("last", "last", "last", "mine", "mine", "other", "last_other", "never", "sentinel")

    def pick(kind: str) -> st.SearchStrategy[Pick]:
        if kind == "never":
            return st.sampled_from(NEVER_IDS).map(lambda v: Pick("literal", value=v))
        if kind == "sentinel":
            return st.sampled_from(sentinels).map(lambda v: Pick("literal", value=v))
        return st.integers(0, 7).map(lambda i: Pick(kind, i))

    return st.sampled_from(kinds).flatmap(pick)


_LEAF = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=8)
_KEYS = st.sampled_from(("topic", "a", "b", "n"))
METADATA = st.dictionaries(
    _KEYS,
    _LEAF | st.lists(_LEAF, max_size=2) | st.dictionaries(_KEYS, _LEAF, max_size=2),
    max_size=3,
)
WHO = st.sampled_from((0, 0, 0, 1))  # mostly one user: most faults need one owner
#: A client-chosen id at create: none (the server mints one), a name, or the id of the
#: last session (the same user re-creating it, or another user taking the same id).
CHOSEN = st.sampled_from(("none", "none", "name", "last", "last", "seen")).flatmap(
    lambda kind: (
        st.just(None)
        if kind == "none"
        else st.sampled_from(CHOSEN_IDS).map(lambda v: Pick("literal", value=v))
        if kind == "name"
        else st.integers(0, 7).map(lambda i: Pick(kind, i))
    )
)
#: What a write (create, run, delete) is followed by in the same step: often a read of
#: the session it wrote (faults show when what was written is read back).
THEN = st.sampled_from((None, None, "get", "list", "status", "run"))
PATH_PICKS = _picks(PATH_SENTINELS)
BODY_PICKS = _picks((*PATH_SENTINELS, ""))


@dataclass(slots=True)
class Search:
    """One hypothesis run: the world it explores, the first violation it met, and the
    exception that ended the search early (no usable answer before any violation)."""

    world: World
    seed: int
    found: Violation | None = None
    stopped: Exception | None = None
    sequences: int = 0
    steps: int = 0


class SessionMachine(RuleBasedStateMachine):
    """One sequence: each rule turns its draw into an :class:`Action` and performs it."""

    def __init__(self, search: Search) -> None:
        super().__init__()
        self.search = search
        self.sequence: Sequence | None = None
        if search.found is None and search.stopped is None:
            try:
                self.sequence = search.world.new_sequence()
            except (Undecided, TargetError) as exc:
                search.stopped = exc
        search.sequences += 1

    def can(self, role: str) -> bool:
        return self.search.world.ctx.client.profile.has(role)

    @rule(who=WHO, chosen=CHOSEN, metadata=METADATA, then=THEN)
    def create(
        self, who: int, chosen: Pick | None, metadata: dict[str, JSONValue], then: str | None
    ) -> None:
        if "client_ids" not in self.search.world.ctx.settings.features:
            chosen = None
        self._act("create", who, chosen, metadata=metadata, then=then)

    @precondition(lambda self: self.can("get"))
    @rule(who=WHO, pick=PATH_PICKS)
    def get(self, who: int, pick: Pick) -> None:
        self._act("get", who, pick)

    @precondition(lambda self: self.can("status"))
    @rule(who=WHO, pick=PATH_PICKS)
    def status(self, who: int, pick: Pick) -> None:
        self._act("status", who, pick)

    @precondition(lambda self: self.can("list"))
    @rule(who=WHO)
    def list_sessions(self, who: int) -> None:
        self._act("list", who, None)

    @precondition(lambda self: self.can("run"))
    @rule(who=WHO, pick=BODY_PICKS, text=st.sampled_from(("hello", "and again")), then=THEN)
    def run(self, who: int, pick: Pick, text: str, then: str | None) -> None:
        self._act("run", who, pick, text=text, then=then)

    @precondition(lambda self: self.can("run_stream"))
    @rule(who=WHO, pick=BODY_PICKS, then=THEN)
    def run_stream(self, who: int, pick: Pick, then: str | None) -> None:
        self._act("run_stream", who, pick, then=then)

    @precondition(lambda self: self.can("delete"))
    @rule(who=WHO, pick=PATH_PICKS, then=THEN)
    def delete(self, who: int, pick: Pick, then: str | None) -> None:
        self._act("delete", who, pick, then=then)

    def _act(
        self,
        role: str,
        who: int,
        pick: Pick | None,
        *,
        metadata: dict[str, JSONValue] | None = None,
        text: str = "hello",
        then: str | None = None,
    ) -> None:
        search, sequence = self.search, self.sequence
        if sequence is None or search.found is not None or search.stopped is not None:
            return
        actor, ref = self._target(sequence, who, pick, chosen=role == "create")
        try:
            sequence.perform(Action(len(sequence.actions), role, actor, ref, metadata, text))
            search.steps += 1
            if then is not None and sequence.last is not None and self.can(then):
                owner, last = sequence.last  # read back what was just written
                sequence.perform(
                    Action(len(sequence.actions), then, owner, None if then == "list" else last)
                )
                search.steps += 1
        except Violated as violated:
            search.found = violated.violation
        except (Undecided, TargetError) as exc:
            search.stopped = exc

    def _target(
        self, sequence: Sequence, who: int, pick: Pick | None, *, chosen: bool
    ) -> tuple[int, Ref | None]:
        """Who acts, and the session named (for a create: the client-chosen id, if any)."""
        if pick is None:
            return who, None
        kind = pick.kind
        if kind in ("last", "last_other") and sequence.last is None:
            kind = "mine"
        if kind in ("last", "last_other"):
            assert sequence.last is not None
            owner, ref = sequence.last
            if chosen:  # the drawn user takes that id: the same one again, or another
                return who, ref if _choosable(sequence.resolve(ref)) else _named()
            return (owner if kind == "last" else 1 - owner), ref
        if kind in ("mine", "other"):
            refs = sequence.refs_of(who if kind == "mine" else 1 - who)
            return who, refs[pick.index % len(refs)] if refs else Ref("literal", value=NEVER_IDS[0])
        if kind == "seen":
            usable = [ref for _, ref in sequence.refs if _choosable(sequence.resolve(ref))]
            return who, usable[pick.index % len(usable)] if usable else _named()
        return who, Ref("literal", value=pick.value)


def _named() -> Ref:
    return Ref("literal", value=CHOSEN_IDS[0])


def _choosable(session_id: str) -> bool:
    """Whether an id matches the pattern of a client-chosen id."""
    return (
        0 < len(session_id) <= 128
        and session_id[0] not in "_-"
        and set(session_id) <= _CHOSEN_CHARS
    )


# -- the exploration ------------------------------------------------------------------------


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


_MEMO: weakref.WeakKeyDictionary[Target, dict[object, Exploration]] = weakref.WeakKeyDictionary()


def explore(ctx: CheckContext) -> Exploration:
    """The exploration of this target with these settings (run once, then remembered)."""
    runs = _MEMO.setdefault(ctx.client.target, {})
    key = (ctx.settings, ctx.client.profile)
    if key not in runs:
        runs[key] = _explore(ctx)
    return runs[key]


def family_seed(run_seed: int) -> int:
    """The exploration's seed: stable for (run seed, family), like a clause's seed."""
    digest = hashlib.sha256(f"{run_seed}:stateful".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _explore(ctx: CheckContext) -> Exploration:
    started = time.monotonic()
    seed_value = family_seed(ctx.settings.seed)
    batch = 2 * max(MIN_SEQUENCES, ctx.settings.max_examples)
    world = World(ctx, Pool(ctx, random.Random(seed_value), batch))
    findings: dict[str, Finding] = {}
    error: Exception | None = None
    sequences = steps = 0
    for _ in CLAUSES:
        search = Search(world, seed_value)
        _search(search)
        sequences, steps = sequences + search.sequences, steps + search.steps
        if search.found is None:
            error = search.stopped
            break
        shrinker = Shrinker(world, search.found)
        violation, again = shrinker.shrink()
        sequences += shrinker.replays
        findings[violation.clause] = _finding(violation, again)
        world.muted.add(violation.clause)
    return Exploration(
        findings, dict(world.judged), sequences, steps, time.monotonic() - started, error
    )


def _search(search: Search) -> None:
    """Generate sequences until one violates an unmuted clause (hypothesis, seeded)."""

    @seed(search.seed)
    class Bound(SessionMachine):
        def __init__(self) -> None:
            super().__init__(search)

    ctx = search.world.ctx
    options = settings(
        max_examples=max(MIN_SEQUENCES, ctx.settings.max_examples),
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
