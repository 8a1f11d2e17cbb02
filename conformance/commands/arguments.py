"""Argument types and the errors every command shares: bad input is one readable line."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn
from urllib.parse import urlsplit

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNDECIDED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
TOKEN_ENV = "SESSION_CONFORMANCE_TOKEN"


class UsageError(Exception):
    """A bad command line: exit 2 with one message."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def fail(message: str) -> None:
    """One line on stderr, prefixed with the program's name."""
    print(f"session-conformance: {message}", file=sys.stderr)  # noqa: T201


def checked_url(url: str) -> str:
    from conformance.redaction import public_url  # the message never shows a password

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{public_url(url)!r} is not an http(s) URL, e.g. http://127.0.0.1:8000")
    try:
        _ = parts.port
    except ValueError as exc:
        raise UsageError(f"{public_url(url)!r} has an invalid port") from exc
    return url


def positive(text: str) -> int:
    value = integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def non_negative(text: str) -> int:
    value = integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def port(text: str) -> int:
    value = integer(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number 0..65535, not {value}")
    return value


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def positive_float(text: str) -> float:
    value = non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, not {text}")
    return value


def profile_variables(assignments: list[str]) -> dict[str, str]:
    """``--profile-var NAME=VALUE`` values as a mapping, or a usage error."""
    variables: dict[str, str] = {}
    for assignment in assignments:
        name, equals, value = assignment.partition("=")
        if not equals or not name:
            raise UsageError(f"--profile-var {assignment!r}: write NAME=VALUE, e.g. app=my_agent")
        variables[name] = value
    return variables
