"""Serving the mock: in a background thread (tests, the pytest fixture) or in the
foreground (``session-conformance mock``), always with uvicorn on a real socket.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from conformance.mock.app import MockApp
from conformance.mock.modes import MockPlan
from conformance.mock.trace import Trace, TraceWriter, read_trace
from conformance.profile import CANONICAL, Profile
from conformance.serving import RunningServer, serve_in_thread


@dataclass(slots=True)
class RunningMock:
    """A mock serving on 127.0.0.1 and recording to ``trace_path``."""

    app: MockApp
    server: RunningServer
    writer: TraceWriter
    trace_path: Path

    @property
    def url(self) -> str:
        return self.server.url

    def trace(self) -> Trace:
        """The trace so far (every exchange whose response has ended)."""
        return read_trace(self.trace_path)

    def stop(self) -> None:
        self.server.stop()
        self.writer.close()

    def __enter__(self) -> RunningMock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_mock(
    record: Path,
    plan: MockPlan | None = None,
    *,
    profile: Profile = CANONICAL,
    host: str = "127.0.0.1",
    port: int = 0,
) -> RunningMock:
    """Start the mock in ``profile``'s layout in a background thread (port 0: a free
    port)."""
    app = MockApp(plan, profile=profile)
    writer = TraceWriter(record)
    server = serve_in_thread(app, host=host, port=port)
    app.start_recording(writer, server.url)
    return RunningMock(app=app, server=server, writer=writer, trace_path=record)


def serve_mock(
    record: Path,
    plan: MockPlan,
    *,
    profile: Profile = CANONICAL,
    host: str = "127.0.0.1",
    port: int = 8000,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve the mock in the foreground until interrupted (SIGINT or SIGTERM).

    The socket is bound and listening first, so the trace header and ``announce`` know
    the real port even when ``port`` is 0, and a client may connect as soon as it reads
    the announce.
    """
    import uvicorn

    # IPPROTO_TCP named, so that asyncio sets TCP_NODELAY on every accepted connection
    # (it does only for sockets whose proto says TCP; with proto 0 each answer written in
    # two parts waited 40 ms for the client's delayed ACK).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # before the announce: whoever reads the URL can connect at once
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound}"
    app = MockApp(plan, profile=profile)
    writer = TraceWriter(record)
    app.start_recording(writer, url)
    if announce is not None:
        announce(url)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        writer.close()
        sock.close()
