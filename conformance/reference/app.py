"""The reference implementation of Session Contract v1: the session routes.

:class:`ReferenceApp` adds the seven canonical routes to the HTTP layer of
:class:`~conformance.reference.base.BaseApp`. Each handler is a short sequence of
overridable steps, in the contract's precedence (body, sentinels, schema, existence,
state), so a mutant breaks one step by overriding one method::

    class ImplicitCreate(ReferenceApp):
        def lookup(self, user_id, session_id): ...
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from conformance.reference import errors
from conformance.reference import validation as schema
from conformance.reference.base import BaseApp, render_json
from conformance.reference.config import ReferenceConfig
from conformance.reference.errors import Rejection
from conformance.reference.models import (
    AGENT_NAME,
    Event,
    FieldError,
    JSONObject,
    Message,
    Phase,
    Session,
    Status,
    rfc3339,
)
from conformance.reference.store import SessionStore, utc_now

#: How many fresh ids ``create`` tries before giving up (a sane id factory needs one).
ID_ATTEMPTS = 8


def _fields(body: object) -> JSONObject:
    """A validated body's fields (validation has made sure it is an object)."""
    if not isinstance(body, dict):
        raise TypeError("a validated body is a JSON object")
    return body


class ReferenceApp(BaseApp):
    """The conformant reference. ``clock`` (monotonic seconds) and ``wall_clock`` may be
    injected, e.g. to step provisioning and expiry in tests."""

    def __init__(
        self,
        config: ReferenceConfig | None = None,
        *,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(config or ReferenceConfig())
        self.store = SessionStore(
            provision_seconds=self.config.provision_seconds,
            clock=clock or time.monotonic,
            wall_clock=wall_clock or utc_now,
        )

    async def handle(self, action: str, request: Request, params: Mapping[str, str]) -> Response:
        match action:
            case "create":
                return await self.handle_create(request, params["user_id"])
            case "list":
                return await self.handle_list(request, params["user_id"])
            case "get":
                return await self.handle_get(request, params["user_id"], params["session_id"])
            case "delete":
                return await self.handle_delete(request, params["user_id"], params["session_id"])
            case "status":
                return await self.handle_status(request, params["user_id"], params["session_id"])
            case "run":
                return await self.handle_run(request)
            case "run_sse":
                return await self.handle_run_sse(request)
        return self.not_found_response(request)

    # -- handlers -------------------------------------------------------------------------

    async def handle_create(self, request: Request, user_id: str) -> Response:
        body = await self.parse_json(request, empty_ok=True)
        if isinstance(body, dict) and "session_id" in body:
            self.check_session_id(body["session_id"], "/session_id")
        self.reject_invalid(
            self.validate_user_id(user_id, "/path/user_id") + self.validate_create(body)
        )
        fields = _fields(body)
        metadata = fields.get("metadata", {})
        chosen = fields.get("session_id")
        ttl = fields.get("ttl_seconds", self.config.default_ttl_seconds)
        session = self.create(
            user_id,
            chosen if isinstance(chosen, str) else None,
            metadata if isinstance(metadata, dict) else {},
            float(ttl) if isinstance(ttl, int | float) else self.config.default_ttl_seconds,
        )
        return self.json_response(
            {"ok": True, "session_id": session.session_id, "session": self.session_json(session)},
            201,
            {"Location": self.location_of(request, session)},
        )

    async def handle_list(self, request: Request, user_id: str) -> Response:
        self.reject_invalid(self.validate_user_id(user_id, "/path/user_id"))
        sessions = [self.session_json(s) for s in self.list_sessions(user_id)]
        return self.json_response({"ok": True, "sessions": sessions})

    async def handle_get(self, request: Request, user_id: str, session_id: str) -> Response:
        session = self.path_session(user_id, session_id)
        return self.json_response(
            {"ok": True, "session_id": session.session_id, "session": self.session_json(session)}
        )

    async def handle_delete(self, request: Request, user_id: str, session_id: str) -> Response:
        session = self.path_session(user_id, session_id)
        if not self.delete(user_id, session.session_id):
            raise self.session_not_found()
        return self.json_response({"ok": True, "session_id": session.session_id})

    async def handle_status(self, request: Request, user_id: str, session_id: str) -> Response:
        session = self.path_session(user_id, session_id)
        return self.json_response(self.status_json(session, self.status_of(session)))

    async def handle_run(self, request: Request) -> Response:
        session, message = await self.prepare_run(request)
        events = self.run(session, message)
        session = self.record_turn(session)
        return self.json_response(
            {
                "ok": True,
                "session_id": session.session_id,
                "events": [event.to_json() for event in events],
            }
        )

    async def handle_run_sse(self, request: Request) -> Response:
        session, message = await self.prepare_run(request)
        events = self.run(session, message)
        self.record_turn(session)
        return StreamingResponse(
            self.stream_events(events),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    # -- steps ----------------------------------------------------------------------------

    def path_session(self, user_id: str, session_id: str) -> Session:
        """``/users/{u}/sessions/{s}``: sentinel ``{s}`` 400, bad ``{u}`` 422, unknown 404.
        ``{s}`` is opaque: only the sentinel check looks at its shape."""
        self.check_session_id(session_id, "/path/session_id")
        self.reject_invalid(self.validate_user_id(user_id, "/path/user_id"))
        return self.require_session(user_id, session_id)

    async def prepare_run(self, request: Request) -> tuple[Session, Message]:
        """A run body, through 415/413/400, the sentinel 400, 422, 404 and 409."""
        body = await self.parse_json(request)
        if isinstance(body, dict) and "session_id" in body:
            self.check_session_id(body["session_id"], "/session_id")
        self.reject_invalid(self.validate_run(body))
        fields = _fields(body)
        session = self.require_session(str(fields["user_id"]), str(fields["session_id"]))
        self.require_ready(session)
        return session, self.message_of(fields["new_message"])

    def is_sentinel(self, value: str) -> bool:
        return schema.is_sentinel(value)

    def check_session_id(self, value: object, path: str) -> None:
        """400 ``SESSION_ID_MISSING`` for a present session id that is null, empty,
        whitespace or a sentinel. Other non-strings are left to validation (422)."""
        if value is None or (isinstance(value, str) and self.is_sentinel(value)):
            raise Rejection(
                400,
                errors.SESSION_ID_MISSING,
                "The session id is missing or a placeholder such as 'undefined'; "
                "create a session first and send the id it returned.",
                {"path": path},
            )

    def validate_user_id(self, value: object, path: str) -> list[FieldError]:
        return schema.validate_user_id(value, path)

    def validate_create(self, body: object) -> list[FieldError]:
        return schema.validate_create(body)

    def validate_run(self, body: object) -> list[FieldError]:
        return schema.validate_run(body)

    def reject_invalid(self, problems: list[FieldError]) -> None:
        if problems:
            count = len(problems)
            raise Rejection(
                422,
                errors.VALIDATION_ERROR,
                f"The request breaks the schema ({count} problem{'s' if count > 1 else ''}); "
                "see details.errors.",
                {"errors": [problem.to_json() for problem in problems]},
            )

    def new_session_id(self) -> str:
        factory = self.config.id_factory
        return factory() if factory is not None else uuid.uuid4().hex

    def create(
        self, user_id: str, session_id: str | None, metadata: JSONObject, ttl_seconds: float
    ) -> Session:
        """Store a new session; a taken client-chosen id is 409 ``SESSION_EXISTS``."""
        if session_id is not None:
            session = self.store.insert(user_id, session_id, metadata, ttl_seconds)
            if session is None:
                raise Rejection(
                    409,
                    errors.SESSION_EXISTS,
                    "A session with this id already exists; choose another id or omit "
                    "session_id to get a fresh one.",
                )
            return session
        for _ in range(ID_ATTEMPTS):
            session = self.store.insert(user_id, self.new_session_id(), metadata, ttl_seconds)
            if session is not None:
                return session
        raise RuntimeError("the id factory keeps returning ids that are taken")

    def lookup(self, user_id: str, session_id: str) -> Session | None:
        return self.store.get(user_id, session_id)

    def session_not_found(self) -> Rejection:
        return Rejection(
            404,
            errors.SESSION_NOT_FOUND,
            "No session with this id exists for this user; it was never created, was "
            "deleted or has expired.",
        )

    def require_session(self, user_id: str, session_id: str) -> Session:
        session = self.lookup(user_id, session_id)
        if session is None:
            raise self.session_not_found()
        return session

    def status_of(self, session: Session) -> Status:
        return self.store.status_of(session)

    def require_ready(self, session: Session) -> None:
        """409 ``SESSION_NOT_READY`` unless the session is ``Ready``."""
        phase = self.status_of(session).phase
        if phase is not Phase.READY:
            raise Rejection(
                409,
                errors.SESSION_NOT_READY,
                f"The session is not ready (phase {phase.value}); poll its status until "
                "ready is true, then run.",
                {"phase": phase.value},
            )

    def message_of(self, new_message: object) -> Message:
        fields = _fields(new_message)
        parts = fields["parts"]
        texts = tuple(str(_fields(p)["text"]) for p in parts) if isinstance(parts, list) else ()
        return Message(role=str(fields["role"]), texts=texts)

    def run(self, session: Session, message: Message) -> list[Event]:
        """The agent: one event echoing the message's text."""
        return [
            Event(
                id=uuid.uuid4().hex,
                author=AGENT_NAME,
                role="model",
                texts=("echo: " + " ".join(message.texts),),
                timestamp=self.store.wall_clock(),
            )
        ]

    def record_turn(self, session: Session) -> Session:
        updated = self.store.record_turn(session.user_id, session.session_id)
        if updated is None:
            raise self.session_not_found()
        return updated

    def delete(self, user_id: str, session_id: str) -> bool:
        return self.store.delete(user_id, session_id)

    def list_sessions(self, user_id: str) -> list[Session]:
        return self.store.list(user_id)

    async def stream_events(self, events: list[Event]) -> AsyncIterator[bytes]:
        """One ``data: <Event JSON>`` frame per event, each ended by a blank line."""
        for event in events:
            yield b"data: " + render_json(event.to_json()) + b"\n\n"

    # -- rendering ------------------------------------------------------------------------

    def location_of(self, request: Request, session: Session) -> str:
        root = request.scope.get("root_path", "")
        user, sid = quote(session.user_id, safe=""), quote(session.session_id, safe="")
        return f"{root}/users/{user}/sessions/{sid}"

    def session_json(self, session: Session) -> JSONObject:
        status = self.status_of(session)
        return {
            "session_id": session.session_id,
            "user_id": session.user_id,
            "phase": status.phase.value,
            "ready": status.ready,
            "created_at": rfc3339(session.created_at),
            "metadata": session.metadata,
            "turns": session.turns,
        }

    def status_json(self, session: Session, status: Status) -> JSONObject:
        body: JSONObject = {
            "ok": True,
            "session_id": session.session_id,
            "ready": status.ready,
            "phase": status.phase.value,
            "progress": status.progress.to_json(),
        }
        if status.error is not None:
            body["error"] = status.error.to_json()
        return body


def create_app(config: ReferenceConfig | None = None) -> ReferenceApp:
    """A fresh reference app (its own empty store), ready to serve as an ASGI app."""
    return ReferenceApp(config)
