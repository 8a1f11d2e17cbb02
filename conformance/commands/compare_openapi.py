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
import json
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml

from conformance.commands.arguments import (
    EXIT_UNDECIDED,
    UsageError,
    checked_url,
    fail,
    positive_float,
)
from conformance.commands.check import profile_of
from conformance.profile import builtin_names
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
    document = _document(source, args.timeout)
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


def _document(source: str, timeout: float) -> dict[str, Any] | None:
    try:
        if source.startswith(("http://", "https://")):
            response = httpx.get(source, timeout=timeout, follow_redirects=False)
            if response.status_code != 200:
                fail(f"{source} answered {response.status_code}, not an OpenAPI document")
                return None
            text = response.text
        else:
            text = Path(source).read_text(encoding="utf-8")
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (httpx.HTTPError, OSError) as exc:
        _unusable(source, f"cannot fetch {source}: {exc}")
        return None
    except (ValueError, yaml.YAMLError) as exc:
        why = " ".join(str(exc).split())[:200]
        _unusable(source, f"{source} is not JSON or YAML: {why}")
        return None
    if not isinstance(data, dict) or "paths" not in data:
        _unusable(source, f"{source} is not an OpenAPI document (no paths)")
        return None
    return data


def _unusable(source: str, message: str) -> None:
    """A file given with ``--openapi`` is bad input (exit 2); a fetched document is the
    target's (exit 3)."""
    if not source.startswith(("http://", "https://")):
        raise UsageError(message)
    fail(message)
