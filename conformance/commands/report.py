"""``session-conformance report REPORT.json --format html|markdown|junit|badge [-o PATH]``
and ``session-conformance report merge SHARD.json ... [-o PATH] [--strict]``.

Renders a saved JSON report again, in any format ``check`` can write in the same run
(``--report-html`` etc., added to ``check`` by :func:`add_report_flags`). Exit codes:
0 rendered; 2 the file is missing, not JSON or not a valid report (one line on stderr,
naming where it breaks ``specs/report.schema.json``), or a bad flag; 3 the output could
not be written. ``report merge`` joins the reports of ``check --shard`` jobs
(:mod:`conformance.commands.report_merge`, with its own exit codes).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from conformance.commands.arguments import EXIT_OK, EXIT_UNDECIDED, EXIT_USAGE, UsageError, fail
from conformance.commands.report_merge import merge_command
from conformance.records import RunReport
from conformance.reporting.formats import FORMATS, render, write_text
from conformance.reporting.saved import ReportFileError, read_report, saved

HELP = {
    "html": "a self-contained HTML report (filters, exchanges, curl)",
    "markdown": "a Markdown summary (CI step summary, PR comment)",
    "junit": "JUnit XML, one test case per clause",
    "badge": "an SVG conformance badge",
}
#: The word after ``report`` that joins shard reports instead of rendering one.
MERGE = "merge"


def register(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="render a saved JSON report as HTML, Markdown, JUnit XML or a badge; "
        "merge shard reports",
        description="Render a JSON report written by `check --report-json` in another "
        "format; or (`report merge`) join the JSON reports of `check --shard K/N` jobs "
        "into one JSON report, exiting as `check` would on the whole run.",
        usage="%(prog)s REPORT.json --format FORMAT [-o PATH]\n"
        "       %(prog)s merge SHARD.json [SHARD.json ...] [-o PATH] [--strict]",
    )
    report.add_argument(
        "report",
        nargs="+",
        metavar="REPORT.json | merge SHARD.json",
        help="a saved JSON report; or `merge` and the shard reports to join",
    )
    report.add_argument("--format", choices=list(FORMATS), help="the format to render")
    report.add_argument(
        "-o", "--output", type=Path, metavar="PATH", help="write here (default: standard output)"
    )
    report.add_argument(
        "--strict",
        action="store_true",
        help="merge: a failed SHOULD clause fails too (exit 1), as with check --strict",
    )
    report.set_defaults(handler=report_command)


def report_command(args: argparse.Namespace) -> int:
    words: list[str] = args.report
    if words[0] == MERGE:
        if args.format is not None:
            raise UsageError(
                "report merge writes JSON; render the result with `report ALL.json --format FORMAT`"
            )
        if len(words) == 1:
            raise UsageError("report merge: give the shard reports to merge")
        return merge_command([Path(w) for w in words[1:]], args.output, strict=args.strict)
    if len(words) > 1:
        raise UsageError(
            f"report renders one report, not {len(words)} (to join shard reports: "
            "`report merge SHARD.json ...`)"
        )
    if args.format is None:
        raise UsageError("report: the following arguments are required: --format")
    if args.strict:
        raise UsageError("report: --strict goes with report merge only")
    try:
        document = read_report(Path(words[0]))
    except ReportFileError as exc:
        fail(f"invalid report: {exc}")
        return EXIT_USAGE
    text = render(document, args.format)
    if args.output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return EXIT_OK
    try:
        write_text(args.output, text)
    except OSError as exc:
        fail(f"cannot write the {args.format} report to {args.output}: {exc.strerror or exc}")
        return EXIT_UNDECIDED
    return EXIT_OK


def add_report_flags(parser: argparse._ActionsContainer) -> None:
    """``--report-html PATH`` and its siblings, for ``check``."""
    for name in FORMATS:
        parser.add_argument(
            f"--report-{name}",
            type=Path,
            metavar="PATH",
            help=f"write {HELP[name]} to PATH, also when the run fails or cannot decide",
        )


def write_reports(report: RunReport, args: argparse.Namespace) -> bool:
    """Write every format asked for with ``--report-<format>``; False if one failed.

    Each is attempted even when another could not be written."""
    paths: dict[str, Path | None] = {n: getattr(args, f"report_{n}", None) for n in FORMATS}
    wanted = [(name, path) for name, path in paths.items() if path is not None]
    if not wanted:
        return True
    try:
        document = saved(report)
    except ReportFileError as exc:  # a bug of ours: say so, do not hide it
        fail(f"cannot render the reports: {exc}")
        return False
    written = True
    for name, path in wanted:
        try:
            write_text(path, render(document, name))
        except OSError as exc:
            fail(f"cannot write the {name} report to {path}: {exc.strerror or exc}")
            written = False
    return written
