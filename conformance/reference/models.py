"""The reference's records: sessions, their status, messages, events and field errors.

All are frozen snapshots; the store keeps the mutable state and hands these out.
``to_json`` renders each the way the contract's schemas spell it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

JSONObject = dict[str, object]

AGENT_NAME = "reference-agent"


def rfc3339(moment: datetime) -> str:
    """``2025-01-31T12:00:00.123456Z``: RFC 3339, UTC, with a ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class Phase(StrEnum):
    STARTING = "Starting"
    PROVISIONING = "Provisioning"
    READY = "Ready"
    FAILED = "Failed"


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a session ended in ``Failed``."""

    code: str
    message: str

    def to_json(self) -> JSONObject:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class Progress:
    percent: int
    eta_ms: int | None

    def to_json(self) -> JSONObject:
        return {"percent": self.percent, "eta_ms": self.eta_ms}


@dataclass(frozen=True, slots=True)
class Status:
    """Where a session stands in provisioning at one moment."""

    phase: Phase
    progress: Progress
    error: Failure | None = None

    @property
    def ready(self) -> bool:
        return self.phase is Phase.READY


@dataclass(frozen=True, slots=True)
class Session:
    """One session as it was when the store handed it out.

    ``started`` is the store clock's reading at create (monotonic seconds); the phase is
    not stored but derived from it, so it is always current (see ``SessionStore.status_of``).
    """

    session_id: str
    user_id: str
    created_at: datetime
    metadata: JSONObject
    turns: int
    started: float
    provision_seconds: float
    failure: Failure | None = None
    failed_percent: int = 0


@dataclass(frozen=True, slots=True)
class Message:
    """A validated ``new_message``: its role and the text of each part, in order."""

    role: str
    texts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    author: str
    role: str
    texts: tuple[str, ...]
    timestamp: datetime

    def to_json(self) -> JSONObject:
        return {
            "id": self.id,
            "author": self.author,
            "content": {"role": self.role, "parts": [{"text": text} for text in self.texts]},
            "timestamp": rfc3339(self.timestamp),
        }


@dataclass(frozen=True, slots=True)
class FieldError:
    """One ``details.errors`` entry: a JSON pointer (RFC 6901) and what is wrong there."""

    path: str
    message: str

    def to_json(self) -> JSONObject:
        return {"path": self.path, "message": self.message}
