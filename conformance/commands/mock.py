"""``session-conformance mock --port P --record TRACE.jsonl``: the recording mock.

The reference implementation, strict, recording every exchange to a trace for
``verify-client``, with adversarial modes (``--mode``, repeatable or comma-separated),
in the contract's layout or any profile's (``--profile NAME|FILE``).
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
from pathlib import Path
from typing import Any

from conformance.commands.arguments import (
    EXIT_OK,
    EXIT_UNDECIDED,
    TOKEN_ENV,
    UsageError,
    fail,
    non_negative,
    non_negative_float,
    port,
    positive,
    profile_variables,
)


def register(commands: Any) -> None:
    from conformance.mock.modes import MODES

    mock = commands.add_parser(
        "mock",
        help="serve the recording mock for testing a client (then run verify-client)",
        description="Serve the reference as a strict mock that records every exchange "
        "to a trace (JSONL) for `session-conformance verify-client`.",
    )
    mock.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    mock.add_argument("--port", type=port, default=8000, help="port (default 8000; 0: any free)")
    mock.add_argument(
        "--record", type=Path, required=True, metavar="TRACE.jsonl", help="write the trace here"
    )
    mock.add_argument(
        "--profile",
        metavar="NAME|PATH",
        help="serve this profile's layout: a built-in (adk, chat-header, status-query, "
        "langgraph) or a profile file (default: the contract's canonical layout)",
    )
    mock.add_argument(
        "--profile-var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a variable of the profile, e.g. --profile-var app=my_agent (repeatable)",
    )
    mock.add_argument(
        "--mode",
        action="append",
        default=[],
        metavar="MODE",
        help=f"adversarial mode, repeatable or comma-separated: {', '.join(MODES)}",
    )
    mock.add_argument(
        "--provision-seconds",
        type=non_negative_float,
        help="how long a session takes to become Ready (default 0.5; 3 with --mode slow)",
    )
    mock.add_argument(
        "--retry-after",
        type=positive,
        default=1,
        metavar="SECONDS",
        help="the Retry-After of --mode status-503 (default 1)",
    )
    mock.add_argument(
        "--latency-ms",
        type=non_negative,
        default=0,
        help="delay every answer by this many milliseconds (default 0)",
    )
    mock.add_argument("--token", help=f"require this bearer token (or set {TOKEN_ENV})")
    mock.add_argument(
        "--cors-origin", help="allow this CORS origin (a browser client on another origin)"
    )
    mock.set_defaults(handler=mock_command)


def mock_command(args: argparse.Namespace) -> int:
    from conformance.mock.app import plan_in_layout
    from conformance.mock.modes import MockPlan, ModeError, parse_modes
    from conformance.mock.server import serve_mock
    from conformance.profile import CANONICAL, ProfileError, load_profile

    variables = profile_variables(args.profile_var)
    try:
        profile = load_profile(args.profile, variables) if args.profile else CANONICAL
    except ProfileError as exc:
        raise UsageError(str(exc)) from exc
    if variables and not args.profile:
        raise UsageError("--profile-var sets a variable of a profile: give --profile too")
    try:
        plan = MockPlan(
            modes=parse_modes(args.mode),
            provision_seconds=args.provision_seconds,
            retry_after_seconds=args.retry_after,
            latency_seconds=args.latency_ms / 1000,
            token=args.token or os.environ.get(TOKEN_ENV) or None,
            cors_origin=args.cors_origin,
        )
        plan = plan_in_layout(plan, profile)
    except ModeError as exc:
        raise UsageError(str(exc)) from exc
    except ValueError as exc:
        raise UsageError(str(exc)) from exc

    verify = ["session-conformance", "verify-client", str(args.record)]
    if args.profile:
        verify += ["--profile", args.profile]
    for assignment in args.profile_var:
        verify += ["--profile-var", assignment]

    def announce(url: str) -> None:
        modes = ", ".join(plan.modes) or "none (the strict reference)"
        print(  # noqa: T201
            f"mock on {url}, recording to {args.record} (layout {profile.name}; modes: "
            f"{modes}; provisioning {plan.provisioning:g} s); Ctrl-C stops, then: "
            f"{shlex.join(verify)}",
            flush=True,
        )

    # `kill PID` (SIGTERM) stops the mock as Ctrl-C does: gracefully, trace complete, exit 0.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve_mock(
            args.record, plan, profile=profile, host=args.host, port=args.port, announce=announce
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
