"""Kept-alive connections the target closed: a request sent again on another one.

Every HTTP client meets this race: a server's keep-alive timer ends (or it closes an idle
connection for its own reasons) just as a request leaves on that connection, and the
request fails with a reset or a disconnect before a byte of answer. The request never
reached the application, so RFC 9112 (section 9.3.1) lets a client send it again; browsers
do. The harness does so only when the failed attempt went out on a connection taken from
the pool, which drops it: the next attempt takes another kept connection (a server whose
keep-alive is short may have closed them all) or a new one, so the attempts are bounded by
the pool's size. A failure on a fresh connection is the target's own answer, never
retried. Whether a connection was fresh is read from
httpcore's ``trace`` extension (a new one starts with ``connect_tcp``).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

#: What a connection closed under a request raises (a timeout is never one of them).
_CLOSED_UNDER_IT = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


def send_past_stale_connections(
    client: httpx.Client,
    request: httpx.Request,
    *,
    auth: httpx.Auth | None,
    pooled: int,
    stopped: Callable[[], bool],
) -> httpx.Response:
    """``client.send(request, stream=True)``, again on another connection while the one it
    went out on was a pooled connection the target had closed. ``pooled`` is how many
    connections the client's pool keeps (0 for a transport with none: in-process);
    ``stopped`` is true once the run is interrupted, when a failure is never retried."""
    connected: list[str] = []

    def trace(name: str, _info: object) -> None:
        if name.endswith("connect_tcp.started"):
            connected.append(name)

    if pooled:
        request.extensions["trace"] = trace
    failures = 0
    while True:
        connected.clear()
        try:
            return client.send(request, stream=True, auth=auth)
        except _CLOSED_UNDER_IT:
            failures += 1
            if connected or failures > pooled or stopped():
                raise
