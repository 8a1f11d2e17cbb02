"""A deadline on the whole of each exchange, on top of httpx's per-operation timeouts.

httpx's read timeout bounds each socket read, not the exchange: a server that sends one
byte a second (of its headers or of its body) never trips it, and an exchange with it
never ends. So every socket operation of an exchange is given at most the time left
before the exchange's deadline (:func:`exchange_deadline`, set per thread by
:meth:`Target.send <conformance.target.Target.send>`), and fails with a timeout once it
has passed. This is done by a network backend wrapped around httpcore's own
(:func:`bounded_transport`); the in-process ASGI transport honours the same deadline
through :func:`remaining`.

The deadline is thread-local: the concurrency probes send from several threads at once,
each exchange with its own deadline, over connections the pool shares between threads.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

_local = threading.local()


#: The reads waiting for a target now, each with what says its run was stopped.
_waiting: dict[int, tuple[_BoundedStream, Callable[[], bool]]] = {}
_waiting_lock = threading.Lock()


@contextmanager
def exchange_deadline(
    at: float | None, stopped: Callable[[], bool] | None = None
) -> Iterator[None]:
    """Within the block, this thread's socket operations end by ``at`` (``time.monotonic``
    reading; None: no deadline), and a read waiting for the target can be ended once
    ``stopped()`` turns true (the run was interrupted: a lane must
    not wait out a hung target's read timeout): see :func:`wake_stopped`."""
    previous = getattr(_local, "at", None), getattr(_local, "stopped", None)
    _local.at, _local.stopped = at, stopped
    try:
        yield
    finally:
        _local.at, _local.stopped = previous


def wake_stopped() -> None:
    """End every read waiting for a target whose run was stopped (an interrupt: the lanes
    must not wait out a hung target's read timeout); the exchange fails, and says so."""
    with _waiting_lock:
        waiting = list(_waiting.values())
    for stream, stopped in waiting:
        if stopped():
            stream.wake()


def remaining() -> float | None:
    """Seconds left before this thread's exchange deadline (0 when past; None: none set)."""
    at: float | None = getattr(_local, "at", None)
    return None if at is None else max(0.0, at - time.monotonic())


def _clamp(timeout: float | None, expired: type[Exception]) -> float | None:
    left = remaining()
    if left is None:
        return timeout
    if left <= 0:
        raise expired("the exchange's deadline passed")
    return left if timeout is None else min(timeout, left)


class _BoundedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        stopped: Callable[[], bool] | None = getattr(_local, "stopped", None)
        if stopped is None:
            return self._inner.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))
        with _waiting_lock:
            _waiting[id(self)] = (self, stopped)
        try:
            if stopped():  # stopped before :func:`wake_stopped` could see this read
                raise httpcore.ReadError("the run was stopped")
            return self._inner.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))
        finally:
            with _waiting_lock:
                _waiting.pop(id(self), None)

    def wake(self) -> None:
        """End a read waiting on this stream now: shut the socket down (its file stays
        open until httpcore closes it, so no other thread's use of it goes wrong)."""
        sock = self._inner.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context, server_hostname, _clamp(timeout, httpcore.ConnectTimeout)
        )
        return _BoundedStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _BoundedBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host,
            port,
            _clamp(timeout, httpcore.ConnectTimeout),
            local_address=local_address,
            socket_options=socket_options,
        )
        return _BoundedStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(
            path, _clamp(timeout, httpcore.ConnectTimeout), socket_options=socket_options
        )
        return _BoundedStream(stream)

    def sleep(self, seconds: float) -> None:
        left = remaining()
        self._inner.sleep(seconds if left is None else min(seconds, left))


def bounded_transport(*, max_connections: int, keepalive_expiry: float) -> httpx.HTTPTransport:
    """An httpx transport whose every socket operation honours :func:`exchange_deadline`.

    httpx has no public way to give its connection pool a network backend, so the pool's
    backend is wrapped after the fact; if a later httpx moves it, this fails loudly here
    rather than silently dropping the deadline (``tests/test_hostile.py`` covers it).
    """
    limits = httpx.Limits(max_connections=max_connections, keepalive_expiry=keepalive_expiry)
    transport = httpx.HTTPTransport(limits=limits)
    pool = transport._pool
    inner = getattr(pool, "_network_backend", None)
    if not isinstance(inner, httpcore.NetworkBackend):
        raise RuntimeError(
            f"httpx {httpx.__version__}: cannot bound exchanges (no network backend to wrap)"
        )
    pool._network_backend = _BoundedBackend(inner)
    return transport


@dataclass(frozen=True, slots=True)
class Limits:
    """The bounds on every exchange (the README lists them with their flags)."""

    #: Seconds to open a connection (``--connect-timeout``).
    connect_timeout: float = 5.0
    #: Seconds to wait for each read (and write) on the socket (``--timeout``).
    read_timeout: float = 30.0
    #: Seconds for the whole exchange, connect to last byte (``--request-deadline``).
    request_deadline: float = 60.0
    #: Bytes read of one response, an SSE stream included (``--max-response-bytes``).
    max_response_bytes: int = 4 * 1024 * 1024
    #: Headers of one response (``--max-response-headers``).
    max_response_headers: int = 128
    #: Bytes of one response's headers, names and values (``--max-header-bytes``).
    max_header_bytes: int = 64 * 1024

    def items(self) -> tuple[tuple[str, str], ...]:
        return (
            ("connect_timeout", f"{self.connect_timeout:g}"),
            ("read_timeout", f"{self.read_timeout:g}"),
            ("request_deadline", f"{self.request_deadline:g}"),
            ("max_response_bytes", str(self.max_response_bytes)),
            ("max_response_headers", str(self.max_response_headers)),
            ("max_header_bytes", str(self.max_header_bytes)),
        )
