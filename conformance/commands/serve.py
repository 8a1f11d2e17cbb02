"""``session-conformance serve``: the reference implementation under uvicorn.

The port is bound before anything is printed: a port in use is one line on stderr and
exit 3, never a "serving on ..." line first."""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
from typing import Any

from conformance.commands.arguments import (
    EXIT_OK,
    EXIT_UNDECIDED,
    TOKEN_ENV,
    fail,
    non_negative_float,
    port,
)


def register(commands: Any) -> None:
    serve = commands.add_parser("serve", help="serve the reference implementation with uvicorn")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=port, default=8000, help="port (default 8000; 0: any free)")
    serve.add_argument(
        "--provision-seconds",
        type=non_negative_float,
        default=0.5,
        metavar="S",
        help="how long a new session takes to become Ready (default 0.5; 0: at once)",
    )
    serve.add_argument("--token", help=f"require this bearer token (or set {TOKEN_ENV})")
    serve.add_argument("--cors-origin", help="allow this CORS origin")
    serve.set_defaults(handler=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    import uvicorn

    from conformance.reference import ReferenceConfig, create_app

    config = ReferenceConfig(
        provision_seconds=args.provision_seconds,
        token=args.token or os.environ.get(TOKEN_ENV) or None,
        cors_origin=args.cors_origin,
    )
    try:
        listener = _bound(args.host, args.port)
    except OSError as exc:
        fail(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}")
        return EXIT_UNDECIDED
    with listener:
        bound = listener.getsockname()[1]
        print(f"serving the reference on http://{args.host}:{bound} (Ctrl-C stops)", flush=True)  # noqa: T201
        server = uvicorn.Server(uvicorn.Config(create_app(config), log_level="warning"))
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: a clean stop, as uvicorn.run
            server.run(sockets=[listener])
    return EXIT_OK


def _bound(host: str, number: int) -> socket.socket:
    """A listening socket on ``host:number`` (uvicorn would print a log line and exit 1)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP
    # (without it, a response written in two pieces waits on the client's delayed ACK, 40 ms)
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, number))
        listener.listen(2048)
    except OSError:
        listener.close()
        raise
    return listener
