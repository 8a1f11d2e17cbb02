"""The command line: ``session-conformance check | serve | clauses``.

A thin shell over the runner and the reference. Exit codes (documented in the README):

- 0: every applicable clause passed (``not_applicable`` clauses do not count);
- 1: a clause failed (a MUST clause; with ``--strict`` any clause);
- 2: usage error (bad flag, bad URL, unknown clause id);
- 3: the harness could not decide (target unreachable, a clause ``error``, an invalid
  contract file) and nothing failed;
- 130: interrupted (Ctrl-C); the report holds the clauses decided so far.

Bad input ends in one readable line on stderr, never a traceback; when ``check`` was
asked for a JSON report, the report is written in every case.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from conformance import __version__
from conformance.context import Settings
from conformance.contract import ContractFileError
from conformance.records import RunReport
from conformance.registry import registry
from conformance.reporting.clause_doc import clauses_markdown
from conformance.reporting.console import ConsoleReporter
from conformance.reporting.json_report import write_json_report
from conformance.runner import INTERRUPTED, RunFinished, UnknownClause, exit_code, run, select
from conformance.target import Limits, Target

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNDECIDED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
TOKEN_ENV = "SESSION_CONFORMANCE_TOKEN"
#: What the bundled reference declares when ``check`` runs it in-process.
REFERENCE_CORS_ORIGIN = "https://app.example"


class UsageError(Exception):
    """A bad command line: exit 2 with one message."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="session-conformance",
        description="Check a session API backend against Session Contract v1.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    check = commands.add_parser("check", help="check a target against every clause")
    check.add_argument(
        "url", nargs="?", help="base URL of the target (default: the bundled reference, in-process)"
    )
    check.add_argument("--token", help=f"bearer token the target requires (or set {TOKEN_ENV})")
    check.add_argument("--cors-origin", help="the CORS origin the target allows")
    check.add_argument("--seed", type=_non_negative, help="seed (default: random, printed)")
    check.add_argument(
        "--max-examples", type=_positive, default=25, help="examples per property (default 25)"
    )
    check.add_argument(
        "--clause", action="append", nargs="+", metavar="ID", help="only these clauses"
    )
    check.add_argument(
        "--report-json", type=Path, metavar="PATH", help="write the JSON report here"
    )
    check.add_argument(
        "--ready-timeout",
        type=_positive_float,
        default=30.0,
        help="seconds a session may take to become Ready (default 30)",
    )
    check.add_argument(
        "--timeout",
        type=_positive_float,
        default=30.0,
        help="read timeout per request, seconds (default 30)",
    )
    check.add_argument(
        "--connect-timeout",
        type=_positive_float,
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
        type=_non_negative_float,
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

    serve = commands.add_parser("serve", help="serve the reference implementation with uvicorn")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    serve.add_argument("--provision-seconds", type=_non_negative_float, default=0.5)
    serve.add_argument("--token", help=f"require this bearer token (or set {TOKEN_ENV})")
    serve.add_argument("--cors-origin", help="allow this CORS origin")

    clauses = commands.add_parser("clauses", help="list the clauses, or explain some")
    clauses.add_argument("ids", nargs="*", metavar="ID")
    clauses.add_argument("--markdown", action="store_true", help="print docs/clauses.md")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "check":
            return _check(args)
        if args.command == "serve":
            return _serve(args)
        return _clauses(args)
    except UsageError as exc:
        _fail(f"usage error: {exc} (see session-conformance --help)")
        return EXIT_USAGE
    except ContractFileError as exc:
        _fail(f"invalid contract file: {exc}")
        return EXIT_UNDECIDED
    except KeyboardInterrupt:
        _fail("interrupted")
        return EXIT_INTERRUPTED


def _check(args: argparse.Namespace) -> int:
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
        target = Target(_checked_url(args.url), token=token, limits=limits)
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
            _fail(f"cannot write the JSON report to {args.report_json}: {exc.strerror or exc}")
            return EXIT_UNDECIDED
    for note in report.notes:
        _fail(note)
    if any(note.startswith(INTERRUPTED) for note in report.notes):
        return EXIT_INTERRUPTED
    return exit_code(report, strict=args.strict)


def _serve(args: argparse.Namespace) -> int:
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


def _clauses(args: argparse.Namespace) -> int:
    reg = registry()
    if args.markdown:
        sys.stdout.write(clauses_markdown(reg))
        return EXIT_OK
    wanted = {cid.upper() for cid in args.ids}
    unknown = wanted - set(reg.ids())
    if unknown:
        raise UsageError(f"unknown clause id(s): {', '.join(sorted(unknown))}")
    for clause in reg.clauses:
        if wanted and clause.id not in wanted:
            continue
        if wanted:
            print(f"{clause.id} [{clause.level}] ({clause.family})")  # noqa: T201
            print(f"  {clause.statement}")  # noqa: T201
            print(f"  roles: {', '.join(clause.roles) or '-'}")  # noqa: T201
            if clause.features:
                print(f"  needs: {', '.join(clause.features)}")  # noqa: T201
        else:
            print(f"{clause.id:<11}{clause.level:<7}{clause.family:<11} {clause.statement}")  # noqa: T201
    return EXIT_OK


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


def _checked_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{url!r} is not an http(s) URL, e.g. http://127.0.0.1:8000")
    try:
        _ = parts.port
    except ValueError as exc:
        raise UsageError(f"{url!r} has an invalid port") from exc
    return url


def _fail(message: str) -> None:
    print(f"session-conformance: {message}", file=sys.stderr)  # noqa: T201


def _positive(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _non_negative(text: str) -> int:
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _port(text: str) -> int:
    value = _integer(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number 0..65535, not {value}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _positive_float(text: str) -> float:
    value = _non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, not {text}")
    return value


if __name__ == "__main__":
    sys.exit(main())
