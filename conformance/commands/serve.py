"""``session-conformance serve``: the reference implementation under uvicorn."""

from __future__ import annotations

import argparse
import os
from typing import Any

from conformance.commands.arguments import EXIT_OK, TOKEN_ENV, non_negative_float, port


def register(commands: Any) -> None:
    serve = commands.add_parser("serve", help="serve the reference implementation with uvicorn")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=port, default=8000, help="port (default 8000)")
    serve.add_argument("--provision-seconds", type=non_negative_float, default=0.5)
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
    print(f"serving the reference on http://{args.host}:{args.port} (Ctrl-C stops)", flush=True)  # noqa: T201
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="warning")
    return EXIT_OK
