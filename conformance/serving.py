"""Serve an ASGI app with uvicorn on 127.0.0.1 in a background thread.

Used by tests, the mutant score and benchmarks to put a real server on a real socket
(port 0 picks a free port; :attr:`RunningServer.url` tells which).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Literal

import uvicorn

from conformance.transport import ASGIApp


@dataclass(slots=True)
class RunningServer:
    server: uvicorn.Server
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve_in_thread(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    startup_timeout: float = 10.0,
    server_headers: bool = True,
    log_level: str = "warning",
    lifespan: Literal["on", "off"] = "off",
) -> RunningServer:
    """``server_headers=False``: uvicorn adds no ``Server`` and ``Date`` of its own (a
    proxy passes the upstream's)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        lifespan=lifespan,
        access_log=False,
        server_header=server_headers,
        date_header=server_headers,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{host}:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"uvicorn did not start on {host}:{port}")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    return RunningServer(server=server, thread=thread, url=f"http://{host}:{bound}")
