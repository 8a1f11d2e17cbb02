"""``session-conformance verify-trace TRACE.jsonl``: judge a backend on observed traffic.

The server clauses a trace alone can decide (:mod:`conformance.traffic`), judged
passively on what the backend answered a real client through the proxy. Same verdicts,
console output, report formats and exit codes as ``check``; a trace that cannot be read
is one line on stderr and exit 3 (as for ``verify-client``).
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
    profile_variables,
)
from conformance.commands.report import add_report_flags, write_reports
from conformance.records import RunReport


def register(commands: Any) -> None:
    verify = commands.add_parser(
        "verify-trace",
        help="judge a backend's recorded traffic (the proxy's trace) against the server "
        "clauses that traffic alone can decide",
    )
    verify.add_argument("trace", type=Path, metavar="TRACE.jsonl", help="the trace to judge")
    verify.add_argument(
        "--profile",
        metavar="NAME|PATH",
        help="the backend's layout (default: the one the trace was recorded with)",
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
        "--report-json", type=Path, metavar="PATH", help="write the JSON report here"
    )
    add_report_flags(verify)
    verify.add_argument(
        "--strict", action="store_true", help="a failed SHOULD clause also fails the run"
    )
    verify.add_argument(
        "-q", "--quiet", action="store_true", help="print only failures, errors and the totals"
    )
    verify.add_argument("-v", "--verbose", action="store_true", help="print every clause's summary")
    verify.set_defaults(handler=verify_trace_command)


def verify_trace_command(args: argparse.Namespace) -> int:
    import dataclasses

    from conformance.mock.trace import TraceError, read_trace
    from conformance.profile import ProfileError, load_profile
    from conformance.reporting.console import ConsoleReporter
    from conformance.reporting.json_report import write_json_report
    from conformance.runner import RunFinished, UnknownClause, exit_code
    from conformance.traffic import NotJudged, clauses, verify_trace

    clause_ids = [cid for group in args.clause or [] for cid in group]
    variables = profile_variables(args.profile_var)
    try:
        clauses(clause_ids)
    except (UnknownClause, NotJudged) as exc:
        raise UsageError(str(exc)) from exc
    try:
        trace = read_trace(args.trace)
    except TraceError as exc:
        fail(f"cannot verify the trace: {exc}")
        return EXIT_UNDECIDED
    spec = args.profile or trace.header.layout
    try:
        profile = load_profile(spec, variables)
    except ProfileError as exc:
        hint = "" if args.profile else " (give the profile file with --profile)"
        raise UsageError(f"{exc}{hint}") from exc
    reporter = ConsoleReporter(sys.stdout, verbose=args.verbose, quiet=args.quiet)
    report: RunReport | None = None
    for event in verify_trace(trace, profile, clause_ids=clause_ids):
        if isinstance(event, RunFinished):
            report = dataclasses.replace(event.report, replay=_replay(args))
            event = RunFinished(report)
        reporter.handle(event)
    assert report is not None
    written = True
    if args.report_json is not None:
        try:
            write_json_report(report, args.report_json)
        except OSError as exc:
            fail(f"cannot write the JSON report to {args.report_json}: {exc.strerror or exc}")
            written = False
    written = write_reports(report, args) and written
    code = exit_code(report, strict=args.strict)
    return code if written or code != 0 else EXIT_UNDECIDED


def _replay(args: argparse.Namespace) -> str:
    parts = ["session-conformance", "verify-trace", str(args.trace)]
    if args.profile:
        parts += ["--profile", args.profile]
    for assignment in args.profile_var:
        parts += ["--profile-var", assignment]
    return shlex.join(parts)
