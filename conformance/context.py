"""What a check gets: the client, its seed, the run's settings and session helpers.

A check is a function ``check(ctx: CheckContext) -> Iterator[Finding]``. It yields a
finding for each way the target broke its clause and never prints. It raises
:class:`NotApplicable` when the target lacks what the clause needs, and
:class:`Undecided` when the harness could not decide (a precondition it could not set
up, a timeout): the runner turns these into ``not_applicable`` and ``error``.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from conformance.client import ContractClient
from conformance.leftovers import HARNESS_USERS, sessions_made
from conformance.records import Exchange, JSONValue
from conformance.registry import Clause

FINAL_PHASES = frozenset({"Ready", "Failed"})
PHASE_ORDER = {"Starting": 0, "Provisioning": 1, "Ready": 2, "Failed": 2}


class NotApplicable(Exception):
    """The target lacks a role or feature the clause needs; the reason says which."""


class Undecided(Exception):
    """The harness could not decide the clause; the reason says why."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Knobs of one run, shared by every check."""

    seed: int = 0
    max_examples: int = 25
    ready_timeout: float = 30.0
    #: The first wait between polls (doubling up to ``poll_max`` when the target gives no
    #: ETA), and between the polls made after a final phase to see that it stays final.
    poll_initial: float = 0.01
    poll_max: float = 1.0
    #: Requests sent at once by the concurrency clauses and ID-005 (``--concurrency``).
    concurrency: int = 32
    #: Steps per sequence of the stateful exploration (``--max-steps``); it explores
    #: ``max_examples`` sequences.
    max_steps: int = 50
    token: str | None = None
    cors_origin: str | None = None
    features: frozenset[str] = field(default_factory=lambda: frozenset({"client_ids"}))
    #: Lanes a check may run at once (the run's ``--workers``): the stateful exploration
    #: runs its lanes of sequences that many at a time (what it sends does not depend on it).
    lanes: int = 1
    #: Seconds the stateful exploration may take besides its count of sequences
    #: (``--stateful-budget``; None: no bound).
    stateful_budget: float | None = None


@dataclass(frozen=True, slots=True)
class Poll:
    """The status exchanges of one poll loop, and the phase it ended in (None: timed out)."""

    exchanges: tuple[Exchange, ...]
    final_phase: str | None
    seconds: float


@dataclass(frozen=True, slots=True)
class Created:
    session_id: str
    user_id: str
    exchange: Exchange


class CheckContext:
    def __init__(
        self, clause: Clause, client: ContractClient, settings: Settings, seed: int
    ) -> None:
        self.clause = clause
        self.client = client
        self.settings = settings
        self.seed = seed
        self.rng = random.Random(seed)
        self._created: dict[tuple[str, str], bool] = {}
        self._deleted: set[tuple[str, str]] = set()
        self._mark = client.target.mark()
        #: Values a property judged; and why others were skipped (not in the layout).
        self.judged = 0
        self.skipped: dict[str, int] = {}
        #: What the check says it did, for a clause that passed (default: the runner
        #: counts the exchanges); e.g. a clause decided by an exploration it shares.
        self.summary: str | None = None
        #: Sessions the check's traffic made for users outside the harness's namespace
        #: (left alone by the clean-up; the run names them in its notes).
        self.foreign: set[tuple[str, str]] = set()

    # -- names ----------------------------------------------------------------------------

    def new_user(self) -> str:
        """A fresh user id, valid for the contract's pattern, derived from the seed."""
        return f"sc-user-{self.rng.getrandbits(48):012x}"

    def new_session_id(self) -> str:
        """A valid session id that no one has created (for never-created probes and
        client-chosen ids), in the profile's id format (by default ``sc-<16 hex>``)."""
        return self.client.profile.session_ids.invent(self.rng)

    # -- sessions -------------------------------------------------------------------------

    def create(self, user_id: str, body: JSONValue | None = None) -> Created:
        """Create a session, or raise :class:`Undecided` if the target would not."""
        exchange = self.client.create(user_id, body)
        session_id = self.client.created_id(exchange)
        if exchange.status not in (200, 201) or session_id is None:
            raise Undecided(
                f"precondition failed: create for user {user_id} answered "
                f"{_describe(exchange)} with no usable session id"
            )
        self.track(user_id, session_id)
        return Created(session_id=session_id, user_id=user_id, exchange=exchange)

    def track(self, user_id: str, session_id: str) -> None:
        """Remember a session the harness made, so :meth:`cleanup` deletes it."""
        self._created[(user_id, session_id)] = True

    def forget(self, user_id: str, session_id: str) -> None:
        """The session was deleted by the check itself: no clean-up needed."""
        self._created.pop((user_id, session_id), None)
        self._deleted.add((user_id, session_id))

    def poll(self, user_id: str, session_id: str) -> Poll:
        """Poll status until a final phase or the ready timeout: after each poll, wait the
        target's ETA when it gives one, else back off exponentially (both clamped to
        ``poll_initial``..``poll_max``)."""
        started = time.monotonic()
        delay = self.settings.poll_initial
        seen: list[Exchange] = []
        while True:
            exchange = self.client.status(user_id, session_id)
            seen.append(exchange)
            phase = _phase(exchange)
            elapsed = time.monotonic() - started
            if phase in FINAL_PHASES:
                return Poll(tuple(seen), phase, elapsed)
            if exchange.status != 200 or elapsed >= self.settings.ready_timeout:
                return Poll(tuple(seen), None, elapsed)
            wait = _eta_seconds(exchange)
            if wait is None:  # no ETA: exponential backoff from a short start
                wait, delay = delay, min(delay * 2, self.settings.poll_max)
            wait = min(max(wait, self.settings.poll_initial), self.settings.poll_max)
            left = self.client.target.time_left()  # never sleep past the run's deadline
            wait = wait if left is None else min(wait, left)
            time.sleep(min(wait, max(0.0, self.settings.ready_timeout - elapsed)))

    def ready(self, user_id: str | None = None, body: JSONValue | None = None) -> Created:
        """Create a session and wait until it is Ready, or raise :class:`Undecided`."""
        created = self.create(user_id or self.new_user(), body)
        if self.client.profile.readiness == "immediate" or not self.client.profile.has("status"):
            return created
        poll = self.poll(created.user_id, created.session_id)
        if poll.final_phase != "Ready":
            last = poll.exchanges[-1]
            why = (
                "ended Failed"
                if poll.final_phase == "Failed"
                else f"did not become Ready within {self.settings.ready_timeout:g}s"
            )
            raise Undecided(
                f"precondition failed: session {created.session_id} {why} "
                f"(last status: {_describe(last)})"
            )
        return created

    def cleanup(self) -> None:
        """Delete, best effort, every session this check created and did not delete: those
        it tracked, and any other its traffic may have made for a user id of the harness's
        (:func:`~conformance.leftovers.sessions_made`). No other user's session is touched."""
        sent = self.client.target.since(self._mark)
        for key in sorted(sessions_made(self.client, sent, everyone=True)):
            if key in self._deleted or key in self._created:
                continue
            if key[0].startswith(HARNESS_USERS):
                self._created[key] = True
            else:  # never deleted: the session of a user who is not the harness's
                self.foreign.add(key)
        if not self.client.profile.has("delete"):
            return
        for user_id, session_id in list(self._created):
            self._deleted.add((user_id, session_id))
            try:
                self.client.delete(user_id, session_id)
            except Exception:
                continue
        self._created.clear()

    def absorb(self, other: CheckContext) -> None:
        """Take in what a context this check opened for a lane of its own did, once that
        lane is cleaned up: its sessions are deleted (no second clean-up), its foreign
        ones named."""
        self._deleted |= other._deleted
        self.foreign |= other.foreign
        self.judged += other.judged
        for reason, count in other.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + count

    def untranslatable(self, reason: str) -> None:
        """A value a property drew that the target's layout cannot express (skipped)."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def require_feature(self, feature: str, why: str) -> None:
        if feature not in self.settings.features:
            raise NotApplicable(why)


def _phase(exchange: Exchange) -> str | None:
    body = exchange.body_json()
    if exchange.status == 200 and isinstance(body, dict):
        phase = body.get("phase")
        return phase if isinstance(phase, str) else None
    return None


def _eta_seconds(exchange: Exchange) -> float | None:
    """The target's own estimate of the time left (``progress.eta_ms``), if it gave one."""
    body = exchange.body_json()
    progress = body.get("progress") if isinstance(body, dict) else None
    eta = progress.get("eta_ms") if isinstance(progress, dict) else None
    if isinstance(eta, int) and not isinstance(eta, bool) and eta > 0:
        return eta / 1000
    return None


def _describe(exchange: Exchange) -> str:
    if exchange.response is None:
        return f"no response ({exchange.transport_error})"
    text = exchange.response.body[:200].decode("utf-8", "replace")
    return f"{exchange.response.status} {text}"
