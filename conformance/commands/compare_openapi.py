"""``session-conformance compare-openapi URL --profile P``: the target's own OpenAPI
document against the profile, before any request of the contract is sent.

One GET fetches the document (``URL/openapi.json``, or ``--openapi PATH|URL``); nothing
else is sent. Exit 0: the document has every role where the profile says; 1: something
the profile names is not in the document (each line says what); 2: usage error (bad
flag, bad profile, an ``--openapi`` file that is missing or not an OpenAPI document);
3: the target's document could not be fetched or read.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from conformance.commands.arguments import (
    EXIT_UNDECIDED,
    UsageError,
    checked_url,
    fail,
    positive_float,
)
from conformance.commands.check import profile_of
from conformance.profile import builtin_names
from conformance.vendor_document import FILE, URL, DocumentError, DocumentSource, read_document
from conformance.vendor_spec import INCOMPATIBLE, compare


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "compare-openapi",
        help="compare a target's own OpenAPI document with a profile (no contract request)",
    )
    parser.add_argument("url", help="the target's base URL")
    parser.add_argument(
        "--profile",
        default="canonical",
        metavar="NAME|PATH",
        help=f"a built-in profile ({', '.join(builtin_names())}) or a profile file",
    )
    parser.add_argument(
        "--profile-var", action="append", default=[], metavar="NAME=VALUE", help="(repeatable)"
    )
    parser.add_argument(
        "--openapi",
        metavar="PATH|URL",
        help="the document to compare (default: URL/openapi.json)",
    )
    parser.add_argument(
        "--timeout", type=positive_float, default=10.0, help="seconds for the fetch (default 10)"
    )
    parser.set_defaults(handler=compare_command)


def compare_command(args: argparse.Namespace) -> int:
    url = checked_url(args.url).rstrip("/")
    profile = profile_of(args)
    source = args.openapi or f"{url}/openapi.json"
    where = (
        DocumentSource(URL, source)
        if source.startswith(("http://", "https://"))
        else DocumentSource(FILE, source)
    )
    document = _document(where, args.timeout)
    if document is None:
        return EXIT_UNDECIDED
    remarks = compare(profile, document)
    out = sys.stdout
    out.write(f"profile {profile.name!r} ({profile.origin}) against {source}\n")
    for remark in remarks:
        out.write(remark.line() + "\n")
    bad = [r for r in remarks if r.kind == INCOMPATIBLE]
    notes = len(remarks) - len(bad)
    verdict = "incompatible" if bad else "compatible"
    out.write(f"{verdict}: {len(bad)} incompatibility(ies), {notes} note(s) on the contract\n")
    return 1 if bad else 0


def _document(source: DocumentSource, timeout: float) -> dict[str, Any] | None:
    """The document, or None once the reason is said (exit 3); a bad ``--openapi`` file
    is bad input (exit 2)."""
    try:
        return read_document(source, timeout=timeout)
    except DocumentError as exc:
        if exc.given:
            raise UsageError(str(exc)) from exc
        fail(str(exc))
        return None
