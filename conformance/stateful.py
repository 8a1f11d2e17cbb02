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

The exploration that drives it is :mod:`conformance.exploration`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from conformance import hypothesis_guard
from conformance.context import Undecided
from conformance.records import JSONValue
from conformance.sequences import (
    CHOSEN_IDS,
    Action,
    Ref,
    Sequence,
    Violated,
    Violation,
    World,
)
from conformance.target import TargetError

hypothesis_guard.guard()

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
    #: Sequences to generate.
    examples: int
    #: ``time.monotonic`` past which nothing more is sent (``--stateful-budget``).
    until: float | None = None
    found: Violation | None = None
    stopped: Exception | None = None
    out_of_time: bool = False
    sequences: int = 0
    steps: int = 0
    #: Leave out the search's first sequence: hypothesis opens every search with its
    #: simplest, the same in every lane, which one lane explores for all.
    skip_first: bool = False

    def idle(self) -> bool:
        """Whether the search is over: found, stopped, or out of time."""
        if self.until is not None and not self.out_of_time and time.monotonic() >= self.until:
            self.out_of_time = True
        return self.found is not None or self.stopped is not None or self.out_of_time


class SessionMachine(RuleBasedStateMachine):
    """One sequence: each rule turns its draw into an :class:`Action` and performs it."""

    def __init__(self, search: Search) -> None:
        super().__init__()
        self.search = search
        self.sequence: Sequence | None = None
        if search.skip_first:  # its steps do nothing: no sequence to act in
            search.skip_first = False
            return
        if not search.idle():
            try:
                self.sequence = search.world.new_sequence()
                search.sequences += 1
            except (Undecided, TargetError) as exc:
                search.stopped = exc

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
        if sequence is None or search.idle():
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
