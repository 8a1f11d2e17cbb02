"""A synchronous httpx transport that calls an ASGI app in-process.

httpx ships :class:`httpx.ASGITransport` for async clients only. The harness is
synchronous (hypothesis drives it), so this transport runs the ASGI app on an anyio
event loop in a background thread (a *blocking portal*) and hands each request to
``httpx.ASGITransport`` there. Requests may come from several threads at once: the app
then serves them concurrently on its loop, as it would under uvicorn.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal

ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


class SyncASGITransport(httpx.BaseTransport):
    """Serve sync httpx requests from an ASGI app running on a private event loop."""

    def __init__(self, app: ASGIApp, *, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self._inner = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=client)
        self._stack = contextlib.ExitStack()
        self._portal: BlockingPortal = self._stack.enter_context(start_blocking_portal())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()
        return self._portal.call(self._handle, request, content)

    async def _handle(self, request: httpx.Request, content: bytes) -> httpx.Response:
        forwarded = httpx.Request(
            request.method, request.url, headers=request.headers, content=content
        )
        response = await self._inner.handle_async_request(forwarded)
        body = await response.aread()
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=body,
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._stack.close()
