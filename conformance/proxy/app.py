"""The validation proxy: every request forwarded to a real backend, every exchange recorded.

:class:`ProxyApp` is an ASGI app (served by uvicorn) that sends each request it receives
— any method, path, query, header and body — to the upstream backend, and passes the
answer back as it comes: the status, every header but the hop-by-hop ones (RFC 9110
7.6.1: ``Connection`` and the headers it names, ``Keep-Alive``, ``Transfer-Encoding``,
``TE``, ``Trailer``, ``Upgrade``, ``Proxy-*``), and the body bytes unchanged, a chunk at a
time as they arrive (an SSE stream frame by frame, never buffered; a compressed body
stays compressed). Only ``Host`` names the upstream, and a ``user:password@`` upstream
adds its ``Authorization: Basic`` to requests that carry no ``Authorization``.

Each exchange is written to the trace (:mod:`conformance.mock.trace`, the mock's format)
when its answer ends, with its times since the proxy started (``ended``: when the last
bytes of the answer were handed to the client, not when the proxy was done with the
upstream, which may be after the client already sent its next request), redacted as every output
of the harness is (bearer and Basic credentials seen in any request, cookies, the
upstream's userinfo) and bounded (bodies cut at 256 KiB; a compressed body is recorded
decoded, a bounded piece at a time). What cut an exchange short is recorded in its
``error``: the client that went away (the upstream request is then dropped), an upstream
that hung up mid-answer (the client's connection is closed, as the upstream's was), an
upstream that could not be reached or closed without answering (the client gets ``502``,
the trace no answer: the backend sent none). Nothing of one exchange can stop the proxy.
"""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import anyio
import httpcore
import httpx
from starlette.types import Message, Receive, Scope, Send

from conformance.decoding import Overflow, codings_of, decoded
from conformance.mock.trace import (
    MAX_BODY_BYTES,
    TraceExchange,
    TraceHeader,
    TraceWriter,
    exchange_line,
    now_rfc3339,
)
from conformance.proxy.upstream import Upstream
from conformance.records import Exchange, RequestRecord, ResponseRecord
from conformance.redaction import Redactor

__all__ = ["HOP_BY_HOP", "ProxyApp", "Upstream"]

#: Headers that concern one connection only, never forwarded (RFC 9110 7.6.1).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
#: Seconds to wait for the upstream to accept a connection.
CONNECT_TIMEOUT = 10.0


class ClientGone(Exception):
    """The client hung up before its request was whole."""


@dataclass(slots=True)
class _Flight:
    """One exchange under way (mutable: it fills as the bytes pass)."""

    started: float
    seq: int
    request_body: bytearray = field(default_factory=bytearray)
    request_cut: bool = False
    status: int | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    body_cut: bool = False
    passed: int = 0
    #: When the last part of the answer was handed to the client (None: nothing yet).
    answered: float | None = None
    error: str | None = None
    recorded: bool = False


class ProxyApp:
    """Forwards to ``upstream`` and records to a trace once :meth:`start_recording` ran."""

    def __init__(self, upstream: Upstream, *, layout: str = "canonical") -> None:
        self.upstream = upstream
        self.layout = layout
        self.pool = httpcore.AsyncConnectionPool(
            max_connections=None,
            keepalive_expiry=5.0,
            # Headers and body go out in separate writes: without TCP_NODELAY the second
            # waits for the upstream's delayed ACK (40 ms on Linux).
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        )
        self.redactor = Redactor().with_url(upstream.url)
        self.writer: TraceWriter | None = None
        self.origin = time.monotonic()
        self.base_url = ""

    def start_recording(self, writer: TraceWriter, base_url: str) -> None:
        """Write the trace header (``base_url``: where the proxy listens)."""
        self.base_url = base_url.rstrip("/")
        writer.open(
            TraceHeader(
                base_url=self.base_url,
                layout=self.layout,
                modes=(),
                settings=(),
                started_at=now_rfc3339(),
                recorder="proxy",
                upstream=self.upstream.public,
            )
        )
        self.origin = time.monotonic()
        self.writer = writer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        seq = self.writer.next_seq() if self.writer is not None else 0
        flight = _Flight(started=self._now(), seq=seq)
        self._learn(scope["headers"])
        body_done = anyio.Event()
        try:
            async with anyio.create_task_group() as group:

                async def watch() -> None:  # the client hanging up cancels the exchange
                    await body_done.wait()
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    flight.error = flight.error or (
                        f"the client went away after {flight.passed} byte(s) of the answer"
                        if flight.status is not None
                        else "the client went away before the upstream answered"
                    )
                    group.cancel_scope.cancel()

                group.start_soon(watch)
                await self._forward(scope, receive, send, flight, body_done)
                group.cancel_scope.cancel()
        finally:
            self._record(scope, flight)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """Close the upstream connections when the server shuts down."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.pool.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        flight: _Flight,
        body_done: anyio.Event,
    ) -> None:
        incoming: list[tuple[bytes, bytes]] = scope["headers"]
        has_body = any(
            (name == b"content-length" and value.strip() != b"0") or name == b"transfer-encoding"
            for name, value in incoming
        )
        content = self._request_body(receive, flight, body_done) if has_body else None
        if not has_body:
            body_done.set()
        target = self.upstream.base_path + (scope.get("raw_path") or scope["path"].encode())
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        url = httpcore.URL(
            scheme=self.upstream.scheme, host=self.upstream.host, port=self.upstream.port,
            target=target,
        )  # fmt: skip
        timeouts = {"connect": CONNECT_TIMEOUT, "read": None, "write": None, "pool": None}
        try:
            async with self.pool.stream(
                scope["method"],
                url,
                headers=self._outgoing(incoming, chunked=has_body),
                content=content,
                extensions={"timeout": timeouts},
            ) as response:
                flight.status = response.status
                flight.headers = [
                    (name, value) for name, value in response.headers if not _hop(name, response)
                ]
                flight.answered = self._now()
                await send(
                    {"type": "http.response.start", "status": response.status,
                     "headers": flight.headers}
                )  # fmt: skip
                async for chunk in response.aiter_stream():
                    self._keep(flight, chunk)
                    flight.answered = self._now()  # stamped first: never after the client had it
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    flight.passed += len(chunk)
        except ClientGone:
            flight.error = "the client went away while sending its request"
            return
        except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
            await self._bad_gateway(send, flight, f"the upstream could not be reached: {exc}")
            return
        except (httpcore.NetworkError, httpcore.RemoteProtocolError) as exc:
            if flight.status is None:
                reason = f"the upstream closed the connection without answering: {exc}"
                await self._bad_gateway(send, flight, reason)
            else:  # the client's connection closes too (uvicorn), as the upstream's did
                flight.error = (
                    f"the upstream hung up after {flight.passed} byte(s) of the answer: {exc}"
                )
            return
        self._record(scope, flight)  # before the last bytes go out: see the module docstring
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _request_body(
        self, receive: Receive, flight: _Flight, body_done: anyio.Event
    ) -> AsyncIterator[bytes]:
        more = True
        while more:
            message: Message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk: bytes = message.get("body", b"")
            room = MAX_BODY_BYTES - len(flight.request_body)
            flight.request_body.extend(chunk[: max(room, 0)])
            flight.request_cut = flight.request_cut or len(chunk) > room
            more = bool(message.get("more_body", False))
            if chunk:
                yield chunk
        body_done.set()

    def _outgoing(
        self, incoming: list[tuple[bytes, bytes]], *, chunked: bool
    ) -> list[tuple[bytes, bytes]]:
        """The request's headers for the upstream: hop-by-hop ones dropped, ``Host`` the
        upstream's, ``Transfer-Encoding: chunked`` for a body of no stated length."""
        named = _connection_names(incoming)
        headers = [(b"host", self.upstream.host_header)]
        headers += [
            (name, value)
            for name, value in incoming
            if name != b"host" and name not in HOP_BY_HOP_BYTES and name not in named
        ]
        if chunked and not any(name == b"content-length" for name, _ in headers):
            headers.append((b"transfer-encoding", b"chunked"))
        if self.upstream.basic is not None and not any(n == b"authorization" for n, _ in headers):
            headers.append((b"authorization", self.upstream.basic))
        return headers

    async def _bad_gateway(self, send: Send, flight: _Flight, reason: str) -> None:
        flight.error = f"{reason}; the proxy answered 502 Bad Gateway"
        body = f"session-conformance proxy: {reason}\n".encode()
        await send(
            {"type": "http.response.start", "status": 502,
             "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                         (b"content-length", str(len(body)).encode())]}
        )  # fmt: skip
        await send({"type": "http.response.body", "body": body, "more_body": False})

    def _keep(self, flight: _Flight, chunk: bytes) -> None:
        room = MAX_BODY_BYTES - len(flight.body)
        flight.body.extend(chunk[: max(room, 0)])
        flight.body_cut = flight.body_cut or len(chunk) > room

    def _learn(self, headers: list[tuple[bytes, bytes]]) -> None:
        """Credentials a request carries become secrets of every later record."""
        secrets: list[str] = []
        for name, value in headers:
            if name not in (b"authorization", b"proxy-authorization"):
                continue
            scheme, _, credential = value.decode("latin-1").strip().partition(" ")
            credential = credential.strip()
            secrets.append(credential or scheme)
            if scheme.lower() == "basic" and credential:
                try:
                    decoded_pair = base64.b64decode(credential, validate=True).decode("utf-8")
                except ValueError:
                    continue
                user, _, password = decoded_pair.partition(":")
                secrets.append(password or user)
        if secrets:
            self.redactor = self.redactor.with_secrets(secrets)

    def _record(self, scope: Scope, flight: _Flight) -> None:
        if flight.recorded or self.writer is None:
            return
        flight.recorded = True
        redactor = self.redactor
        path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        query = bytes(scope.get("query_string") or b"").decode("latin-1")
        request = RequestRecord(
            method=scope["method"],
            url=self.base_url + path + (f"?{query}" if query else ""),
            headers=redactor.headers_of(_text_pairs(scope["headers"])),
            body=redactor.body(bytes(flight.request_body)),
        )
        response = None
        if flight.status is not None:
            body, cut = _content(flight)
            response = ResponseRecord(
                status=flight.status,
                headers=redactor.headers_of(_text_pairs(flight.headers)),
                body=redactor.body(body),
                truncated=cut,
            )
        client = scope.get("client")
        item = TraceExchange(
            seq=flight.seq,
            started=flight.started,
            ended=max(flight.answered or self._now(), flight.started),
            exchange=Exchange(index=flight.seq, request=request, response=response),
            client=f"{client[0]}:{client[1]}" if client else None,
            error=None if flight.error is None else redactor.text(flight.error),
        )
        line = exchange_line(item, path=path, query=query, request_truncated=flight.request_cut)
        self.writer.write(line)

    def _now(self) -> float:
        return time.monotonic() - self.origin


HOP_BY_HOP_BYTES = frozenset(name.encode("ascii") for name in HOP_BY_HOP)


def _connection_names(headers: list[tuple[bytes, bytes]]) -> frozenset[bytes]:
    """The headers a ``Connection`` header names (hop-by-hop too)."""
    return frozenset(
        token.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for token in value.split(b",")
        if token.strip()
    )


def _hop(name: bytes, response: httpcore.Response) -> bool:
    lowered = name.lower()
    return lowered in HOP_BY_HOP_BYTES or lowered in _connection_names(response.headers)


def _text_pairs(headers: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in headers]


def _content(flight: _Flight) -> tuple[bytes, bool]:
    """The recorded answer body: decoded when it came compressed (at most the trace's
    limit of it), and whether it was cut."""
    raw = bytes(flight.body)
    try:
        codings = codings_of(httpx.Headers(flight.headers))
    except httpx.DecodingError:
        return raw, flight.body_cut
    if not codings:
        return raw, flight.body_cut
    pieces: list[bytes] = []
    try:
        pieces.extend(decoded([raw], codings, MAX_BODY_BYTES))
    except Overflow:
        return b"".join(pieces), True
    except httpx.DecodingError:
        return raw, flight.body_cut  # not what it says it is: recorded as it came
    return b"".join(pieces), flight.body_cut
