"""Request bodies: media type, size and strict JSON.

Bodies are read up to a cap (one byte past the limit is enough to refuse them) and
decoded as strict UTF-8 JSON: no BOM, no ``NaN``/``Infinity``, no numbers a float cannot
hold, no trailing garbage. Decoding failures raise :class:`MalformedJSON` with a reason
that quotes nothing from the body.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator

from starlette.datastructures import Headers

JSON_MEDIA_TYPE = "application/json"


class MalformedJSON(ValueError):
    """The body is not JSON; ``reason`` is a short phrase fit for an error message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_json_media_type(content_type: str | None) -> bool:
    """``application/json``, any case, parameters ignored; ``application/*+json`` is not."""
    if content_type is None:
        return False
    return content_type.split(";", 1)[0].strip().lower() == JSON_MEDIA_TYPE


def declared_length(headers: Headers) -> int | None:
    """The ``Content-Length`` header as a number, or None if absent or unreadable."""
    value = headers.get("content-length")
    if value is None or not (value.strip().isascii() and value.strip().isdigit()):
        return None
    return int(value.strip())


async def read_capped(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """The body, or its first bytes once it has grown past ``limit`` (then stop reading)."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            break
    return bytes(body)


def _no_constant(name: str) -> object:
    raise MalformedJSON(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise MalformedJSON("a number is too large to represent")
    return value


def decode_json(raw: bytes) -> object:
    """Parse ``raw`` as strict UTF-8 JSON or raise :class:`MalformedJSON`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedJSON("the body is not valid UTF-8") from None
    if not text.strip():
        raise MalformedJSON("the body is empty")
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except MalformedJSON:
        raise
    except json.JSONDecodeError as exc:
        raise MalformedJSON(f"{exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise MalformedJSON("the body nests too deeply") from None
    except ValueError:
        raise MalformedJSON("a number is too large to represent") from None
