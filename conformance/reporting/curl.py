"""Render an exchange's request as a curl command a person can paste into a shell.

Every value is single-quoted for POSIX shells. A redacted bearer token becomes a
reference to the ``SESSION_CONFORMANCE_TOKEN`` environment variable, so the command
still reproduces without showing the secret. Bodies that are not UTF-8 are written with
``--data-binary`` from a ``printf`` of escapes; bodies over the preview size say so.
"""

from __future__ import annotations

from conformance.records import BODY_PREVIEW_BYTES, RequestRecord
from conformance.redaction import MARK

TOKEN_VARIABLE = "SESSION_CONFORMANCE_TOKEN"
_SKIPPED_HEADERS = frozenset(
    {"host", "content-length", "accept-encoding", "connection", "user-agent", "accept"}
)


def quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def curl(request: RequestRecord) -> str:
    parts = ["curl", "-sS", "-i", "-X", request.method, quote(request.url)]
    parts += header_args(request.headers)
    if request.body:
        parts += body_args(request.body)
    return " ".join(parts)


def header_args(headers: tuple[tuple[str, str], ...]) -> list[str]:
    """``-H`` arguments for the headers a person would send (a redacted token as
    ``${SESSION_CONFORMANCE_TOKEN}``; transport headers curl sets itself left out)."""
    parts: list[str] = []
    for name, value in headers:
        if name.lower() in _SKIPPED_HEADERS:
            continue
        if MARK in value and name.lower() == "authorization":
            scheme = value.split(" ", 1)[0]
            parts += ["-H", f'"{name}: {scheme} ${{{TOKEN_VARIABLE}}}"']
        else:
            parts += ["-H", quote(f"{name}: {value}")]
    return parts


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
