"""The target: what is tested, and the one place requests leave the harness.

A target is a base URL (httpx over real sockets) or an ASGI app in-process (through
:class:`~conformance.transport.SyncASGITransport`). Either way every request goes through
:meth:`Target.send`, which bounds it (timeouts, a cap on bytes read), redacts it and
records it as an :class:`~conformance.records.Exchange`. Credentials in a base URL
(``http://user:password@host``) go as ``Authorization: Basic`` with every request (httpx
sends them), so they exclude a bearer token; every output shows them as
``${SESSION_CONFORMANCE_USERINFO}`` (:attr:`Target.public_url`).

Errors: a request that gets no usable HTTP response raises :class:`TargetError` (a
harness-side "could not decide", never a failure of the target): refused, reset, timed
out, not HTTP, no complete answer before the exchange's deadline
(:class:`ExchangeTooLong`), more bytes than the cap, on the wire or once decoded
(:class:`ResponseTooLarge`; bodies are decoded by :mod:`conformance.decoding`, a bounded
piece at a time), more headers than the caps (:class:`HeadersTooLarge`), or the run's
deadline passed (:class:`RunDeadlinePassed`). The exchange is recorded either way, with
what arrived of the response (at most the caps of it), in a bounded
:class:`~conformance.recording.Recording`. Redirects are never followed, and no request
leaves the target's scheme, host and port.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import httpx

from conformance import interruption
from conformance.bearer import Bearer
from conformance.bounds import Limits, bounded_transport, exchange_deadline
from conformance.deadline import NO_DEADLINE, Deadline
from conformance.decoding import WIRE, Overflow, accepted, codings_of, decoded
from conformance.exchange_errors import (
    ExchangeTooLong,
    HeadersTooLarge,
    ResponseTooLarge,
    RunDeadlinePassed,
    TargetError,
    Unreachable,
)
from conformance.keepalive import send_past_stale_connections
from conformance.recording import Recording
from conformance.records import BODY_PREVIEW_BYTES, Exchange, RequestRecord, ResponseRecord, View
from conformance.redaction import Redactor, userinfo_of
from conformance.transport import ASGIApp, SyncASGITransport

IN_PROCESS_BASE = "http://reference.test"
CONFLICTING_CREDENTIALS = (
    "the URL's credentials (user:password@) and a bearer token would both go in the "
    "Authorization header: give one of them"
)
#: Seconds an idle connection to a URL target is kept for reuse (httpx's default: 5).
KEEPALIVE_EXPIRY = 1.0
#: Connections to a URL target at once (the concurrency clauses' bursts fit).
MAX_CONNECTIONS = 64


class Target:
    """Sends requests to one backend and records every exchange."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        app: ASGIApp | None = None,
        token: str | None = None,
        limits: Limits | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        if (base_url is None) == (app is None):
            raise ValueError("give a base URL or an ASGI app, not both or neither")
        if token and userinfo_of(base_url) is not None:
            raise ValueError(CONFLICTING_CREDENTIALS)
        self.limits = limits or Limits()
        self.token = token
        self._auth = None if not token else Bearer(token)
        # The token and a URL's credentials are secrets whatever redactor is given.
        self.redactor = (redactor or Redactor()).with_secrets([token or ""]).with_url(base_url)
        timeout = httpx.Timeout(
            self.limits.read_timeout, connect=self.limits.connect_timeout, pool=None
        )
        # Only the codings that decode within bounds (conformance.decoding) are asked for.
        accept = {"Accept-Encoding": ", ".join(accepted())}
        self._transport: SyncASGITransport | None = None
        if app is not None:
            self._transport = SyncASGITransport(app)
            self.base_url = IN_PROCESS_BASE
            self.in_process = True
            self._client = httpx.Client(transport=self._transport, timeout=timeout, headers=accept)
        else:
            assert base_url is not None
            self.base_url = base_url.rstrip("/")
            self.in_process = False
            self._client = httpx.Client(
                timeout=timeout,
                headers=accept,
                follow_redirects=False,
                # The connections left idle by a burst of the concurrency clauses expire
                # soon: the pool scans every kept connection on each request (httpcore),
                # which made every later request ~0.15 ms slower with twenty of them. Not
                # a cap on idle connections: with a cap below the burst's size, httpcore
                # 1.0.9 closes a connection already handed to a waiting request
                # (encode/httpcore#1110), and requests of the burst failed with EBADF.
                transport=bounded_transport(
                    max_connections=MAX_CONNECTIONS, keepalive_expiry=KEEPALIVE_EXPIRY
                ),
            )
        #: The base URL as every output shows it (credentials as a variable).
        self.public_url = self.redactor.text(self.base_url)
        self._origin = _origin(httpx.URL(self.base_url))
        #: Every exchange sent, the latest kept (see :mod:`conformance.recording`).
        self.recording = Recording()
        #: No request is sent, and none runs on, past it (:class:`RunDeadlinePassed`).
        self.deadline: Deadline = NO_DEADLINE
        self._is_lane = False

    # -- lanes and the run's deadline -----------------------------------------------------

    def lane(self, deadline: Deadline = NO_DEADLINE) -> Target:
        """A target for one lane of the run: the same backend, connections, bounds and
        secrets, its own record (:meth:`Recording.lane`) and the run's ``deadline``.
        Lanes send at once from their own threads; closing a lane closes nothing."""
        lane = copy.copy(self)
        lane.recording = self.recording.lane()
        lane.deadline = deadline
        lane._is_lane = True
        return lane

    @contextmanager
    def overtime(self, seconds: float) -> Iterator[None]:
        """Within the block, requests may run ``seconds`` past the run's deadline (for the
        clean-up of what the run created)."""
        previous, self.deadline = self.deadline, self.deadline.extended(seconds)
        try:
            yield
        finally:
            self.deadline = previous

    def time_left(self) -> float | None:
        """Seconds until the run's deadline (0 once past; None: no deadline), so that a
        check never sleeps past it."""
        return self.deadline.left()

    # -- sending --------------------------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        auth: bool = True,
        viewer: Callable[[Exchange], View | None] | None = None,
        role: str | None = None,
    ) -> Exchange:
        """Send one request to ``base_url + path`` and record it; never follows redirects.
        ``viewer`` gives the exchange its canonical view before it is recorded; ``role``
        is the protocol role it was sent for, kept on the exchange.

        Bounded by :attr:`limits` and the run's deadline; raises :class:`TargetError` (or
        a subclass) when no complete, usable answer came back."""
        interruption.checkpoint()  # an interrupt owed to the run goes no further
        now = time.monotonic()
        run_at = self.deadline.at
        if run_at is not None and now >= run_at:
            where = self.redactor.text(f"{method} {path}")
            raise RunDeadlinePassed(f"{where} not sent: the run's deadline has passed")
        if self.deadline.stopped():
            where = self.redactor.text(f"{method} {path}")
            raise RunDeadlinePassed(f"{where} not sent: the run was interrupted")
        at = now + self.limits.request_deadline
        if run_at is not None:
            at = min(at, run_at)
        request = self._client.build_request(
            method,
            self.base_url + path,
            params=params,
            headers=dict(headers or {}),
            content=content,
            timeout=httpx.Timeout(
                self.limits.read_timeout, connect=self.limits.connect_timeout, pool=at - now
            ),
        )
        if _origin(request.url) != self._origin:  # a check's bug, never the target's
            raise ValueError(f"{request.url} is not on the target {self.base_url}")
        started = time.perf_counter()
        answer: httpx.Response | None = None
        chunks: list[bytes] = []
        error: TargetError | None = None
        try:
            with exchange_deadline(at, self.deadline.stopped):
                answer = send_past_stale_connections(
                    self._client,
                    request,
                    auth=self._auth if auth else None,
                    pooled=0 if self.in_process else MAX_CONNECTIONS,
                    stopped=self.deadline.stopped,
                )
                try:
                    error = self._headers_error(request, answer) or self._read(
                        request, answer, chunks
                    )
                finally:
                    answer.close()
        except httpx.HTTPError as exc:
            error = self._explain(request, exc, at, run_at)
            if self.deadline.stopped():  # cut short because the run was interrupted
                where = self.redactor.text(f"{method} {path}")
                error = RunDeadlinePassed(f"{where} cut short: the run was interrupted")
            partial = None if answer is None else (answer, b"".join(chunks), True)
            self._record(request, partial, str(error), started, viewer, role)
            raise error from exc
        assert answer is not None
        body = b"".join(chunks)
        if error is not None:
            self._record(request, (answer, body, True), str(error), started, viewer, role)
            raise error
        return self._record(request, (answer, body, False), None, started, viewer, role)

    def _headers_error(
        self, request: httpx.Request, response: httpx.Response
    ) -> TargetError | None:
        """Too many headers, or too many bytes of them: the answer is not read further."""
        raw = response.headers.raw
        size = sum(len(name) + len(value) for name, value in raw)
        limits = self.limits
        if len(raw) > limits.max_response_headers:
            excess = f"{len(raw)} headers (more than {limits.max_response_headers}, --max-response-headers)"
        elif size > limits.max_header_bytes:
            excess = (
                f"{size} bytes of headers (more than {limits.max_header_bytes}, --max-header-bytes)"
            )
        else:
            return None
        return HeadersTooLarge(
            f"{self._where(request)} answered {response.status_code} with {excess}; "
            "the harness read no further"
        )

    def _read(
        self, request: httpx.Request, response: httpx.Response, chunks: list[bytes]
    ) -> ResponseTooLarge | None:
        """Read the body into ``chunks``, decoded, at most the cap of it on the wire and
        once decoded; the error if there was more."""
        cap = self.limits.max_response_bytes
        declared = response.headers.get("content-length", "")
        overflow: Overflow | None = None
        if declared.strip().isdigit() and int(declared) > cap:
            overflow = Overflow(WIRE)  # said so up front: not a byte of it is read
        else:
            try:
                codings = codings_of(response.headers)
                chunks.extend(decoded(response.iter_raw(), codings, cap))
            except Overflow as exc:
                overflow = exc
        if overflow is None:
            return None
        decoding = "" if overflow.coding == WIRE else f" once decoded ({overflow.coding})"
        return ResponseTooLarge(
            f"{self._where(request)} answered {response.status_code} with more than "
            f"{cap} bytes{decoding} (--max-response-bytes); the harness stopped reading there"
        )

    def _explain(
        self, request: httpx.Request, exc: httpx.HTTPError, at: float, run_at: float | None
    ) -> TargetError:
        """The error the checks see, saying which bound tripped, or what went wrong."""
        where = self._where(request)
        limits = self.limits
        if isinstance(exc, httpx.TimeoutException) and time.monotonic() >= at - 0.01:
            if run_at is not None and at >= run_at:
                return RunDeadlinePassed(f"{where} cut short: the run's deadline passed")
            return ExchangeTooLong(
                f"{where}: no complete answer within {limits.request_deadline:g} s "
                "(--request-deadline)"
            )
        if isinstance(exc, httpx.ConnectTimeout):
            return Unreachable(
                f"{where}: could not connect within {limits.connect_timeout:g} s "
                "(--connect-timeout)"
            )
        if isinstance(exc, httpx.ReadTimeout):
            return TargetError(
                f"{where} timed out: nothing received for {limits.read_timeout:g} s (--timeout)"
            )
        if isinstance(exc, httpx.TimeoutException):
            return TargetError(f"{where} timed out ({type(exc).__name__})")
        if isinstance(exc, httpx.ConnectError):
            return Unreachable(
                f"{where} failed: {self.redactor.text(str(exc)) or type(exc).__name__}"
            )
        return TargetError(f"{where} failed: {self.redactor.text(str(exc)) or type(exc).__name__}")

    def _where(self, request: httpx.Request) -> str:
        """``METHOD URL`` for messages, secrets redacted (a URL may carry a password)."""
        return self.redactor.text(f"{request.method} {request.url}")

    def _record(
        self,
        request: httpx.Request,
        answer: tuple[httpx.Response, bytes, bool] | None,
        error: str | None,
        started: float,
        viewer: Callable[[Exchange], View | None] | None = None,
        role: str | None = None,
    ) -> Exchange:
        redact = self.redactor
        request_record = RequestRecord(
            method=request.method,
            url=redact.text(str(request.url)),
            headers=redact.headers_of(list(request.headers.items())),
            body=redact.body(request.content),
        )
        response_record = None
        if answer is not None:
            response, body, truncated = answer
            response_record = ResponseRecord(
                status=response.status_code,
                headers=redact.headers_of(self._kept_headers(response)),
                body=redact.body(body),
                truncated=truncated,
            )
        elapsed_ms = (time.perf_counter() - started) * 1000

        def make(index: int) -> Exchange:
            exchange = Exchange(
                index, request_record, response_record, error, elapsed_ms, role=role
            )
            if viewer is not None:
                exchange = dataclasses.replace(exchange, view=viewer(exchange))
            return exchange

        return self.recording.add(make)

    def _kept_headers(self, response: httpx.Response) -> list[tuple[str, str]]:
        """The response's headers, at most as many and as long as the caps allow."""
        limits = self.limits
        if len(response.headers.raw) > limits.max_response_headers or (
            sum(len(k) + len(v) for k, v in response.headers.raw) > limits.max_header_bytes
        ):
            kept: list[tuple[str, str]] = []
            room = limits.max_header_bytes
            for name, value in response.headers.raw[: limits.max_response_headers]:
                room -= len(name) + len(value)
                if room < 0:
                    break
                kept.append((name.decode("latin-1"), value.decode("latin-1")))
            return kept
        return list(response.headers.items())

    # -- records --------------------------------------------------------------------------

    def mark(self) -> int:
        """A position in the record; :meth:`since` returns what was recorded after it."""
        return self.recording.mark()

    def since(self, mark: int) -> tuple[Exchange, ...]:
        """What was recorded after ``mark`` and is still kept (:mod:`conformance.recording`)."""
        return self.recording.since(mark)

    def close(self) -> None:
        if self._is_lane:  # the run's target owns the connections
            return
        self._client.close()
        if self._transport is not None:
            self._transport.close()

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


__all__ = [
    "BODY_PREVIEW_BYTES",
    "CONFLICTING_CREDENTIALS",
    "IN_PROCESS_BASE",
    "ExchangeTooLong",
    "HeadersTooLarge",
    "Limits",
    "ResponseTooLarge",
    "RunDeadlinePassed",
    "Target",
    "TargetError",
    "Unreachable",
]
