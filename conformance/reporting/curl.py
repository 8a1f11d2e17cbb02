"""Render an exchange's request as a curl command a person can paste into a shell.

Every value is single-quoted for POSIX shells. A redacted bearer token becomes a
reference to the ``SESSION_CONFORMANCE_TOKEN`` environment variable, and a near miss of
it an expression computing it from that variable (``${SESSION_CONFORMANCE_TOKEN%?}``, the
token without its last character), so the command still reproduces without showing the
secret. A target URL's credentials are read from ``SESSION_CONFORMANCE_USERINFO`` in the
URL itself (``"http://${SESSION_CONFORMANCE_USERINFO}@host/..."``), from which curl
makes the ``Authorization: Basic`` header the harness sent. A target checked in-process
(``check`` without a URL, the pytest plugin's ``--session-contract-app``) has no URL a
shell can reach: its lines read the origin from ``${BASE}`` (``"${BASE}/run"``), the
URL where the user serves the app (:data:`SERVE_IT` says how). Bodies that are not UTF-8 are written with
``--data-binary`` from a ``printf`` of escapes; bodies over the preview size say so.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from conformance.records import BODY_PREVIEW_BYTES, RequestRecord
from conformance.redaction import BASIC_MARK, MARK, USERINFO_MARK, USERINFO_VARIABLE, Form
from conformance.target import IN_PROCESS_BASE

TOKEN_VARIABLE = "SESSION_CONFORMANCE_TOKEN"
_TOKEN = "${" + TOKEN_VARIABLE + "}"
#: The shell expression that gives again what a mark hides, where the harness sends it.
TOKEN_EXPANSIONS = {
    MARK: _TOKEN,
    Form.SWAPCASE.mark: f'$(printf %s "{_TOKEN}" | tr a-zA-Z A-Za-z)',
    Form.TRUNCATED.mark: "${" + TOKEN_VARIABLE + "%?}",
}
URL_EXPANSIONS = {USERINFO_MARK: USERINFO_MARK, IN_PROCESS_BASE: "${BASE}"}
#: How to make an in-process run's curl lines reach the app; ``{serve}`` is the command
#: that serves it.
SERVE_IT = (
    "the curl lines and scripts read the in-process target's URL from ${{BASE}}: serve it "
    "({serve}) and export BASE=http://127.0.0.1:8000 first"
)
#: What a literal part of a double-quoted shell word must not hold.
_UNSAFE_IN_DOUBLE_QUOTES = re.compile(r'[\\"$`!]')
_SKIPPED_HEADERS = frozenset(
    {"host", "content-length", "accept-encoding", "connection", "user-agent", "accept"}
)


def quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def shell_word(
    text: str, expansions: dict[str, str], *, plain: Callable[[str], str] = quote
) -> str:
    """``text`` as one shell word in which each mark of ``expansions`` is replaced by
    its expression; quoted by ``plain`` when it holds none."""
    pattern = "|".join(re.escape(mark) for mark in sorted(expansions, key=len, reverse=True))
    pieces = re.split(f"({pattern})", text)
    if len(pieces) == 1:
        return plain(text)
    literals = pieces[::2]
    if not any(_UNSAFE_IN_DOUBLE_QUOTES.search(literal) for literal in literals):
        inner = (expansions[p] if index % 2 else p for index, p in enumerate(pieces))
        return '"' + "".join(inner) + '"'
    words = (f'"{expansions[p]}"' if index % 2 else quote(p) for index, p in enumerate(pieces) if p)
    return "".join(words)


def url_word(url: str, *, plain: Callable[[str], str] = quote) -> str:
    """A URL as a shell word: its credentials, if any, from ``$SESSION_CONFORMANCE_USERINFO``."""
    return shell_word(url, URL_EXPANSIONS, plain=plain)


def curl(request: RequestRecord) -> str:
    parts = ["curl", "-sS", "-i", "-X", request.method, url_word(request.url)]
    parts += header_args(request.headers)
    if request.body:
        parts += body_args(request.body)
    return " ".join(parts)


def header_args(headers: tuple[tuple[str, str], ...]) -> list[str]:
    """``-H`` arguments for the headers a person would send (a redacted token as
    ``${SESSION_CONFORMANCE_TOKEN}``; transport headers curl sets itself left out, and
    the Basic credentials curl makes of the URL's userinfo)."""
    parts: list[str] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered in _SKIPPED_HEADERS or (lowered == "authorization" and BASIC_MARK in value):
            continue
        if lowered == "authorization":
            parts += ["-H", shell_word(f"{name}: {value}", TOKEN_EXPANSIONS)]
        else:
            parts += ["-H", quote(f"{name}: {value}")]
    return parts


def needs(command: str) -> list[str]:
    """The variables a shell line reads, as ``export`` lines to fill in first."""
    wanted = {
        TOKEN_VARIABLE: "<the bearer token>",
        USERINFO_VARIABLE: "<user:password, as in the target URL>",
    }
    return [
        f"export {name}='{what}'"
        for name, what in wanted.items()
        if "${" + name + "}" in command or "${" + name + "%" in command
    ]


def body_args(body: bytes) -> list[str]:
    """``--data-binary`` and the body, quoted for a POSIX shell."""
    if len(body) > BODY_PREVIEW_BYTES:
        return ["--data-binary", _large(body)]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        escaped = "".join(f"\\x{byte:02x}" for byte in body)
        return ["--data-binary", f"\"$(printf '{escaped}')\""]
    return ["--data-binary", quote(text)]


def _large(body: bytes) -> str:
    """A large body as a short shell expression that prints it again byte for byte:
    the harness's large bodies are a short head, one repeated byte, and a short tail."""
    middle = max(range(256), key=lambda byte: body.count(bytes([byte])))
    run = bytes([middle])
    start = body.find(run * 64)
    if start >= 0:
        end = start
        while end < len(body) and body[end] == middle:
            end += 1
        head, tail = body[:start], body[end:]
        if len(head) + len(tail) <= BODY_PREVIEW_BYTES:
            program = (
                "import sys; sys.stdout.buffer.write(bytes.fromhex("
                f"'{head.hex()}') + bytes([{middle}]) * {end - start} + bytes.fromhex('{tail.hex()}'))"
            )
            return f"@<(python3 -c {quote(program)})"
    return quote(f"<{len(body)} bytes, not shown>")
