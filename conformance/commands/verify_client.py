"""``session-conformance verify-client TRACE.jsonl``: judge a client's recorded traffic.

Same verdicts, console output, JSON report and exit codes as ``check``; a trace that
cannot be read (missing, not JSONL, not the schema in ``specs/trace.schema.json``) is
bad input given on the command line, as a bad report file is for ``report``: one line
on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from conformance.commands.arguments import (
    EXIT_UNDECIDED,
    UsageError,
    fail,
    non_negative,
    profile_variables,
)
from conformance.records import RunReport


def register(commands: Any) -> None:
    verify = commands.add_parser(
        "verify-client",
        help="judge a client's traffic, recorded by the mock, against the client clauses",
    )
    verify.add_argument("trace", type=Path, metavar="TRACE.jsonl", help="the trace to judge")
    verify.add_argument(
        "--profile",
        metavar="NAME|PATH",
        help="the layout the client spoke (default: the built-in the trace was recorded in)",
    )
    verify.add_argument(
        "--profile-var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a variable of the profile, e.g. --profile-var app=my_agent (repeatable)",
    )
    verify.add_argument(
        "--clause", action="append", nargs="+", metavar="ID", help="only these clauses"
    )
    verify.add_argument(
        "--deadline-ms",
        type=non_negative,
        help="the client's deadline for a session to become ready, for creates that do "
        "not state one in X-Client-Deadline-Ms",
    )
    verify.add_argument(
        "--min-poll-interval-ms",
        type=non_negative,
        default=100,
        help="the least a client waits between an answer and its next poll (default 100)",
    )
    verify.add_argument(
        "--report-json", type=Path, metavar="PATH", help="write the JSON report here"
    )
    verify.add_argument(
        "--strict", action="store_true", help="a failed SHOULD clause also fails the run"
    )
    verify.add_argument(
        "-q", "--quiet", action="store_true", help="print only failures, errors and the totals"
    )
    verify.add_argument("-v", "--verbose", action="store_true", help="print every clause's summary")
    verify.set_defaults(handler=verify_client_command)


def verify_client_command(args: argparse.Namespace) -> int:
    import dataclasses

    from conformance.client_checks.context import ClientSettings
    from conformance.client_checks.verifier import verify
    from conformance.mock.trace import TraceError, read_trace
    from conformance.profile import ProfileError, load_profile
    from conformance.reporting.console import ConsoleReporter
    from conformance.reporting.json_report import write_json_report
    from conformance.runner import RunFinished, UnknownClause, exit_code, select

    clause_ids = [cid for group in args.clause or [] for cid in group]
    variables = profile_variables(args.profile_var)
    try:
        select(clause_ids, subject="client")
    except UnknownClause as exc:
        raise UsageError(str(exc)) from exc
    try:
        trace = read_trace(args.trace)
    except TraceError as exc:
        raise UsageError(f"cannot verify the trace: {exc}") from exc
    variables = profile_variables(args.profile_var)
    spec = args.profile or (trace.header.layout if variables else None)
    try:
        profile = load_profile(spec, variables) if spec else None
    except ProfileError as exc:
        hint = "" if args.profile else " (give the profile file with --profile)"
        raise UsageError(f"{exc}{hint}") from exc
    settings = ClientSettings(
        min_poll_interval=args.min_poll_interval_ms / 1000, deadline_ms=args.deadline_ms
    )
    reporter = ConsoleReporter(sys.stdout, verbose=args.verbose, quiet=args.quiet)
    report: RunReport | None = None
    for event in verify(trace, settings, clause_ids=clause_ids, profile=profile):
        if isinstance(event, RunFinished):
            report = dataclasses.replace(event.report, replay=_replay(args))
            event = RunFinished(report)
        reporter.handle(event)
    assert report is not None
    if args.report_json is not None:
        try:
            write_json_report(report, args.report_json)
        except OSError as exc:
            fail(f"cannot write the JSON report to {args.report_json}: {exc.strerror or exc}")
            return EXIT_UNDECIDED
    return exit_code(report, strict=args.strict)


def _replay(args: argparse.Namespace) -> str:
    parts = ["session-conformance", "verify-client", str(args.trace)]
    if args.profile:
        parts += ["--profile", args.profile]
    for assignment in args.profile_var:
        parts += ["--profile-var", assignment]
    if args.deadline_ms is not None:
        parts += ["--deadline-ms", str(args.deadline_ms)]
    if args.min_poll_interval_ms != 100:
        parts += ["--min-poll-interval-ms", str(args.min_poll_interval_ms)]
    return shlex.join(parts)
