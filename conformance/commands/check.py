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

from conformance import interruption
from conformance.client import ContractClient
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
    profile_variables,
)
from conformance.commands.last_run import LAST, last_seed, remember
from conformance.commands.report import add_report_flags, write_reports
from conformance.context import Settings
from conformance.exchange_log import ExchangeLog
from conformance.profile import Profile
from conformance.profiles import ProfileError, builtin_names, load_profile
from conformance.progress import console_reporter
from conformance.records import RunReport
from conformance.redaction import public_url, redactor_for, userinfo_of
from conformance.reporting.curl import url_word
from conformance.reporting.json_report import write_json_report
from conformance.runner import (
    INTERRUPTED,
    Event,
    RunFinished,
    UnknownClause,
    exit_code,
    run,
    select,
)
from conformance.smoke import (
    SMOKE_MAX_EXAMPLES,
    Sweeper,
    cleaning_up,
    smoke_clause_ids,
)
from conformance.target import CONFLICTING_CREDENTIALS, Limits, Target

#: What the bundled reference declares when ``check`` runs it in-process.
REFERENCE_CORS_ORIGIN = "https://app.example"


def register(commands: Any) -> None:
    check = commands.add_parser("check", help="check a target against every clause")
    check.add_argument(
        "url", nargs="?", help="base URL of the target (default: the bundled reference, in-process)"
    )
    check.add_argument("--token", help=f"bearer token the target requires (or set {TOKEN_ENV})")
    check.add_argument("--cors-origin", help="the CORS origin the target allows")
    check.add_argument(
        "--seed",
        type=_seed,
        help="seed (default: random, printed); 'last': the previous run's seed",
    )
    check.add_argument(
        "--max-examples",
        type=positive,
        help=f"examples per property (default 25; {SMOKE_MAX_EXAMPLES} with --smoke); "
        "also the sequences of the stateful exploration (at least 10)",
    )
    check.add_argument(
        "--max-steps",
        type=positive,
        default=Settings().max_steps,
        metavar="N",
        help=f"steps per sequence of the stateful exploration (default {Settings().max_steps})",
    )
    check.add_argument(
        "--concurrency",
        type=positive,
        default=Settings().concurrency,
        metavar="N",
        help="requests sent at once by the concurrency clauses and ID-005 "
        f"(default {Settings().concurrency})",
    )
    check.add_argument(
        "--clause", action="append", nargs="+", metavar="ID", help="only these clauses"
    )
    check.add_argument(
        "--report-json", type=Path, metavar="PATH", help="write the JSON report here"
    )
    check.add_argument(
        "--record-exchanges",
        type=Path,
        metavar="PATH",
        help="write every exchange the run sent to PATH as JSON lines (method, URL, headers, "
        "base64 body, status; secrets redacted), e.g. to replay them",
    )
    add_report_flags(check)
    check.add_argument(
        "--smoke",
        action="store_true",
        help="pre-deploy smoke run: the quick non-destructive subset, then delete every "
        "session the run created (also after a failure or Ctrl-C)",
    )
    check.add_argument(
        "--redact-header",
        action="append",
        default=[],
        metavar="NAME",
        help="mask this header's value in every output (repeatable)",
    )
    check.add_argument(
        "--redact-field",
        action="append",
        default=[],
        metavar="NAME",
        help="mask this JSON field's value in every body in every output (repeatable)",
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
        "--request-deadline",
        type=positive_float,
        default=Limits().request_deadline,
        metavar="S",
        help="seconds for one whole exchange, connect to last byte (default 60); "
        "--timeout alone never ends a target that trickles one byte a second",
    )
    check.add_argument(
        "--max-response-bytes",
        type=positive,
        default=Limits().max_response_bytes,
        metavar="N",
        help="bytes read of one response or stream, on the wire and once decoded "
        "(gzip, deflate, br, zstd); a longer answer is an error (default 4194304, 4 MiB)",
    )
    check.add_argument(
        "--max-response-headers",
        type=positive,
        default=Limits().max_response_headers,
        metavar="N",
        help=f"headers of one response; more is an error (default {Limits().max_response_headers})",
    )
    check.add_argument(
        "--max-header-bytes",
        type=positive,
        default=Limits().max_header_bytes,
        metavar="N",
        help="bytes of one response's header names and values; more is an error "
        f"(default {Limits().max_header_bytes}, 64 KiB)",
    )
    check.add_argument(
        "--deadline",
        type=positive_float,
        metavar="S",
        help="seconds for the whole run: past it no clause starts, the one under way is "
        "cut short, and those left are error (default: none)",
    )
    check.add_argument(
        "--no-client-ids",
        action="store_true",
        help="the target does not accept client-chosen session ids",
    )
    check.add_argument(
        "--profile",
        default="canonical",
        metavar="NAME|PATH",
        help="where the target keeps each role: a built-in profile "
        f"({', '.join(builtin_names())}) or a profile file (default canonical)",
    )
    check.add_argument(
        "--profile-var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a variable of the profile, e.g. --profile-var app=my_agent (repeatable)",
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
    # The run meets a signal that arrived before it (the imports, the parsing) and still
    # reports: the CLI lets it act only when the run starts.
    check.set_defaults(handler=check_command, meets_interrupts=True)


def check_command(args: argparse.Namespace) -> int:
    token = args.token or os.environ.get(TOKEN_ENV) or None
    clause_ids = [cid for group in args.clause or [] for cid in group]
    try:
        select(clause_ids)
        if args.smoke:
            clause_ids = smoke_clause_ids(clause_ids)
        redactor = redactor_for(args.redact_header, args.redact_field)
    except (UnknownClause, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    profile = profile_of(args)
    if args.max_examples is None:
        args.max_examples = SMOKE_MAX_EXAMPLES if args.smoke else 25
    if args.seed == LAST:
        seed = last_seed()
    else:
        seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    cors_origin = args.cors_origin
    limits = Limits(
        connect_timeout=args.connect_timeout,
        read_timeout=args.timeout,
        request_deadline=args.request_deadline,
        max_response_bytes=args.max_response_bytes,
        max_response_headers=args.max_response_headers,
        max_header_bytes=args.max_header_bytes,
    )
    if args.url is None:
        from conformance.reference import ReferenceConfig, create_app

        token = token or f"sc-reference-{seed:x}"
        cors_origin = cors_origin or REFERENCE_CORS_ORIGIN
        config = ReferenceConfig(
            provision_seconds=args.provision_seconds, token=token, cors_origin=cors_origin
        )
        target = Target(app=create_app(config), token=token, limits=limits, redactor=redactor)
    else:
        url = checked_url(args.url)
        if token and userinfo_of(url) is not None:
            source = "--token" if args.token else TOKEN_ENV
            raise UsageError(f"{CONFLICTING_CREDENTIALS} (the token came from {source})")
        target = Target(url, token=token, limits=limits, redactor=redactor)
    features = frozenset() if args.no_client_ids else frozenset({"client_ids"})
    settings = Settings(
        seed=seed,
        max_examples=args.max_examples,
        max_steps=args.max_steps,
        concurrency=args.concurrency,
        ready_timeout=args.ready_timeout,
        token=token,
        cors_origin=cors_origin,
        features=features,
    )
    report: RunReport | None = None
    log = None if args.record_exchanges is None else ExchangeLog(args.record_exchanges)
    if log is not None:  # written as the run goes: a long run keeps none of it in memory
        target.recording.listen(log)
    sweeper = Sweeper(ContractClient(target, profile)) if args.smoke else None
    console = console_reporter(sys.stdout, verbose=args.verbose, quiet=args.quiet)
    with target, cleaning_up(sweeper, fail), console as reporter:

        def handle(event: Event) -> None:
            nonlocal report
            if isinstance(event, RunFinished):
                report = dataclasses.replace(event.report, replay=_replay(args, seed))
                if sweeper is not None:  # before the summary, so the summary tells of it
                    notes = (*report.notes, sweeper.sweep().note())
                    report = dataclasses.replace(report, notes=notes)
                event = RunFinished(report)
                interruption.hold()  # the run is over: a signal now cannot cost the report
            reporter.handle(event)

        events = run(
            target, settings, clause_ids=clause_ids, profile=profile, deadline=args.deadline
        )
        started = next(events)  # from here the runner turns an interrupt into its report
        # Ctrl-C and SIGTERM (a cancelled CI job) end the run with its report, whenever they
        # land (conformance.interruption): until here they wait, from here they interrupt.
        try:
            with interruption.acting():
                handle(started)
                for event in events:
                    handle(event)
        except KeyboardInterrupt:
            if report is None:  # it landed here, not in the runner: the runner still reports
                handle(events.throw(KeyboardInterrupt()))
    assert report is not None
    written = True
    with interruption.held():  # a signal now cannot cost the report
        if args.report_json is not None:
            try:
                write_json_report(report, args.report_json)
            except OSError as exc:
                fail(f"cannot write the JSON report to {args.report_json}: {exc.strerror or exc}")
                written = False
        written = write_reports(report, args) and written
        if log is not None:
            log.close()
            if log.error is not None:
                why = log.error.strerror or log.error
                fail(f"cannot write the exchanges to {log.path}: {why}")
                written = False
        try:
            remember(seed, report.replay)
        except OSError as exc:
            fail(f"could not remember the seed for --seed last: {exc.strerror or exc}")
    for note in report.notes:
        fail(note)
    # A signal that arrived at any moment, even one Python swallowed, ends the run as such.
    if interruption.interrupted() or any(note.startswith(INTERRUPTED) for note in report.notes):
        return EXIT_INTERRUPTED
    code = exit_code(report, strict=args.strict)
    if code == 0 and not (
        written and (sweeper is None or sweeper.done is None or sweeper.done.clean)
    ):
        return EXIT_UNDECIDED  # a report not written, or a smoke run that left sessions
    return code


def profile_of(args: argparse.Namespace) -> Profile:
    """The ``--profile`` (with its ``--profile-var`` values), or a usage error."""
    variables = profile_variables(args.profile_var)
    try:
        profile = load_profile(args.profile, variables)
    except ProfileError as exc:
        raise UsageError(str(exc)) from exc
    if args.url is None and not profile.canonical:
        raise UsageError(
            f"--profile {args.profile}: the bundled reference speaks the canonical layout "
            "only; give the URL of a target in that layout"
        )
    return profile


def _seed(text: str) -> int | str:
    return LAST if text.strip().lower() == LAST else non_negative(text)


def _replay(args: argparse.Namespace, seed: int) -> str:
    parts = ["--seed", str(seed)]
    if args.smoke:
        parts.append("--smoke")
    if args.max_examples != (SMOKE_MAX_EXAMPLES if args.smoke else 25):
        parts += ["--max-examples", str(args.max_examples)]
    if args.max_steps != Settings().max_steps:
        parts += ["--max-steps", str(args.max_steps)]
    if args.concurrency != Settings().concurrency:
        parts += ["--concurrency", str(args.concurrency)]
    if args.cors_origin:
        parts += ["--cors-origin", args.cors_origin]
    if args.ready_timeout != 30.0:  # it bounds the polls, so it shapes the requests
        parts += ["--ready-timeout", f"{args.ready_timeout:g}"]
    if args.url is None and args.provision_seconds != 0.5:
        parts += ["--provision-seconds", f"{args.provision_seconds:g}"]
    if args.no_client_ids:
        parts.append("--no-client-ids")
    if args.profile != "canonical":
        parts += ["--profile", args.profile]
    for assignment in args.profile_var:
        parts += ["--profile-var", assignment]
    for name in args.redact_header:
        parts += ["--redact-header", name]
    for name in args.redact_field:
        parts += ["--redact-field", name]
    # The URL's credentials, if any, are read from the environment as the token is.
    url = [url_word(public_url(args.url), plain=shlex.quote)] if args.url else []
    command = " ".join(["session-conformance check", *url, shlex.join(parts)])
    if args.url and args.token:
        # The secret itself is never printed: the replay reads it from the environment.
        command += f' --token "${TOKEN_ENV}"'
    return command
