"""The session store: every session of one reference app, in memory, behind a lock.

Sessions are keyed by ``(user_id, session_id)``: one user's ids never collide with or
reveal another's. Time comes from two injectable clocks: ``clock`` (monotonic seconds)
drives provisioning and expiry, ``wall_clock`` stamps ``created_at``. A session's phase
is not stored but derived from the clock (:func:`status_at`), so it moves on by itself;
an expired session is dropped the next time anything touches it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from conformance.reference.models import Failure, JSONObject, Phase, Progress, Session, Status

#: The share of the provisioning time spent in ``Starting`` before ``Provisioning``.
STARTING_SHARE = 0.1


def utc_now() -> datetime:
    return datetime.now(UTC)


def status_at(session: Session, now: float) -> Status:
    """The status of ``session`` at clock reading ``now``.

    ``Starting`` for the first 10 % of the provisioning time, then ``Provisioning``, then
    ``Ready`` (final). ``percent`` is the elapsed share, at most 99 before ``Ready`` and 100
    at ``Ready``; ``eta_ms`` the milliseconds left (0 at ``Ready``). A failed session stays
    ``Failed`` at the percent it had reached, with no ETA.
    """
    if session.failure is not None:
        return Status(Phase.FAILED, Progress(session.failed_percent, None), session.failure)
    total = session.provision_seconds
    elapsed = max(0.0, now - session.started)
    if total <= 0 or elapsed >= total:
        return Status(Phase.READY, Progress(100, 0))
    share = elapsed / total
    phase = Phase.STARTING if share < STARTING_SHARE else Phase.PROVISIONING
    eta_ms = max(0, math.ceil((total - elapsed) * 1000))
    return Status(phase, Progress(min(99, int(share * 100)), eta_ms))


@dataclass(slots=True)
class _Entry:
    session: Session
    expires: float


class SessionStore:
    """Thread-safe: every method takes the lock, and hands out frozen snapshots."""

    def __init__(
        self,
        *,
        provision_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.provision_seconds = provision_seconds
        self.clock = clock
        self.wall_clock = wall_clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _Entry] = {}

    def __len__(self) -> int:
        with self._lock:
            self._sweep(self.clock())
            return len(self._entries)

    def status_of(self, session: Session) -> Status:
        return status_at(session, self.clock())

    def insert(
        self, user_id: str, session_id: str, metadata: JSONObject, ttl_seconds: float
    ) -> Session | None:
        """Create the session, or return None if ``user_id`` already has ``session_id``."""
        with self._lock:
            now = self.clock()
            self._sweep(now)
            key = (user_id, session_id)
            if key in self._entries:
                return None
            session = Session(
                session_id=session_id,
                user_id=user_id,
                created_at=self.wall_clock(),
                metadata=metadata,
                turns=0,
                started=now,
                provision_seconds=self.provision_seconds,
            )
            self._entries[key] = _Entry(session, expires=now + ttl_seconds)
            return session

    def get(self, user_id: str, session_id: str) -> Session | None:
        with self._lock:
            entry = self._live(user_id, session_id, self.clock())
            return None if entry is None else entry.session

    def list(self, user_id: str) -> list[Session]:
        """The user's live sessions, oldest first."""
        with self._lock:
            self._sweep(self.clock())
            return [e.session for (owner, _), e in self._entries.items() if owner == user_id]

    def delete(self, user_id: str, session_id: str) -> bool:
        with self._lock:
            if self._live(user_id, session_id, self.clock()) is None:
                return False
            del self._entries[(user_id, session_id)]
            return True

    def record_turn(self, user_id: str, session_id: str) -> Session | None:
        """Count one successful run; None if the session is gone."""
        with self._lock:
            entry = self._live(user_id, session_id, self.clock())
            if entry is None:
                return None
            entry.session = replace(entry.session, turns=entry.session.turns + 1)
            return entry.session

    def fail(self, user_id: str, session_id: str, failure: Failure) -> Session | None:
        """Move a session that is still provisioning to ``Failed`` (final).

        A session already ``Ready`` or ``Failed`` stays as it is. None if it is gone.
        """
        with self._lock:
            now = self.clock()
            entry = self._live(user_id, session_id, now)
            if entry is None:
                return None
            status = status_at(entry.session, now)
            if status.phase in (Phase.STARTING, Phase.PROVISIONING):
                entry.session = replace(
                    entry.session, failure=failure, failed_percent=status.progress.percent
                )
            return entry.session

    # -- under the lock -------------------------------------------------------------------

    def _live(self, user_id: str, session_id: str, now: float) -> _Entry | None:
        key = (user_id, session_id)
        entry = self._entries.get(key)
        if entry is not None and now >= entry.expires:
            del self._entries[key]
            return None
        return entry

    def _sweep(self, now: float) -> None:
        expired = [key for key, entry in self._entries.items() if now >= entry.expires]
        for key in expired:
            del self._entries[key]
