"""A TCP proxy that delays what the client sends: a remote target, simulated on loopback.

It listens on 127.0.0.1 (a free port), opens one connection to the upstream per client
connection, and forwards every chunk the client sends ``delay_ms`` after it arrived, in
order, per connection: so each request reaches the upstream ``delay_ms`` late, whatever
HTTP/1.1 keep-alive or pipelining puts on the connection, without parsing a byte. What
the upstream answers goes back at once, a chunk as soon as it is read (a server-sent
event stream is never buffered). The added round trip is therefore ``delay_ms`` per
request; opening a connection costs nothing extra (a real network would add one more
round trip there, which only new connections pay).

Standard library asyncio only. :func:`delaying` runs one in a thread of its own, for
the benchmark (:mod:`benchmarks.remote`) and the tests.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Bytes read at a time from either side.
CHUNK = 65536
#: Errors of a connection that ends badly (a reset, a write on a closed socket).
_GONE = (ConnectionError, OSError, asyncio.IncompleteReadError)


@dataclass(frozen=True, slots=True)
class Upstream:
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Upstream:
        """The host and port of an ``http://`` URL (its path, if any, is the client's)."""
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"not an http:// URL with a host: {url!r}")
        return cls(parts.hostname, parts.port or 80)


class DelayingProxy:
    """The proxy on one event loop: :meth:`start`, then :meth:`stop` on the same loop."""

    def __init__(self, upstream: Upstream, delay_ms: float) -> None:
        self.upstream = upstream
        self.delay = delay_ms / 1000
        self.port = 0
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        """Listen on a free port of 127.0.0.1; returns it."""
        self._server = await asyncio.start_server(self._accepted, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        """Stop listening and end every connection under way."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._relay(reader, writer)
        except asyncio.CancelledError:
            pass  # stopped: the connection's own task ends here (streams would log a re-raise)
        finally:
            self._connections.discard(task)

    async def _relay(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self.upstream.host, self.upstream.port
            )
        except OSError:
            client_writer.close()
            return
        up = asyncio.create_task(_delayed(client_reader, upstream_writer, self.delay))
        down = asyncio.create_task(_copy(upstream_reader, client_writer))
        try:
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
            if up.done() and not up.cancelled() and up.exception() is None:
                # the client is done sending: the upstream answers what it has, then closes
                with contextlib.suppress(*_GONE):
                    await down
        finally:
            for task in (up, down):
                task.cancel()
            await asyncio.gather(up, down, return_exceptions=True)
            for writer in (upstream_writer, client_writer):
                writer.close()


async def _delayed(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
) -> None:
    """Forward each chunk of ``reader`` to ``writer`` ``delay`` seconds after it was read, in
    order; the end of the stream too (a half-close), as late."""
    loop = asyncio.get_running_loop()
    due: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read() -> None:
        try:
            while chunk := await reader.read(CHUNK):
                due.put_nowait((loop.time() + delay, chunk))
        except _GONE:
            pass  # a reset ends the client's side as an end of stream would
        due.put_nowait((loop.time() + delay, b""))

    reading = asyncio.create_task(read())
    try:
        while True:
            at, chunk = await due.get()
            if (wait := at - loop.time()) > 0:
                await asyncio.sleep(wait)
            if not chunk:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(chunk)
            await writer.drain()
    finally:
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Forward every chunk of ``reader`` to ``writer`` as soon as it is read."""
    while chunk := await reader.read(CHUNK):
        writer.write(chunk)
        await writer.drain()


@contextlib.contextmanager
def delaying(upstream_url: str, delay_ms: float) -> Iterator[str]:
    """A :class:`DelayingProxy` in front of ``upstream_url`` on a loop in a thread of its
    own; yields the proxy's base URL (the upstream's path kept)."""
    upstream = Upstream.of(upstream_url)
    path = urlsplit(upstream_url).path.rstrip("/")
    proxy = DelayingProxy(upstream, delay_ms)
    started: concurrent.futures.Future[asyncio.AbstractEventLoop] = concurrent.futures.Future()
    stopping: concurrent.futures.Future[None] = concurrent.futures.Future()

    async def serve() -> None:
        await proxy.start()
        started.set_result(asyncio.get_running_loop())
        await asyncio.wrap_future(stopping)
        await proxy.stop()

    def run() -> None:
        try:
            asyncio.run(serve())
        except BaseException as error:  # the caller learns why the proxy never started
            if not started.done():
                started.set_exception(error)
            raise

    thread = threading.Thread(target=run, name="delaying-proxy", daemon=True)
    thread.start()
    loop = started.result(timeout=30)
    try:
        yield f"http://127.0.0.1:{proxy.port}{path}"
    finally:
        loop.call_soon_threadsafe(stopping.set_result, None)
        thread.join(timeout=30)
