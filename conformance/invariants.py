"""The invariants of the stateful family: its clauses, the :class:`Discrepancy` that
names one broken, and what one session must show whatever happened to it.

:class:`Tracked` is what the model (:mod:`conformance.model`) knows of one session: its
owner, its metadata as sent, its turns (runs answered 200) and the highest phase seen.
Its :meth:`~Tracked.view` judges a Session object an answer shows (owner, metadata,
turns, phase), and :meth:`~Tracked.phase_seen` a phase: phases only move forward,
``Ready`` and ``Failed`` are final, and a run answered 200 shows the session was Ready.
"""

from __future__ import annotations

import enum
import json
from collections import Counter
from dataclasses import dataclass

from conformance.records import JSONValue

NOT_FOUND = "STATE-001"
LIVE = "STATE-002"
TURNS = "STATE-003"
METADATA = "STATE-004"
READINESS = "STATE-005"
CREATE = "STATE-006"
SENTINEL = "STATE-007"
CLAUSES = (NOT_FOUND, LIVE, TURNS, METADATA, READINESS, CREATE, SENTINEL)

PHASE_RANK = {"Starting": 0, "Provisioning": 1, "Ready": 2, "Failed": 2}
#: Sentinel ids, compared after trimming and lower-casing (CONTRACT.md).
SENTINELS = frozenset({"undefined", "null", "none", "nil", "nan", "[object object]", ""})

Key = tuple[str, str]


def is_sentinel(value: str) -> bool:
    return value.strip().lower() in SENTINELS


def same_json(a: JSONValue, b: JSONValue) -> bool:
    """Equal as JSON values, type for type (``true`` is not ``1``, ``1`` is not ``"1"``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """An answer the contract does not allow here, and the sessions it casts doubt on."""

    clause: str
    problem: str
    expected: str
    keys: tuple[Key, ...] = ()
    #: The status the contract wanted instead, when it names one.
    status: int | None = None


class Life(enum.Enum):
    LIVE = "live"
    DELETED = "deleted"
    #: Something the target did cast doubt on this session: it is no longer judged.
    TAINTED = "tainted"


@dataclass(slots=True)
class Tracked:
    """What the model knows of one session (mutable: the model updates it)."""

    user: str
    session_id: str
    metadata: JSONValue
    turns: int = 0
    rank: int = -1
    #: How the session was seen Ready (for messages), or None.
    ready_seen: str | None = None
    failed_seen: bool = False
    life: Life = Life.LIVE

    @property
    def name(self) -> str:
        return f"session {self.session_id!r} of {self.user}"

    def view(
        self, session: dict[str, JSONValue], where: str, judged: Counter[str]
    ) -> list[Discrepancy]:
        """Judge a Session object a create, get or list answer shows of this session."""
        tracked = self
        found: list[Discrepancy] = []
        key = (tracked.user, tracked.session_id)
        owner = session.get("user_id")
        if "user_id" in session and owner != tracked.user:
            judged[LIVE] += 1
            found.append(
                Discrepancy(
                    LIVE,
                    f"{where} shows {tracked.name} with user_id {owner!r}",
                    f"user_id {tracked.user!r}",
                    (key,),
                )
            )
        if "metadata" in session:
            judged[METADATA] += 1
            if not same_json(session["metadata"], tracked.metadata):
                found.append(
                    Discrepancy(
                        METADATA,
                        f"{where} shows the metadata of {tracked.name} as "
                        f"{_short(session['metadata'])}",
                        f"exactly what its create sent: {_short(tracked.metadata)}",
                        (key,),
                    )
                )
        if "turns" in session:
            judged[TURNS] += 1
            turns = session["turns"]
            if isinstance(turns, bool) or turns != tracked.turns:
                found.append(
                    Discrepancy(
                        TURNS,
                        f"{where} shows turns {turns!r} for {tracked.name}, on which "
                        f"{tracked.turns} run(s) answered 200",
                        f"turns == {tracked.turns}",
                        (key,),
                    )
                )
        phase = session.get("phase")
        if isinstance(phase, str):
            found += self.phase_seen(phase, where, judged)
        return found

    def phase_seen(
        self, phase: str, where: str, judged: Counter[str], *, ran: bool = False
    ) -> list[Discrepancy]:
        """Judge a phase seen for this session (never back; Ready and Failed final), and
        remember it."""
        tracked = self
        rank = PHASE_RANK.get(phase)
        if rank is None:
            return []  # not a phase of the contract: the schema clauses judge that
        judged[READINESS] += 1
        problem = None
        if tracked.failed_seen and phase != "Failed":
            problem = f"{where} shows {tracked.name} {phase} after it was seen Failed"
        elif tracked.ready_seen is not None and phase != "Ready":
            problem = f"{where} shows {tracked.name} {phase} after {tracked.ready_seen}"
        elif rank < tracked.rank:
            problem = f"{where} shows {tracked.name} {phase}, a phase it had passed"
        if ran and tracked.failed_seen:
            problem = f"{where} on {tracked.name}, which was seen Failed"
        tracked.rank = max(tracked.rank, rank)
        if phase == "Ready" and tracked.ready_seen is None:
            tracked.ready_seen = where if where.startswith("a ") else f"{where} showed it Ready"
        tracked.failed_seen = tracked.failed_seen or phase == "Failed"
        if problem is None:
            return []
        return [
            Discrepancy(
                READINESS,
                problem,
                "phases only move forward (Starting, Provisioning, then Ready or Failed, "
                "both final); a run answers 200 only on a Ready session",
                ((tracked.user, tracked.session_id),),
            )
        ]


def _short(value: JSONValue, width: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= width else text[: width - 1] + "…"
