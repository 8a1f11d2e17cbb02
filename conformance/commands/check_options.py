"""The flags of ``check``, in the groups ``check --help`` shows them: target, selection,
budget, bounds, reports, output.

A value given to ``--clause`` that is a URL (``check --clause LIFE-001 http://host``) is
the target, never a clause id: :func:`clause_ids_and_url` takes it back out.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from conformance.commands.arguments import (
    TOKEN_ENV,
    UsageError,
    non_negative,
    non_negative_float,
    positive,
    positive_float,
)
from conformance.commands.last_run import LAST
from conformance.commands.report import add_report_flags
from conformance.context import Settings
from conformance.plan import MAX_WORKERS
from conformance.profile import builtin_names
from conformance.redaction import public_url
from conformance.shard import Shard, ShardError, parse_shard
from conformance.smoke import SMOKE_MAX_EXAMPLES
from conformance.target import Limits


def add_check_flags(check: argparse.ArgumentParser) -> None:
    _target(check.add_argument_group("target", "what is checked and how to reach it"))
    _selection(check.add_argument_group("selection", "which clauses run, with which seed"))
    _budget(check.add_argument_group("budget", "how hard each clause tries"))
    _bounds(check.add_argument_group("bounds", "how long and how much one run may take"))
    reports = check.add_argument_group("reports", "files written, also when the run fails")
    reports.add_argument(
        "--report-json", type=Path, metavar="PATH", help="write the JSON report here"
    )
    add_report_flags(reports)
    reports.add_argument(
        "--record-exchanges",
        type=Path,
        metavar="PATH",
        help="write every exchange the run sent to PATH as JSON lines (method, URL, headers, "
        "base64 body, status; secrets redacted), e.g. to replay them",
    )
    _output(check.add_argument_group("output", "what the console prints, and the exit code"))


def _target(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "url", nargs="?", help="base URL of the target (default: the bundled reference, in-process)"
    )
    group.add_argument("--token", help=f"bearer token the target requires (or set {TOKEN_ENV})")
    group.add_argument("--cors-origin", help="the CORS origin the target allows")
    group.add_argument(
        "--profile",
        default="canonical",
        metavar="NAME|PATH",
        help="where the target keeps each role: a built-in profile "
        f"({', '.join(builtin_names())}) or a profile file (default canonical)",
    )
    group.add_argument(
        "--profile-var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a variable of the profile, e.g. --profile-var app=my_agent (repeatable)",
    )
    group.add_argument(
        "--no-client-ids",
        action="store_true",
        help="the target does not accept client-chosen session ids",
    )
    group.add_argument(
        "--provision-seconds",
        type=non_negative_float,
        default=0.5,
        metavar="S",
        help="provisioning time of the in-process reference (no URL) (default 0.5)",
    )
    group.add_argument(
        "--redact-header",
        action="append",
        default=[],
        metavar="NAME",
        help="mask this header's value in every output (repeatable)",
    )
    group.add_argument(
        "--redact-field",
        action="append",
        default=[],
        metavar="NAME",
        help="mask this JSON field's value in every body in every output (repeatable)",
    )


def _selection(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--clause",
        action="append",
        nargs="+",
        metavar="ID",
        help="only these clauses (a URL among them is the target)",
    )
    group.add_argument(
        "--smoke",
        action="store_true",
        help="pre-deploy smoke run: the quick non-destructive subset, then delete every "
        "session the run created (also after a failure or Ctrl-C)",
    )
    group.add_argument(
        "--shard",
        type=_shard,
        metavar="K/N",
        help="run only shard K of N (1 <= K <= N): a deterministic, balanced share of the "
        "selected clauses (the stateful ones together, the passive ones in every shard); "
        "join the shards' --report-json files with `report merge`",
    )
    group.add_argument(
        "--seed",
        type=_seed,
        help="seed (default: random, printed); 'last': the previous run's seed",
    )


def _budget(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--max-examples",
        type=positive,
        metavar="N",
        help=f"examples per property (default 25; {SMOKE_MAX_EXAMPLES} with --smoke); "
        "also the sequences of the stateful exploration (at least 10)",
    )
    group.add_argument(
        "--max-steps",
        type=positive,
        default=Settings().max_steps,
        metavar="N",
        help=f"steps per sequence of the stateful exploration (default {Settings().max_steps})",
    )
    group.add_argument(
        "--concurrency",
        type=positive,
        default=Settings().concurrency,
        metavar="N",
        help="requests sent at once by the concurrency clauses and ID-005 "
        f"(default {Settings().concurrency})",
    )
    group.add_argument(
        "--ready-timeout",
        type=positive_float,
        default=30.0,
        metavar="S",
        help="seconds a session may take to become Ready (default 30)",
    )
    group.add_argument(
        "--workers",
        type=_workers,
        metavar="N",
        help=f"clauses checked at once, each in its own lane (1..{MAX_WORKERS}; default: "
        "chosen for the target, more the slower it answers); verdicts do not depend on it",
    )
    group.add_argument(
        "--stateful-budget",
        type=positive_float,
        metavar="S",
        help="seconds the stateful exploration may take besides its count of sequences "
        "(default: no bound); the report says how much it explored",
    )


def _workers(text: str) -> int:
    value = positive(text)
    if value > MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"at most {MAX_WORKERS}, not {value}")
    return value


def _bounds(group: argparse._ArgumentGroup) -> None:
    limits = Limits()
    group.add_argument(
        "--timeout",
        type=positive_float,
        default=30.0,
        metavar="S",
        help="read timeout per request, seconds (default 30)",
    )
    group.add_argument(
        "--connect-timeout",
        type=positive_float,
        default=5.0,
        metavar="S",
        help="connect timeout, seconds (default 5)",
    )
    group.add_argument(
        "--request-deadline",
        type=positive_float,
        default=limits.request_deadline,
        metavar="S",
        help="seconds for one whole exchange, connect to last byte (default 60); "
        "--timeout alone never ends a target that trickles one byte a second",
    )
    group.add_argument(
        "--deadline",
        type=positive_float,
        metavar="S",
        help="seconds for the whole run: past it no clause starts, the one under way is "
        "cut short, and those left are error (default: none)",
    )
    group.add_argument(
        "--max-response-bytes",
        type=positive,
        default=limits.max_response_bytes,
        metavar="N",
        help="bytes read of one response or stream, on the wire and once decoded "
        "(gzip, deflate, br, zstd); a longer answer is an error (default 4194304, 4 MiB)",
    )
    group.add_argument(
        "--max-response-headers",
        type=positive,
        default=limits.max_response_headers,
        metavar="N",
        help=f"headers of one response; more is an error (default {limits.max_response_headers})",
    )
    group.add_argument(
        "--max-header-bytes",
        type=positive,
        default=limits.max_header_bytes,
        metavar="N",
        help="bytes of one response's header names and values; more is an error "
        f"(default {limits.max_header_bytes}, 64 KiB)",
    )


def _output(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--strict", action="store_true", help="a failed SHOULD clause also fails the run"
    )
    group.add_argument(
        "-q", "--quiet", action="store_true", help="print only failures, errors and the totals"
    )
    group.add_argument("-v", "--verbose", action="store_true", help="print every clause's summary")


def clause_ids_and_url(args: argparse.Namespace) -> tuple[list[str], str | None]:
    """The clause ids asked for, and the target's URL: a URL that ``--clause`` swallowed
    (``--clause LIFE-001 http://host``) is the target, not a clause id."""
    ids: list[str] = []
    url: str | None = args.url
    for value in (value for group in args.clause or [] for value in group):
        if "://" not in value:
            ids.append(value)
        elif url is None:
            url = value
        else:
            shown = public_url(value)
            raise UsageError(
                f"--clause {shown!r} is a URL, not a clause id, and the target is given"
            )
    return ids, url


def _seed(text: str) -> int | str:
    return LAST if text.strip().lower() == LAST else non_negative(text)


def _shard(text: str) -> Shard:
    try:
        return parse_shard(text)
    except ShardError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
