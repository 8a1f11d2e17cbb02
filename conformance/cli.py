"""The command line: ``session-conformance check | serve | clauses | ...``.

A thin shell over the runner and the reference; each subcommand lives in
:mod:`conformance.commands`. Exit codes, the same for every subcommand (one table in the
README):

- 0: every applicable clause passed (``not_applicable`` clauses do not count);
- 1: a clause failed (a MUST clause; with ``--strict`` any clause);
- 2: usage error (bad flag, bad URL, unknown clause id, bad profile, or an input file —
  a report, a trace, an ``--openapi`` document — missing or invalid);
- 3: the harness could not decide or act (target unreachable, a clause ``error``, an
  invalid contract file, an output that could not be written, a port in use) and
  nothing failed;
- 130: interrupted (Ctrl-C or SIGTERM, whenever it lands: during the imports, the
  argument parsing, the run or the writing of the reports); the report holds the clauses
  decided so far.

Bad input ends in one readable line on stderr, never a traceback; when ``check`` was
asked for a JSON report, the report is written in every case.

The module imports nothing heavy at its top: :func:`main` installs the signal handlers
(:mod:`conformance.interruption`) first, then imports the commands, so that a signal
during the imports is not lost either.
"""

from __future__ import annotations

import sys

from conformance import interruption

TYPE_CHECKING = False  # not even typing is imported before the handlers are in place

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from types import ModuleType


def commands() -> tuple[ModuleType, ...]:
    """The subcommands, in the order ``--help`` lists them."""
    from conformance.commands import (
        check,
        clauses,
        compare_openapi,
        mock,
        proxy,
        report,
        serve,
        verify_client,
        verify_trace,
    )

    return (
        check,
        serve,
        clauses,
        report,
        mock,
        verify_client,
        proxy,
        verify_trace,
        compare_openapi,
    )


def build_parser() -> argparse.ArgumentParser:
    from conformance import __version__
    from conformance.commands.arguments import Parser

    parser = Parser(
        prog="session-conformance",
        description="Check a session API backend against Session Contract v1.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in commands():
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    with interruption.installed():  # first of all: from here on no signal is lost
        from conformance.commands.arguments import (
            EXIT_INTERRUPTED,
            EXIT_UNDECIDED,
            EXIT_USAGE,
            UsageError,
            fail,
        )
        from conformance.contract import ContractFileError

        try:
            args = build_parser().parse_args(argv)
            if getattr(args, "meets_interrupts", False):
                return int(args.handler(args))  # it acts when its run starts (check)
            with interruption.acting():
                interruption.checkpoint()  # a signal during the imports or the parsing
                return int(args.handler(args))
        except UsageError as exc:
            fail(f"usage error: {exc} (see session-conformance --help)")
            return EXIT_USAGE
        except ContractFileError as exc:
            fail(f"invalid contract file: {exc}")
            return EXIT_UNDECIDED
        except KeyboardInterrupt:
            fail("interrupted")
            return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
