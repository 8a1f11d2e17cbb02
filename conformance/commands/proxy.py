"""``session-conformance proxy --upstream URL --record TRACE.jsonl``: the validation proxy.

Forwards every request to a real backend, unchanged, and records each exchange to a trace
for ``verify-client`` (the client's clauses) and ``verify-trace`` (the server's clauses
decidable from the traffic alone). Stops on Ctrl-C or SIGTERM with the trace complete.
"""

from __future__ import annotations

import argparse
import signal
from pathlib import Path
from typing import Any

from conformance.commands.arguments import (
    EXIT_OK,
    EXIT_UNDECIDED,
    UsageError,
    checked_url,
    fail,
    port,
)


def register(commands: Any) -> None:
    proxy = commands.add_parser(
        "proxy",
        help="forward a client's traffic to a real backend, recording it (then verify-trace)",
        description="Forward every request to the upstream backend unchanged and record "
        "each exchange to a trace (JSONL) for `verify-client` and `verify-trace`.",
    )
    proxy.add_argument(
        "--upstream", required=True, type=checked_url, metavar="URL", help="the real backend"
    )
    proxy.add_argument(
        "--record", type=Path, required=True, metavar="TRACE.jsonl", help="write the trace here"
    )
    proxy.add_argument(
        "--profile",
        default="canonical",
        metavar="NAME|PATH",
        help="the backend's layout, written in the trace for the verifiers (default canonical)",
    )
    proxy.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    proxy.add_argument("--port", type=port, default=8000, help="port (default 8000; 0: any free)")
    proxy.set_defaults(handler=proxy_command)


def proxy_command(args: argparse.Namespace) -> int:
    from conformance.profile import ProfileError, load_profile
    from conformance.proxy import Upstream, serve_proxy

    try:
        upstream = Upstream.parse(args.upstream)
        layout = load_profile(args.profile).name
    except (ValueError, ProfileError) as exc:
        raise UsageError(str(exc)) from exc

    def announce(url: str) -> None:
        print(f"proxy on {url} -> {upstream.public}", flush=True)  # noqa: T201

    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve_proxy(
            upstream, args.record, layout=layout, host=args.host, port=args.port, announce=announce
        )
    except OSError as exc:
        fail(
            f"cannot serve on {args.host}:{args.port} or write {args.record}: {exc.strerror or exc}"
        )
        return EXIT_UNDECIDED
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        signal.signal(signal.SIGTERM, previous)
    return EXIT_OK


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
