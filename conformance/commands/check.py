"""``session-conformance check [URL]``: check a target against the clauses."""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import shlex
import sys
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
    profile_variables,
)
from conformance.commands.check_options import add_check_flags, clause_ids_and_url
from conformance.commands.last_run import LAST, last_seed, remember
from conformance.commands.report import write_reports
from conformance.context import Settings
from conformance.contract import OPENAPI_FILE, specs_dir
from conformance.exchange_log import ExchangeLog
from conformance.plan import RunPlan
from conformance.profile import Profile, ProfileError, load_profile
from conformance.progress import console_reporter
from conformance.records import RunReport, Verdict
from conformance.redaction import public_url, redactor_for, userinfo_of
from conformance.reporting.curl import SERVE_IT, url_word
from conformance.reporting.json_report import write_json_report
from conformance.runner import (
    Event,
    RunFinished,
    UnknownClause,
    execute,
    exit_code,
    select,
)
from conformance.shard import Shard, ShardPlan
from conformance.shard import plan as plan_shard
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
    check = commands.add_parser(
        "check",
        help="check a target against every clause",
        description="Check a target (a base URL, or the bundled reference in-process) "
        "against every clause of the contract.",
    )
    add_check_flags(check)
    # The run meets a signal that arrived before it (the imports, the parsing) and still
    # reports: the CLI lets it act only when the run starts.
    check.set_defaults(handler=check_command, meets_interrupts=True)


def check_command(args: argparse.Namespace) -> int:
    token = args.token or os.environ.get(TOKEN_ENV) or None
    clause_ids, args.url = clause_ids_and_url(args)
    try:
        select(clause_ids)
        if args.smoke:
            clause_ids = smoke_clause_ids(clause_ids)
        sharded = _shard_plan(args.shard, clause_ids)
        if sharded is not None:
            clause_ids = list(sharded.clauses)
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
        # The bundled reference implements the contract's document, so that document is
        # its own too: the clauses on a target's own schema (TSCHEMA) apply to it.
        profile = dataclasses.replace(profile, openapi=f"file:{specs_dir() / OPENAPI_FILE}")
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
        stateful_budget=args.stateful_budget,
    )
    plan = RunPlan(
        target,
        settings,
        select(clause_ids),
        profile,
        deadline=args.deadline,
        workers=args.workers,
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
                if sharded is not None:
                    report = sharded.stamp(report)
                if args.url is None and _reproducible(report):
                    report = dataclasses.replace(report, notes=(*report.notes, _serve_it(args)))
                if sweeper is not None:  # before the summary, so the summary tells of it
                    notes = (*report.notes, sweeper.sweep().note())
                    report = dataclasses.replace(report, notes=notes)
                event = RunFinished(report)
                interruption.hold()  # the run is over: a signal now cannot cost the report
            reporter.handle(event)

        events = execute(plan)
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
    if interruption.interrupted() or report.interrupted:
        return EXIT_INTERRUPTED
    code = exit_code(report, strict=args.strict)
    if code == 0 and not (
        written and (sweeper is None or sweeper.done is None or sweeper.done.clean)
    ):
        return EXIT_UNDECIDED  # a report not written, or a smoke run that left sessions
    return code


def _shard_plan(shard: Shard | None, clause_ids: list[str]) -> ShardPlan | None:
    """What ``--shard K/N`` runs of the selection (None: no ``--shard``)."""
    if shard is None:
        return None
    every = [clause.id for clause in select(None)]
    return plan_shard([clause.id for clause in select(clause_ids)], shard, every=every)


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


def _reproducible(report: RunReport) -> bool:
    """Whether the report shows curl lines to run (a clause failed or is undecided)."""
    return any(r.verdict in (Verdict.FAILED, Verdict.ERROR) for r in report.results)


def _serve_it(args: argparse.Namespace) -> str:
    """How to serve the in-process reference so that the curl lines reach it."""
    parts = ["session-conformance serve --port 8000", "--cors-origin", REFERENCE_CORS_ORIGIN]
    if args.cors_origin:
        parts[-1] = shlex.quote(args.cors_origin)
    if args.provision_seconds != 0.5:
        parts += ["--provision-seconds", f"{args.provision_seconds:g}"]
    return SERVE_IT.format(serve=f"export {TOKEN_ENV}=any-token; {' '.join(parts)} &")


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
    if args.stateful_budget is not None:  # it bounds what the exploration sends
        parts += ["--stateful-budget", f"{args.stateful_budget:g}"]
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
