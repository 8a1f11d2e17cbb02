"""``session-conformance clauses [ID ...]``: list or explain clauses."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from conformance.commands.arguments import EXIT_OK, UsageError
from conformance.registry import registry
from conformance.reporting.clause_doc import clauses_markdown


def register(commands: Any) -> None:
    clauses = commands.add_parser("clauses", help="list the clauses, or explain some")
    clauses.add_argument(
        "ids", nargs="*", metavar="ID", help="explain these clauses (default: list all)"
    )
    clauses.add_argument("--markdown", action="store_true", help="print docs/clauses.md")
    clauses.add_argument(
        "--smoke", action="store_true", help="only the pre-deploy smoke subset (check --smoke)"
    )
    clauses.set_defaults(handler=clauses_command)


def clauses_command(args: argparse.Namespace) -> int:
    reg = registry()
    if args.markdown:
        sys.stdout.write(clauses_markdown(reg))
        return EXIT_OK
    wanted = {cid.upper() for cid in args.ids}
    unknown = wanted - set(reg.ids())
    if unknown:
        raise UsageError(f"unknown clause id(s): {', '.join(sorted(unknown))}")
    for clause in reg.clauses:
        if (wanted and clause.id not in wanted) or (args.smoke and not clause.smoke):
            continue
        if wanted:
            print(f"{clause.id} [{clause.level}] ({clause.family})")  # noqa: T201
            print(f"  {clause.statement}")  # noqa: T201
            print(f"  roles: {', '.join(clause.roles) or '-'}")  # noqa: T201
            if clause.features:
                print(f"  needs: {', '.join(clause.features)}")  # noqa: T201
            print(f"  smoke: {'yes' if clause.smoke else 'no'} (check --smoke)")  # noqa: T201
        else:
            print(f"{clause.id:<11}{clause.level:<7}{clause.family:<11} {clause.statement}")  # noqa: T201
    return EXIT_OK
