"""Serving the proxy: in a background thread (tests, benchmarks) or in the foreground
(``session-conformance proxy``), always with uvicorn on a real socket, with no ``Server``
or ``Date`` header of uvicorn's own (the upstream's pass through).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from conformance.mock.trace import Trace, TraceWriter, read_trace
from conformance.proxy.app import ProxyApp, Upstream
from conformance.serving import RunningServer, serve_in_thread


@dataclass(slots=True)
class RunningProxy:
    """A proxy serving on 127.0.0.1 and recording to ``trace_path``."""

    app: ProxyApp
    server: RunningServer
    writer: TraceWriter
    trace_path: Path

    @property
    def url(self) -> str:
        return self.server.url

    def trace(self) -> Trace:
        """The trace so far (every exchange that has ended)."""
        return read_trace(self.trace_path)

    def stop(self) -> None:
        self.server.stop()
        self.writer.close()

    def __enter__(self) -> RunningProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_proxy(
    upstream: str, record: Path, *, layout: str = "canonical", host: str = "127.0.0.1"
) -> RunningProxy:
    """Start the proxy in a background thread on a free port (``ValueError``: a bad
    upstream URL)."""
    app = ProxyApp(Upstream.parse(upstream), layout=layout)
    writer = TraceWriter(record)
    server = serve_in_thread(
        app, host=host, server_headers=False, log_level="critical", lifespan="on"
    )
    app.start_recording(writer, server.url)
    return RunningProxy(app=app, server=server, writer=writer, trace_path=record)


def serve_proxy(
    upstream: Upstream,
    record: Path,
    *,
    layout: str = "canonical",
    host: str = "127.0.0.1",
    port: int = 8000,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve the proxy in the foreground until interrupted (SIGINT or SIGTERM). The
    socket listens before ``announce`` is called, so a client may connect at once."""
    import uvicorn

    # IPPROTO_TCP named, so that asyncio sets TCP_NODELAY on every accepted connection
    # (it does only for sockets whose proto says TCP; with proto 0 each answer written in
    # two parts waited 40 ms for the client's delayed ACK).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound}"
    app = ProxyApp(upstream, layout=layout)
    writer = TraceWriter(record)
    app.start_recording(writer, url)
    if announce is not None:
        announce(url)
    config = uvicorn.Config(
        app,
        log_level="critical",
        lifespan="on",
        access_log=False,
        server_header=False,
        date_header=False,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        writer.close()
        sock.close()
