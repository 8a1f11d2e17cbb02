"""Sequences of actions on sessions, replayable, each answer judged by the model.

A :class:`Sequence` starts from two users who each own one Ready session (a
:class:`Given`, made ahead by the :class:`Pool`) and performs :class:`Action` s: create
(with metadata, with or without a client-chosen id), get, status, list, run, streamed run
and delete. An action names its session symbolically (a :class:`Ref`): the session given
to a user, the session answered by an earlier create (by that create's label), or a
literal id (never created, a sentinel, a client-chosen name). So the same actions replay
against fresh users and fresh server-minted ids, and a shorter list of them still means
the same thing: that is what shrinking a failing sequence needs.

After each answer the :class:`~conformance.model.Model` judges it. A discrepancy of a
clause the :class:`World` has muted taints the sessions it casts doubt on; any other
raises :class:`Violated`, carrying the actions and the exchanges so far.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from dataclasses import dataclass, field

from conformance.context import CheckContext, Undecided
from conformance.invariants import is_sentinel
from conformance.model import Discrepancy, Model
from conformance.profile import NotInLayout
from conformance.records import Exchange, JSONValue

#: Statuses under which a sequence cannot decide (the target is shedding load).
BACK_PRESSURE = (429, 503)


#: Client-chosen ids, symbolically: each sequence sends them with a suffix of its own
#: (or, where the profile declares an id format they do not fit, as ids it invents).
CHOSEN_IDS = ("chat-1", "chat-2")


@dataclass(frozen=True, slots=True)
class Ref:
    """A session id as a sequence names it: ``given`` (the session given to user
    ``index``), ``created`` (the id answered by the create labelled ``index``) or
    ``literal`` (``value`` itself)."""

    kind: str
    index: int = 0
    value: str = ""


@dataclass(frozen=True, slots=True)
class Action:
    """One request of a sequence; ``label`` is its place in the sequence first generated
    (a shrunk sequence keeps the labels, so later actions still find their session)."""

    label: int
    role: str
    who: int
    ref: Ref | None = None
    metadata: dict[str, JSONValue] | None = None
    text: str = "hello"


@dataclass(frozen=True, slots=True)
class Given:
    """A session made before a sequence and seen Ready: its user, id, metadata, and the
    exchanges that made it (the create, and the poll that showed it Ready)."""

    user: str
    session_id: str
    metadata: dict[str, JSONValue]
    phase: str | None
    exchanges: tuple[Exchange, ...]


class Pool:
    """Ready sessions, one for each user of a sequence, made in batches (the first poll
    of a batch waits for provisioning; the others find their sessions Ready)."""

    def __init__(self, ctx: CheckContext, rng: random.Random, batch: int) -> None:
        self.ctx = ctx
        self.rng = rng
        self.batch = max(2, batch)
        self._ready: deque[Given] = deque()

    def take_pair(self) -> tuple[Given, Given]:
        if len(self._ready) < 2:
            self._fill()
        return self._ready.popleft(), self._ready.popleft()

    def _fill(self) -> None:
        ctx, made = self.ctx, []
        for number in range(self.batch):
            user = f"sc-user-{self.rng.getrandbits(48):012x}"
            metadata: dict[str, JSONValue] = {"given": number}
            made.append((ctx.create(user, {"metadata": metadata}), metadata))
        has_status = ctx.client.profile.has("status")
        for created, metadata in made:
            phase = _phase_of(created.exchange)
            exchanges: tuple[Exchange, ...] = (created.exchange,)
            if has_status:
                poll = ctx.poll(created.user_id, created.session_id)
                if poll.final_phase != "Ready":
                    raise Undecided(
                        f"precondition failed: session {created.session_id!r} did not become "
                        f"Ready within {ctx.settings.ready_timeout:g}s (--ready-timeout)"
                    )
                phase, exchanges = "Ready", (created.exchange, poll.exchanges[-1])
            self._ready.append(
                Given(created.user_id, created.session_id, metadata, phase, exchanges)
            )


@dataclass(slots=True)
class World:
    """What the sequences of one exploration share: where they start from, which
    clauses are muted, and how often each clause was judged."""

    ctx: CheckContext
    pool: Pool
    muted: set[str] = field(default_factory=set)
    judged: Counter[str] = field(default_factory=Counter)

    def new_sequence(self) -> Sequence:
        return Sequence(self, self.pool.take_pair())


@dataclass(frozen=True, slots=True)
class Violation:
    """A discrepancy of an unmuted clause, and the actions and exchanges that led to it
    (``exchanges`` begins with those of the given sessions the sequence used)."""

    clause: str
    discrepancy: Discrepancy
    exchange: Exchange
    actions: tuple[Action, ...]
    exchanges: tuple[Exchange, ...]


class Violated(Exception):
    def __init__(self, violation: Violation) -> None:
        super().__init__(violation.discrepancy.problem)
        self.violation = violation


class Unresolvable(Exception):
    """An action names the session of a create that is not in this replay (or failed)."""


class Sequence:
    def __init__(self, world: World, given: tuple[Given, Given]) -> None:
        self.world = world
        self.client = world.ctx.client
        self.given = given
        profile = self.client.profile
        # A layout without users (``users = false``): sessions belong to no one, so both
        # actors are one tenant, and the model expects no isolation between them.
        self.users = (given[0].user, given[1].user if profile.users else given[0].user)
        self.model = Model(world.judged, profile)
        for who, session in enumerate(given):
            self.model.adopt(self.users[who], session.session_id, session.metadata, session.phase)
        self.actions: list[Action] = []
        self.steps: list[Exchange] = []
        #: The id each create answered, by the create's label.
        self.created: dict[int, str] = {}
        #: Every session of the sequence, with the user that owns it, oldest first.
        self.refs: list[tuple[int, Ref]] = [(0, Ref("given", 0)), (1, Ref("given", 1))]
        #: The session the last action named or created, with the user that owns it.
        self.last: tuple[int, Ref] | None = None
        #: Appended to the client-chosen ids of this sequence (and of each replay): ids
        #: may be unique across users, so no id an earlier request of the run used is
        #: ever chosen again (CONTRACT.md, "Precisions").
        self.chosen_suffix = f"{world.ctx.rng.getrandbits(40):010x}"
        #: Ids of the sequence the profile's id format does not admit (a client-chosen
        #: name, a made-up never-created id), each with the id sent in its place: one the
        #: format admits, so that a lookup really happens (CONTRACT.md, "Precisions").
        self.in_format: dict[str, str] = {}

    def refs_of(self, who: int) -> list[Ref]:
        return [ref for owner, ref in self.refs if owner == who]

    def _owner(self, ref: Ref) -> int:
        return next((owner for owner, known in self.refs if known == ref), 0)

    def resolve(self, ref: Ref) -> str:
        if ref.kind == "given":
            return self.given[ref.index].session_id
        if ref.kind == "created":
            if ref.index not in self.created:
                raise Unresolvable(f"no create labelled {ref.index} answered an id")
            return self.created[ref.index]
        value = f"{ref.value}-{self.chosen_suffix}" if ref.value in CHOSEN_IDS else ref.value
        ids = self.client.profile.session_ids
        if is_sentinel(value) or ids.admits(value):
            return value
        if value not in self.in_format:
            self.in_format[value] = ids.invent(self.world.ctx.rng)
        return self.in_format[value]

    def perform(self, action: Action) -> None:
        """Send the action, judge the answer; raises :class:`Violated`, or
        :class:`Unresolvable`, or (no usable answer) ``TargetError`` / ``Undecided``."""
        try:
            exchange, found = self._send(action)
        except NotInLayout:
            return  # the target's layout cannot carry this request: it is not sent
        for discrepancy in found:
            if discrepancy.clause in self.world.muted:
                self.model.taint(discrepancy.keys)
                continue
            raise Violated(
                Violation(
                    discrepancy.clause,
                    discrepancy,
                    exchange,
                    tuple(self.actions),
                    (*self._given_used(), *self.steps),
                )
            )

    def _send(self, action: Action) -> tuple[Exchange, list[Discrepancy]]:
        user = self.users[action.who]
        sid = None if action.ref is None else self.resolve(action.ref)
        client, model = self.client, self.model
        exchange: Exchange
        found: list[Discrepancy]
        if action.role == "create":
            body: dict[str, JSONValue] = {"metadata": action.metadata or {}}
            if sid is not None:
                body["session_id"] = sid
            exchange = client.create(user, body)
            answered = client.created_id(exchange)
            if answered is not None and exchange.status in (200, 201):
                self.world.ctx.track(user, answered)  # the clean-up deletes it
                self.created[action.label] = answered
                self.refs.append((action.who, Ref("created", action.label)))
                self.last = (action.who, Ref("created", action.label))
            self._sent(action, exchange)
            found = model.judge_create(user, sid, action.metadata or {}, exchange)
        elif action.role == "list":
            exchange = client.list(user)
            self._sent(action, exchange)
            found = model.judge_list(user, exchange)
        else:
            assert sid is not None, f"{action.role} names a session"
            exchange, found = self._on_session(action, user, sid)
            if action.ref is not None and action.ref.kind != "literal":
                self.last = (self._owner(action.ref), action.ref)
        return exchange, found

    def _on_session(
        self, action: Action, user: str, sid: str
    ) -> tuple[Exchange, list[Discrepancy]]:
        client, model = self.client, self.model
        if action.role in ("run", "run_stream"):
            send = client.run if action.role == "run" else client.run_stream
            exchange = send(user, sid, action.text)
            self._sent(action, exchange)
            return exchange, model.judge_run(user, sid, exchange, stream=action.role != "run")
        judge = {
            "get": model.judge_get,
            "status": model.judge_status,
            "delete": model.judge_delete,
        }[action.role]
        exchange = client.call(action.role, user_id=user, session_id=sid)
        self._sent(action, exchange)
        return exchange, judge(user, sid, exchange)

    def _sent(self, action: Action, exchange: Exchange) -> None:
        self.actions.append(action)
        self.steps.append(exchange)
        if exchange.status in BACK_PRESSURE:
            raise Undecided(
                f"the target shed load ({exchange.status}) during the stateful exploration; "
                "it cannot decide under back pressure"
            )

    def _given_used(self) -> list[Exchange]:
        """The exchanges that made the given sessions this sequence relied on: those its
        actions named, and those of users whose list it asked for."""
        used: list[Exchange] = []
        for who, session in enumerate(self.given):
            named = any(
                action.ref == Ref("given", who) or (action.role == "list" and action.who == who)
                for action in self.actions
            )
            if named:
                used += session.exchanges
        return used


def _phase_of(exchange: Exchange) -> str | None:
    body = exchange.body_json()
    session = body.get("session") if isinstance(body, dict) else None
    phase = session.get("phase") if isinstance(session, dict) else None
    return phase if isinstance(phase, str) else None
