"""A synchronous httpx transport that calls an ASGI app in-process.

httpx ships :class:`httpx.ASGITransport` for async clients only. The harness is
synchronous (hypothesis drives it), so this transport runs the ASGI app on an asyncio
event loop in a background daemon thread (so a forgotten ``close`` never keeps the
interpreter from exiting) and hands each request to ``httpx.ASGITransport`` there. Requests
may come from several threads at once: the app then serves them concurrently on its loop,
as it would under uvicorn. An answer is awaited no longer than the exchange's deadline
(:func:`conformance.bounds.remaining`); the app's task is then cancelled.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx

from conformance.bounds import remaining

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
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="asgi-transport", daemon=True
        )
        self._thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()
        future = asyncio.run_coroutine_threadsafe(self._handle(request, content), self._loop)
        try:  # an app that never answers is bounded like a socket target
            return future.result(timeout=remaining())
        except TimeoutError:
            future.cancel()
            raise httpx.ReadTimeout("the app gave no answer in time", request=request) from None

    async def _handle(self, request: httpx.Request, content: bytes) -> httpx.Response:
        forwarded = httpx.Request(
            request.method, request.url, headers=request.headers, content=content
        )
        response = await self._inner.handle_async_request(forwarded)
        # The body as sent: Target decodes it, within its bounds, as for a socket target.
        body = b"".join([chunk async for chunk in response.aiter_raw()])
        return httpx.Response(  # a stream: content= would decode it here, unbounded
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(body),
            extensions=response.extensions,
        )

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
