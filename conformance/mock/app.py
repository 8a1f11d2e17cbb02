"""The mock: the reference implementation, recording every exchange, with adversarial modes.

:class:`MockApp` is a :class:`~conformance.reference.ReferenceApp` — the strict,
conformant reference, unchanged — with a few steps overridden the way mutants override
them (see :mod:`conformance.mock.modes` for what each mode does):

- ``create`` fails once with a 500 (``create-5xx``);
- ``handle_status`` answers a session's first poll 503 + ``Retry-After`` (``status-503``);
- ``status_of`` turns a session ``Failed`` half way through provisioning (``fail``);
- ``cors_headers`` / ``preflight_response`` also expose ``Retry-After`` to scripts and
  allow the ``X-Client-Deadline-Ms`` request header, so a browser client can honour the
  one and send the other;
- ``dispatch``, for a profile other than the contract's own, serves the profile's layout
  (:mod:`conformance.mock.translation`): its routes, field names, envelope and status
  codes, the reference answering underneath. A layout whose sessions are Ready at create
  (``readiness = "immediate"``) provisions in no time, so the modes that act on
  provisioning or polling do not apply to it; new session ids follow the profile's
  ``session_id_format``.

``__call__`` records each exchange to a :class:`~conformance.mock.trace.TraceWriter`
when the response ends, with its arrival and end times on one monotonic clock.
"""

from __future__ import annotations

import contextvars
import dataclasses
import random
import threading
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from conformance.mock.inbound import Router
from conformance.mock.modes import FAILURE_CODE, MockPlan, ModeError
from conformance.mock.trace import (
    MAX_BODY_BYTES,
    TraceExchange,
    TraceHeader,
    TraceWriter,
    exchange_line,
    now_rfc3339,
)
from conformance.mock.translation import dispatch_in_layout
from conformance.profile import CANONICAL, Profile
from conformance.records import Exchange, RequestRecord, ResponseRecord
from conformance.redaction import Redactor
from conformance.reference import ReferenceApp, ReferenceConfig
from conformance.reference import errors as codes
from conformance.reference.errors import Rejection
from conformance.reference.models import Failure, JSONObject, Phase, Progress, Session, Status
from conformance.reference.routing import Route
from conformance.reference.store import status_at

#: The request header in which a client states how long it will wait for a session to
#: become ready, in milliseconds (judged by CLIENT-009).
DEADLINE_HEADER = "X-Client-Deadline-Ms"
FAILURE = Failure(FAILURE_CODE, "The mock failed this session on purpose (mode fail).")


@dataclass(slots=True)
class _Injected:
    """Which adversarial mode answered the request in flight (None: the reference)."""

    mode: str | None = None


_CURRENT: contextvars.ContextVar[_Injected] = contextvars.ContextVar("sc_mock_injected")


class MockApp(ReferenceApp):
    """The reference with recording and adversarial modes; serve it like the reference."""

    def __init__(self, plan: MockPlan | None = None, *, profile: Profile = CANONICAL) -> None:
        self.plan = plan_in_layout(plan or MockPlan(), profile)
        super().__init__(
            ReferenceConfig(
                provision_seconds=self.plan.provisioning,
                token=self.plan.token,
                cors_origin=self.plan.cors_origin,
            )
        )
        self.profile = profile
        self.router = Router(profile)
        self._ids = random.Random()
        self.origin = time.monotonic()
        self.base_url = ""
        self.writer: TraceWriter | None = None
        self._redactor = Redactor().with_secrets([self.plan.token or ""])
        self._lock = threading.Lock()
        self._create_failed = False
        self._polled: set[tuple[str, str]] = set()

    def start_recording(self, writer: TraceWriter, base_url: str) -> None:
        """Write the trace header and record every exchange from now on."""
        self.base_url = base_url.rstrip("/")
        writer.open(
            TraceHeader(
                base_url=self.base_url,
                layout=self.profile.name,
                modes=self.plan.modes,
                settings=self.plan.settings(),
                started_at=now_rfc3339(),
            )
        )
        self.origin = time.monotonic()
        self.writer = writer

    # -- the layout -------------------------------------------------------------------------

    async def dispatch(self, request: Request) -> Response:
        if self.profile.canonical:
            return await super().dispatch(request)
        limit = self.config.max_body_bytes
        return await dispatch_in_layout(self, self.router, request, super().dispatch, limit)

    def new_session_id(self) -> str:
        if self.profile.session_ids.kind == "any":
            return super().new_session_id()
        with self._lock:
            return self.profile.session_ids.invent(self._ids)

    # -- adversarial steps ------------------------------------------------------------------

    def create(
        self, user_id: str, session_id: str | None, metadata: JSONObject, ttl_seconds: float
    ) -> Session:
        if self.plan.has("create-5xx"):
            with self._lock:
                first, self._create_failed = not self._create_failed, True
            if first:
                _mark("create-5xx")
                raise Rejection(
                    500,
                    codes.INTERNAL_ERROR,
                    "The server failed to handle the request; it was logged. (The mock fails "
                    "the first create on purpose: mode create-5xx.)",
                )
        return super().create(user_id, session_id, metadata, ttl_seconds)

    async def handle_status(self, request: Request, user_id: str, session_id: str) -> Response:
        if self.plan.has("status-503"):
            session = self.path_session(user_id, session_id)
            key = (session.user_id, session.session_id)
            with self._lock:
                first = key not in self._polled
                self._polled.add(key)
            if first:
                _mark("status-503")
                seconds = self.plan.retry_after_seconds
                raise Rejection(
                    503,
                    "UNAVAILABLE",
                    f"The status service is busy; retry after {seconds} s. (The mock answers "
                    "every session's first poll so on purpose: mode status-503.)",
                    {"retry_after_seconds": seconds},
                    {"Retry-After": str(seconds)},
                )
        return await super().handle_status(request, user_id, session_id)

    def status_of(self, session: Session) -> Status:
        status = super().status_of(session)
        fail_after = self.plan.fail_after_seconds
        if fail_after is None or status.phase is Phase.FAILED:
            return status
        if self.store.clock() - session.started < fail_after:
            return status
        reached = status_at(session, session.started + fail_after).progress.percent
        return Status(Phase.FAILED, Progress(reached, None), FAILURE)

    def cors_headers(self, request: Request) -> dict[str, str]:
        headers = super().cors_headers(request)
        if "Access-Control-Expose-Headers" in headers:
            headers["Access-Control-Expose-Headers"] += ", Retry-After"
        return headers

    def preflight_response(self, request: Request, route: Route) -> Response:
        response = super().preflight_response(request, route)
        allowed = response.headers.get("Access-Control-Allow-Headers")
        if allowed is not None:
            response.headers["Access-Control-Allow-Headers"] = f"{allowed}, {DEADLINE_HEADER}"
        return response

    # -- recording --------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        writer = self.writer
        if scope["type"] != "http" or writer is None:
            await super().__call__(scope, receive, send)
            return
        started = time.monotonic() - self.origin
        seq = writer.next_seq()
        injected = _Injected()
        _CURRENT.set(injected)
        # The request body is read first (as far as the reference would read it), so the
        # trace holds it even when the app answers without reading it (a 404 route).
        early, body, request_cut = await self._read_request(receive)
        response_start: MutableMapping[str, Any] | None = None
        response_body = bytearray()
        response_cut = False
        written = False

        async def replaying_receive() -> Message:
            return early.pop(0) if early else await receive()

        def record(ended: float) -> None:
            nonlocal written
            if written:
                return
            written = True
            response = None
            if response_start is not None:
                response = ResponseRecord(
                    status=int(response_start["status"]),
                    headers=self._redactor.headers_of(_headers(response_start)),
                    body=self._redactor.body(bytes(response_body)),
                    truncated=response_cut,
                )
            path, query = _target(scope)
            request = RequestRecord(
                method=str(scope.get("method", "")),
                url=self.base_url + path + (f"?{query}" if query else ""),
                headers=self._redactor.headers_of(_headers(scope)),
                body=self._redactor.body(body),
            )
            item = TraceExchange(
                seq=seq,
                started=started,
                ended=max(ended, started),
                exchange=Exchange(index=seq, request=request, response=response),
                injected=injected.mode,
                client=_client(scope),
            )
            writer.write(exchange_line(item, path=path, query=query, request_truncated=request_cut))

        async def recording_send(message: Message) -> None:
            nonlocal response_start, response_cut
            if message["type"] == "http.response.start":
                response_start = message
                if _bodiless(scope, int(message["status"])):
                    # The server sends a bodiless answer (a 204 preflight) whole with its
                    # headers: the trace holds it before they go out.
                    record(time.monotonic() - self.origin)
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                room = MAX_BODY_BYTES - len(response_body)
                response_body.extend(chunk[: max(room, 0)])
                response_cut = response_cut or len(chunk) > room
                if not message.get("more_body", False):
                    # Written before the last bytes go out: once a client has its answer,
                    # the trace already holds the exchange.
                    record(time.monotonic() - self.origin)
            await send(message)

        try:
            if self.plan.latency_seconds:
                await anyio.sleep(self.plan.latency_seconds)
            await super().__call__(scope, replaying_receive, recording_send)
        finally:
            record(time.monotonic() - self.origin)

    async def _read_request(self, receive: Receive) -> tuple[list[Message], bytes, bool]:
        """The request's first messages, up to one byte past the body limit: the messages
        (to replay to the app), the body to record (cut at the trace's limit), and
        whether it was cut."""
        messages: list[Message] = []
        size, more = 0, True
        while more and size <= self.config.max_body_bytes:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            more = bool(message.get("more_body", False))
        raw = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        return messages, raw[:MAX_BODY_BYTES], len(raw) > MAX_BODY_BYTES


def _bodiless(scope: Scope, status: int) -> bool:
    """An answer that ends with its headers: to HEAD, informational, 204 or 304."""
    return scope.get("method") == "HEAD" or status < 200 or status in (204, 304)


#: The modes that act on provisioning or status polls.
PROVISIONING_MODES = ("slow", "status-503", "fail")


def plan_in_layout(plan: MockPlan, profile: Profile) -> MockPlan:
    """``plan`` as the layout can have it: where sessions are Ready at create, no
    provisioning time, and :class:`ModeError` for a mode or a provisioning time that
    needs a status route."""
    if profile.readiness != "immediate":
        return plan
    why = f"profile {profile.name!r} has sessions Ready at create (no status route to poll)"
    acting = [mode for mode in plan.modes if mode in PROVISIONING_MODES]
    if acting:
        raise ModeError(f"mode {', '.join(acting)} does not apply: {why}")
    if plan.provision_seconds:
        raise ModeError(f"provision_seconds does not apply: {why}")
    return dataclasses.replace(plan, provision_seconds=0.0)


def _mark(mode: str) -> None:
    holder = _CURRENT.get(None)
    if holder is not None:
        holder.mode = mode


def _headers(message: MutableMapping[str, Any]) -> list[tuple[str, str]]:
    pairs = message.get("headers") or []
    return [(bytes(k).decode("latin-1").lower(), bytes(v).decode("latin-1")) for k, v in pairs]


def _target(scope: Scope) -> tuple[str, str]:
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) and raw else quote(scope["path"])
    path = path.split("?", 1)[0]
    query = scope.get("query_string", b"")
    return path, query.decode("latin-1") if isinstance(query, bytes) else str(query)


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    if not client:
        return None
    host, port = client[0], client[1]
    return f"{host}:{port}"
