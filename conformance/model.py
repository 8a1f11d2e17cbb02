"""The model: what Session Contract v1 says must be true after any sequence of requests.

The stateful exploration (:mod:`conformance.stateful`) sends random interleavings of
create, get, list, status, run, streamed run and delete for two users; after each answer
it asks the :class:`Model` whether that answer is what the contract allows *given
everything that came before*, and the model updates what it knows. The model, not a
script of fixed steps, decides what is expected:

- which sessions exist, for whom (``live``), which were deleted, and which ids were
  never created for a user (another user's, made up, deleted): those are 404;
- each session's metadata (as sent at its create), its turns (the runs on it answered
  200) and the highest phase seen (phases never go back; ``Ready`` and ``Failed`` are
  final; a run answered 200 shows the session was ``Ready``);
- sentinel ids, wherever a session id goes, are 400 ``SESSION_ID_MISSING``.

In a layout without users (``users = false``) the sequence acts as one tenant (no
isolation is expected) and a list may hold sessions the sequence never saw.

Each rule of the model is tied to one clause of the ``stateful`` family (``STATE-*``).
A :class:`Discrepancy` names the clause, what was wrong and what was expected, and the
sessions it casts doubt on: when its clause is not under judgement (see
:mod:`conformance.stateful`), those sessions are *tainted* and never judged again, so
one fault cannot be blamed on another clause. Where the contract leaves a choice free,
the model allows every choice (list order, extra properties, a 409 for a client-chosen
id another user holds, a run answered 200 *or* 409 while a session provisions).
"""

from __future__ import annotations

from collections import Counter

from conformance.expectations import describe
from conformance.expectations import field as _field
from conformance.invariants import (
    CLAUSES,
    CREATE,
    LIVE,
    METADATA,
    NOT_FOUND,
    READINESS,
    SENTINEL,
    TURNS,
    Discrepancy,
    Key,
    Life,
    Tracked,
    is_sentinel,
)
from conformance.profile import CANONICAL, NotInLayout, Profile, created_id
from conformance.records import Exchange, JSONValue


class Model:
    """The sessions of one sequence; each ``judge_*`` method checks one answer and
    updates the model. ``judged`` counts, per clause, the answers judged against it."""

    def __init__(self, judged: Counter[str], profile: Profile = CANONICAL) -> None:
        self.judged = judged
        #: The target's profile: where a create answer names the new session.
        self.profile = profile
        #: Whether sessions belong to users (False: the layout has none, ``users =
        #: false``: a list holds every session of the target, this sequence's or not).
        self.users = profile.users
        self.sessions: dict[Key, Tracked] = {}
        #: Every id a create answered in this sequence (server-minted ids never repeat).
        self.minted: set[str] = set()

    # -- what the model knows -------------------------------------------------------------

    def life(self, user: str, session_id: str) -> Life | None:
        tracked = self.sessions.get((user, session_id))
        return None if tracked is None else tracked.life

    def ids_of(self, user: str) -> list[str]:
        """The ids of the user's sessions in this sequence, live or not, oldest first."""
        return [sid for (owner, sid) in self.sessions if owner == user]

    def ids_of_others(self, user: str) -> list[str]:
        return [sid for (owner, sid) in self.sessions if owner != user]

    def adopt(self, user: str, session_id: str, metadata: JSONValue, phase: str | None) -> None:
        """A session made before the sequence (and seen in ``phase``)."""
        tracked = Tracked(user, session_id, metadata)
        self.sessions[(user, session_id)] = tracked
        self.minted.add(session_id)
        if phase is not None:
            tracked.phase_seen(phase, "its status poll", self.judged)

    def taint(self, keys: tuple[Key, ...]) -> None:
        for user, session_id in keys:
            tracked = self.sessions.get((user, session_id))
            if tracked is None:
                tracked = Tracked(user, session_id, None)
                self.sessions[(user, session_id)] = tracked
            tracked.life = Life.TAINTED

    # -- judgements -----------------------------------------------------------------------

    def judge_create(
        self, user: str, chosen: str | None, metadata: JSONValue, exchange: Exchange
    ) -> list[Discrepancy]:
        answered = _created_id(self.profile, exchange)
        doubt = tuple(
            (user, sid) for sid in dict.fromkeys((chosen, answered)) if isinstance(sid, str)
        )
        life = None if chosen is None else self.life(user, chosen)
        if life is Life.TAINTED:
            if answered is not None:
                self.taint(((user, answered),))
            return []
        self.judged[CREATE] += 1
        if chosen is not None and life is Life.LIVE:
            if _is_error(exchange, 409, "SESSION_EXISTS"):
                return []
            return [
                Discrepancy(
                    CREATE,
                    f"create with client-chosen id {chosen!r}, which {user} already has "
                    f"live, answered {describe(exchange)}",
                    "409 SESSION_EXISTS; the live session stays as it was",
                    doubt,
                )
            ]
        taken_elsewhere = any(
            sid == chosen and owner != user and t.life is not Life.DELETED
            for (owner, sid), t in self.sessions.items()
        )
        if taken_elsewhere and _is_error(exchange, 409, "SESSION_EXISTS"):
            return []  # free: one namespace of client-chosen ids for all users
        if exchange.status != 201 or answered is None:
            what = f"client-chosen id {chosen!r}" if chosen else "no session_id"
            return [
                Discrepancy(
                    CREATE,
                    f"create for {user} with {what} answered {describe(exchange)}",
                    "201 with the new session's id",
                    doubt,
                )
            ]
        found: list[Discrepancy] = []
        if is_sentinel(answered):
            found.append(
                Discrepancy(CREATE, f"create returned the sentinel id {answered!r}", "a real id")
            )
        elif chosen is not None and answered != chosen:
            found.append(
                Discrepancy(
                    CREATE,
                    f"create with client-chosen id {chosen!r} returned id {answered!r}",
                    f"session_id {chosen!r}, the id the client chose",
                    doubt,
                )
            )
        elif chosen is None and (answered in self.minted or (user, answered) in self.sessions):
            found.append(
                Discrepancy(
                    CREATE,
                    f"create for {user} returned id {answered!r}, which an earlier create of "
                    "this sequence already returned",
                    "a new id, distinct from every id handed out before",
                    doubt,
                )
            )
        if found:
            return found
        tracked = Tracked(user, answered, metadata)
        self.sessions[(user, answered)] = tracked
        self.minted.add(answered)
        session = field(exchange, "session")
        if isinstance(session, dict):
            found += tracked.view(session, "the create answer", self.judged)
        return found

    def judge_get(self, user: str, session_id: str, exchange: Exchange) -> list[Discrepancy]:
        return self._judge_path("get", user, session_id, exchange)

    def judge_status(self, user: str, session_id: str, exchange: Exchange) -> list[Discrepancy]:
        return self._judge_path("status", user, session_id, exchange)

    def judge_delete(self, user: str, session_id: str, exchange: Exchange) -> list[Discrepancy]:
        return self._judge_path("delete", user, session_id, exchange)

    def judge_list(self, user: str, exchange: Exchange) -> list[Discrepancy]:
        entries = field(exchange, "sessions")
        if entries is ABSENT:
            return []
        self.judged[LIVE] += 1
        if exchange.status != 200 or not isinstance(entries, list):
            return [
                Discrepancy(
                    LIVE,
                    f"list of {user}'s sessions answered {describe(exchange)}",
                    "200 with {ok: true, sessions: [...]}",
                    self._keys_of(user),
                )
            ]
        found: list[Discrepancy] = []
        seen: set[str] = set()
        for entry in entries:
            sid = entry.get("session_id") if isinstance(entry, dict) else None
            if not isinstance(entry, dict) or not isinstance(sid, str):
                continue
            tracked = self.sessions.get((user, sid))
            if sid in seen:
                found.append(self._listed_twice(user, sid))
            seen.add(sid)
            if tracked is not None and tracked.life is Life.TAINTED:
                continue
            if tracked is None and not self.users:
                continue  # no users: another sequence's or check's session, not judged
            if tracked is None or tracked.life is not Life.LIVE:
                found.append(self._listed_but_absent(user, sid))
                continue
            found += tracked.view(entry, f"{user}'s list", self.judged)
        for key, tracked in self.sessions.items():
            if key[0] == user and tracked.life is Life.LIVE and key[1] not in seen:
                found.append(
                    Discrepancy(
                        LIVE,
                        f"{user}'s list lacks live {tracked.name}: {describe(exchange)}",
                        "every live session of the user in its list",
                        (key,),
                    )
                )
        return found

    def judge_run(
        self, user: str, session_id: str, exchange: Exchange, *, stream: bool
    ) -> list[Discrepancy]:
        role = "streamed run" if stream else "run"
        if is_sentinel(session_id):
            return self._sentinel(role, user, session_id, exchange)
        tracked = self.sessions.get((user, session_id))
        if tracked is not None and tracked.life is Life.TAINTED:
            return []
        if tracked is None or tracked.life is not Life.LIVE:
            return self._not_found(role, user, session_id, exchange)
        self.judged[READINESS] += 1
        if exchange.status == 200:
            tracked.turns += 1
            return tracked.phase_seen("Ready", f"a {role} answered 200", self.judged, ran=True)
        if _is_error(exchange, 409, "SESSION_NOT_READY"):
            if tracked.ready_seen is None:
                return []
            return [
                Discrepancy(
                    READINESS,
                    f"{role} on {tracked.name} answered 409 SESSION_NOT_READY after "
                    f"{tracked.ready_seen} (Ready is final)",
                    "200: the session was seen Ready",
                    ((user, session_id),),
                )
            ]
        return [
            Discrepancy(
                READINESS,
                f"{role} on live {tracked.name} answered {describe(exchange)}",
                "200 once Ready, or 409 SESSION_NOT_READY before",
                ((user, session_id),),
            )
        ]

    # -- the parts ------------------------------------------------------------------------

    def _judge_path(
        self, role: str, user: str, session_id: str, exchange: Exchange
    ) -> list[Discrepancy]:
        """get, status or delete of ``/users/{user}/sessions/{session_id}``."""
        if is_sentinel(session_id):
            return self._sentinel(role, user, session_id, exchange)
        tracked = self.sessions.get((user, session_id))
        if tracked is not None and tracked.life is Life.TAINTED:
            return []
        if tracked is None or tracked.life is not Life.LIVE:
            return self._not_found(role, user, session_id, exchange)
        self.judged[LIVE] += 1
        key = (user, session_id)
        if exchange.status != 200:
            return [
                Discrepancy(
                    LIVE,
                    f"{role} of live {tracked.name} answered {describe(exchange)}",
                    f"200 with {tracked.session_id!r}",
                    (key,),
                )
            ]
        found: list[Discrepancy] = []
        places = [("session_id",)] + ([("session", "session_id")] if role == "get" else [])
        for place in places:
            got = field(exchange, *place)
            if got is ABSENT:  # the target's layout has no such place: nothing to compare
                continue
            if got != session_id:
                found.append(
                    Discrepancy(
                        LIVE,
                        f"the {role} answer for {tracked.name} has {'.'.join(place)} {got!r}",
                        f"{'.'.join(place)} == {session_id!r}",
                        (key,),
                    )
                )
        if role == "delete":
            tracked.life = Life.DELETED
            tracked.ready_seen, tracked.failed_seen, tracked.rank = None, False, -1
        elif role == "get":
            session = field(exchange, "session")
            if isinstance(session, dict):
                found += tracked.view(session, "get", self.judged)
        else:
            phase = field(exchange, "phase")
            if isinstance(phase, str):
                found += tracked.phase_seen(phase, "status", self.judged)
        return found

    def _not_found(
        self, role: str, user: str, session_id: str, exchange: Exchange
    ) -> list[Discrepancy]:
        self.judged[NOT_FOUND] += 1
        if _is_error(exchange, 404, "SESSION_NOT_FOUND"):
            return []
        return [
            Discrepancy(
                NOT_FOUND,
                f"{role} by {user} of {session_id!r}, {self._why_absent(user, session_id)}, "
                f"answered {describe(exchange)}",
                "404 SESSION_NOT_FOUND",
                ((user, session_id),),
                status=404,
            )
        ]

    def _sentinel(
        self, role: str, user: str, session_id: str, exchange: Exchange
    ) -> list[Discrepancy]:
        self.judged[SENTINEL] += 1
        if _is_error(exchange, 400, "SESSION_ID_MISSING"):
            return []
        # A sentinel that was looked up may have touched any session of the user.
        doubt = self._keys_of(user) if exchange.status is not None and exchange.status < 300 else ()
        return [
            Discrepancy(
                SENTINEL,
                f"{role} by {user} with the sentinel session id {session_id!r} answered "
                f"{describe(exchange)}",
                "400 SESSION_ID_MISSING, before any lookup",
                doubt,
                status=400,
            )
        ]

    def _listed_but_absent(self, user: str, session_id: str) -> Discrepancy:
        clause = SENTINEL if is_sentinel(session_id) else LIVE
        return Discrepancy(
            clause,
            f"{user}'s list holds {session_id!r}, {self._why_absent(user, session_id)}",
            "exactly the user's live sessions in its list",
            ((user, session_id),),
        )

    def _listed_twice(self, user: str, session_id: str) -> Discrepancy:
        return Discrepancy(
            LIVE,
            f"{user}'s list holds {session_id!r} twice",
            "each live session once in its user's list",
            ((user, session_id),),
        )

    def _why_absent(self, user: str, session_id: str) -> str:
        if is_sentinel(session_id):
            return "a sentinel id"
        if self.life(user, session_id) is Life.DELETED:
            return "deleted earlier in the sequence"
        owners = [
            owner
            for (owner, sid), t in self.sessions.items()
            if sid == session_id and owner != user and t.life is not Life.DELETED
        ]
        if owners:
            return f"a session of {owners[0]}, not of {user}"
        return f"never created for {user}"

    def _keys_of(self, user: str) -> tuple[Key, ...]:
        return tuple(
            key for key, t in self.sessions.items() if key[0] == user and t.life is Life.LIVE
        )


class _Absent:
    """What :func:`field` returns for a field the target's layout does not have."""


ABSENT = _Absent()


def field(exchange: Exchange, *path: str) -> JSONValue | _Absent:
    """The value at ``path`` in the answer's body (``None`` if missing), or
    :data:`ABSENT` where the target's layout has no such field: then the model does
    not judge it."""
    try:
        return _field(exchange, *path)
    except NotInLayout:
        return ABSENT


def _is_error(exchange: Exchange, status: int, code: str) -> bool:
    """The status, with the code where the target's error envelope carries one."""
    got = field(exchange, "error")
    return exchange.status == status and (got is ABSENT or got == code)


def _created_id(profile: Profile, exchange: Exchange) -> str | None:
    """The id a create answered 2xx handed out, wherever the profile says a create names
    it (a body field, ``Location``, a header: :func:`conformance.profile.created_id`)."""
    if exchange.status is None or not 200 <= exchange.status < 300:
        return None
    return created_id(profile, exchange)


__all__ = [
    "CLAUSES",
    "CREATE",
    "LIVE",
    "METADATA",
    "NOT_FOUND",
    "READINESS",
    "SENTINEL",
    "TURNS",
    "Discrepancy",
    "Model",
]
