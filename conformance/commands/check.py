"""``session-conformance check [URL]``: check a target against the clauses."""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import shlex
import sys
from pathlib import Path
from typing import Any

from conformance.commands.arguments import (
    EXIT_INTERRUPTED,
    EXIT_UNDECIDED,
    TOKEN_ENV,
    UsageError,
    checked_url,
    fail,
    non_negative,
    non_negative_float,
    positive,
    positive_float,
)
from conformance.context import Settings
from conformance.records import RunReport
from conformance.reporting.console import ConsoleReporter
from conformance.reporting.json_report import write_json_report
from conformance.runner import INTERRUPTED, RunFinished, UnknownClause, exit_code, run, select
from conformance.target import Limits, Target

#: What the bundled reference declares when ``check`` runs it in-process.
REFERENCE_CORS_ORIGIN = "https://app.example"


def register(commands: Any) -> None:
    check = commands.add_parser("check", help="check a target against every clause")
    check.add_argument(
        "url", nargs="?", help="base URL of the target (default: the bundled reference, in-process)"
    )
    check.add_argument("--token", help=f"bearer token the target requires (or set {TOKEN_ENV})")
    check.add_argument("--cors-origin", help="the CORS origin the target allows")
    check.add_argument("--seed", type=non_negative, help="seed (default: random, printed)")
    check.add_argument(
        "--max-examples", type=positive, default=25, help="examples per property (default 25)"
    )
    check.add_argument(
        "--clause", action="append", nargs="+", metavar="ID", help="only these clauses"
    )
    check.add_argument(
        "--report-json", type=Path, metavar="PATH", help="write the JSON report here"
    )
    check.add_argument(
        "--ready-timeout",
        type=positive_float,
        default=30.0,
        help="seconds a session may take to become Ready (default 30)",
    )
    check.add_argument(
        "--timeout",
        type=positive_float,
        default=30.0,
        help="read timeout per request, seconds (default 30)",
    )
    check.add_argument(
        "--connect-timeout",
        type=positive_float,
        default=5.0,
        help="connect timeout, seconds (default 5)",
    )
    check.add_argument(
        "--no-client-ids",
        action="store_true",
        help="the target does not accept client-chosen session ids",
    )
    check.add_argument(
        "--provision-seconds",
        type=non_negative_float,
        default=0.5,
        help="provisioning time of the in-process reference (default 0.5)",
    )
    check.add_argument(
        "--strict", action="store_true", help="a failed SHOULD clause also fails the run"
    )
    check.add_argument(
        "-q", "--quiet", action="store_true", help="print only failures, errors and the totals"
    )
    check.add_argument("-v", "--verbose", action="store_true", help="print every clause's summary")
    check.set_defaults(handler=check_command)


def check_command(args: argparse.Namespace) -> int:
    token = args.token or os.environ.get(TOKEN_ENV) or None
    clause_ids = [cid for group in args.clause or [] for cid in group]
    try:
        select(clause_ids)
    except UnknownClause as exc:
        raise UsageError(str(exc)) from exc
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    cors_origin = args.cors_origin
    limits = Limits(connect_timeout=args.connect_timeout, read_timeout=args.timeout)
    if args.url is None:
        from conformance.reference import ReferenceConfig, create_app

        token = token or f"sc-reference-{seed:x}"
        cors_origin = cors_origin or REFERENCE_CORS_ORIGIN
        config = ReferenceConfig(
            provision_seconds=args.provision_seconds, token=token, cors_origin=cors_origin
        )
        target = Target(app=create_app(config), token=token, limits=limits)
    else:
        target = Target(checked_url(args.url), token=token, limits=limits)
    features = frozenset() if args.no_client_ids else frozenset({"client_ids"})
    settings = Settings(
        seed=seed,
        max_examples=args.max_examples,
        ready_timeout=args.ready_timeout,
        token=token,
        cors_origin=cors_origin,
        features=features,
    )
    reporter = ConsoleReporter(sys.stdout, verbose=args.verbose, quiet=args.quiet)
    report: RunReport | None = None
    with target:
        for event in run(target, settings, clause_ids=clause_ids):
            if isinstance(event, RunFinished):
                report = dataclasses.replace(event.report, replay=_replay(args, seed))
                event = RunFinished(report)
            reporter.handle(event)
    assert report is not None
    if args.report_json is not None:
        try:
            write_json_report(report, args.report_json)
        except OSError as exc:
            fail(f"cannot write the JSON report to {args.report_json}: {exc.strerror or exc}")
            return EXIT_UNDECIDED
    for note in report.notes:
        fail(note)
    if any(note.startswith(INTERRUPTED) for note in report.notes):
        return EXIT_INTERRUPTED
    return exit_code(report, strict=args.strict)


def _replay(args: argparse.Namespace, seed: int) -> str:
    parts = ["session-conformance", "check"]
    if args.url:
        parts.append(args.url)
    parts += ["--seed", str(seed)]
    if args.max_examples != 25:
        parts += ["--max-examples", str(args.max_examples)]
    if args.cors_origin:
        parts += ["--cors-origin", args.cors_origin]
    if args.url is None and args.provision_seconds != 0.5:
        parts += ["--provision-seconds", f"{args.provision_seconds:g}"]
    if args.no_client_ids:
        parts.append("--no-client-ids")
    command = shlex.join(parts)
    if args.url and args.token:
        # The secret itself is never printed: the replay reads it from the environment.
        command += f' --token "${TOKEN_ENV}"'
    return command
