"""The target: what is tested, and the one place requests leave the harness.

A target is a base URL (httpx over real sockets) or an ASGI app in-process (through
:class:`~conformance.transport.SyncASGITransport`). Either way every request goes through
:meth:`Target.send`, which bounds it (timeouts, a cap on bytes read), redacts it and
records it as an :class:`~conformance.records.Exchange`.

Errors: a request that gets no HTTP response raises :class:`TargetError` (a harness-side
"could not decide", never a failure of the target). Redirects are never followed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from conformance.records import BODY_PREVIEW_BYTES, Exchange, RequestRecord, ResponseRecord
from conformance.redaction import Redactor
from conformance.transport import ASGIApp, SyncASGITransport

IN_PROCESS_BASE = "http://reference.test"


class TargetError(Exception):
    """The target gave no usable HTTP answer (refused, reset, timed out, not HTTP)."""


@dataclass(frozen=True, slots=True)
class Limits:
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_response_bytes: int = 4 * 1024 * 1024


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
        self.limits = limits or Limits()
        self.token = token
        secrets = tuple(s for s in (token, _url_password(base_url)) if s)
        self.redactor = redactor or Redactor(secrets=secrets)
        timeout = httpx.Timeout(
            self.limits.read_timeout, connect=self.limits.connect_timeout, pool=None
        )
        self._transport: SyncASGITransport | None = None
        if app is not None:
            self._transport = SyncASGITransport(app)
            self.base_url = IN_PROCESS_BASE
            self.in_process = True
            self._client = httpx.Client(transport=self._transport, timeout=timeout)
        else:
            assert base_url is not None
            self.base_url = base_url.rstrip("/")
            self.in_process = False
            self._client = httpx.Client(
                timeout=timeout, follow_redirects=False, limits=httpx.Limits(max_connections=64)
            )
        self._lock = threading.Lock()
        self._exchanges: list[Exchange] = []

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
    ) -> Exchange:
        """Send one request to ``base_url + path`` and record it; never follows redirects."""
        all_headers = dict(headers or {})
        if auth and self.token and not _has(all_headers, "authorization"):
            all_headers["Authorization"] = f"Bearer {self.token}"
        request = self._client.build_request(
            method, self.base_url + path, params=params, headers=all_headers, content=content
        )
        started = time.perf_counter()
        try:
            response = self._client.send(request, stream=True)
            try:
                body, truncated = self._read(response)
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            self._record(request, None, f"timed out: {type(exc).__name__}", started)
            raise TargetError(f"{method} {request.url} timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            self._record(request, None, f"{type(exc).__name__}: {exc}", started)
            raise TargetError(
                f"{method} {request.url} failed: {exc or type(exc).__name__}"
            ) from exc
        return self._record(request, (response, body, truncated), None, started)

    def _read(self, response: httpx.Response) -> tuple[bytes, bool]:
        cap = self.limits.max_response_bytes
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:
                return b"".join(chunks)[:cap], True
        return b"".join(chunks), False

    def _record(
        self,
        request: httpx.Request,
        answer: tuple[httpx.Response, bytes, bool] | None,
        error: str | None,
        started: float,
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
                headers=redact.headers_of(list(response.headers.items())),
                body=redact.body(body),
                truncated=truncated,
            )
        with self._lock:
            exchange = Exchange(
                index=len(self._exchanges),
                request=request_record,
                response=response_record,
                transport_error=error,
                elapsed_ms=(time.perf_counter() - started) * 1000,
            )
            self._exchanges.append(exchange)
        return exchange

    # -- records --------------------------------------------------------------------------

    def mark(self) -> int:
        """A position in the record; :meth:`since` returns what was recorded after it."""
        with self._lock:
            return len(self._exchanges)

    def since(self, mark: int) -> tuple[Exchange, ...]:
        with self._lock:
            return tuple(self._exchanges[mark:])

    def close(self) -> None:
        self._client.close()
        if self._transport is not None:
            self._transport.close()

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _url_password(url: str | None) -> str | None:
    """A password in the URL's userinfo is a secret like the token."""
    return httpx.URL(url).password or None if url else None


def _has(headers: Mapping[str, str], name: str) -> bool:
    return any(key.lower() == name for key in headers)


__all__ = ["BODY_PREVIEW_BYTES", "IN_PROCESS_BASE", "Limits", "Target", "TargetError"]
