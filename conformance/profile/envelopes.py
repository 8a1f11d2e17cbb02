"""Error envelopes: reading a target's error answer in the contract's terms.

The contract's envelope is ``{ok: false, error: CODE, message, details?}``. A profile may
name another :class:`~conformance.profile.model.Envelope`: RFC 9457 ``application/problem+json``
(``title``/``detail``, a ``code`` member or a code by status, field errors in an
``errors`` member) or FastAPI's ``{"detail": "..."}`` (a list of ``{loc, msg}`` for a
422). :func:`read_error` turns an answer into the canonical envelope (the *view* the
checks read) and lists what is wrong with it *as that envelope*: the media type, the
shape, a missing message. Field error paths come back as JSON pointers in the
profile's terms (FastAPI's ``loc`` lists included); the caller maps them to the
contract's fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.pointers import MISSING, get, render, tokens
from conformance.profile.model import Envelope, mapped
from conformance.records import JSONValue, ResponseRecord

#: FastAPI's first ``loc`` item for a parameter, and the contract's pointer prefix for it.
PARAMETER_LOCATIONS = ("path", "query", "header", "cookie")


@dataclass(frozen=True, slots=True)
class ReadError:
    """An error answer as the contract's envelope, and what is wrong with it."""

    #: ``{ok: false, error, message, details?}`` (``error`` None: no code could be read).
    body: dict[str, JSONValue] | None
    problems: tuple[str, ...]
    #: ``(pointer in the profile's terms, message)`` for each field error.
    field_errors: tuple[tuple[str, str], ...] = ()


def read_error(envelope: Envelope, response: ResponseRecord) -> ReadError:
    """Read ``response`` (status >= 400) through ``envelope``."""
    problems: list[str] = []
    if response.media_type != envelope.media_type:
        shown = response.header("content-type") or "missing"
        problems.append(f"Content-Type is {shown!r}, not {envelope.media_type}")
    body = response.json_or_none()
    if not isinstance(body, dict):
        problems.append(f"the body is not a JSON object (the {envelope.kind} envelope)")
        return ReadError(None, tuple(problems))
    if envelope.kind == "fastapi":
        message, errors = _fastapi(body, problems)
    else:
        message, errors = _fields(envelope, body, problems)
    if envelope.kind == "contract" and body.get("ok") is not False:
        problems.append(f"ok is {body.get('ok')!r}, not false")
    if envelope.kind == "contract" and "details" in body and not isinstance(body["details"], dict):
        problems.append("details is present but not an object")
    if envelope.kind == "problem+json":
        status = body.get("status", response.status)
        if status != response.status:
            problems.append(f"status member {status!r} is not the answer's {response.status}")
    code = _code(envelope, body, response.status, message or "")
    if envelope.kind == "contract" and code is None:
        problems.append(f"error is {body.get('error')!r}, not a code string")
    if not message or not message.strip():
        problems.append(f"the message ({envelope.message}) is {message!r}, not a non-empty string")
    view: dict[str, JSONValue] = {"ok": False, "error": code, "message": message}
    if errors is not None:
        entries: list[JSONValue] = [{"path": path, "message": text} for path, text in errors]
        view["details"] = {"errors": entries}
    return ReadError(view, tuple(problems), tuple(errors or ()))


def _fields(
    envelope: Envelope, body: dict[str, JSONValue], problems: list[str]
) -> tuple[str | None, list[tuple[str, str]] | None]:
    """Message and field errors where the contract's and RFC 9457's envelopes keep them."""
    message = get(body, tokens(envelope.message))
    if message is MISSING and envelope.kind == "problem+json":
        message = get(body, ("title",))
    found = get(body, tokens(envelope.errors)) if envelope.errors else MISSING
    if found is MISSING:
        return _text(message), None
    if not isinstance(found, list):
        problems.append(f"{envelope.errors} is present but not a list")
        return _text(message), None
    errors: list[tuple[str, str]] = []
    for entry in found:
        path = get(entry, tokens(envelope.error_path))
        text = get(entry, tokens(envelope.error_message))
        if isinstance(path, str):
            errors.append((path, text if isinstance(text, str) else ""))
    return _text(message), errors


def _fastapi(
    body: dict[str, JSONValue], problems: list[str]
) -> tuple[str | None, list[tuple[str, str]] | None]:
    """``{"detail": "text"}``, or a 422's ``{"detail": [{loc, msg, type}, ...]}``."""
    detail = body.get("detail", MISSING)
    if isinstance(detail, str):
        return detail, None
    if isinstance(detail, list):
        errors: list[tuple[str, str]] = []
        for entry in detail:
            loc = entry.get("loc") if isinstance(entry, dict) else None
            msg = entry.get("msg") if isinstance(entry, dict) else None
            if isinstance(loc, list):
                errors.append((loc_pointer(loc), msg if isinstance(msg, str) else ""))
        texts = [text for _, text in errors if text]
        return "; ".join(texts) or None, errors
    problems.append(f"detail is {detail!r}: neither a message nor a list of field errors")
    return None, None


def loc_pointer(loc: list[JSONValue]) -> str:
    """A FastAPI ``loc`` as a pointer: ``["body", "newMessage", "parts", 0]`` is
    ``/newMessage/parts/0``; ``["path", "user_id"]`` is ``/path/user_id``."""
    parts: list[str | int] = [p if isinstance(p, int) else str(p) for p in loc]
    if parts and parts[0] == "body":
        return render(parts[1:])
    return render(parts)


def _code(envelope: Envelope, body: dict[str, JSONValue], status: int, message: str) -> str | None:
    if envelope.code is not None:
        code = get(body, tokens(envelope.code))
        if isinstance(code, str) and code:
            return str(mapped(envelope.code_map, code))
        if envelope.kind == "contract":
            return None
    for rule in envelope.codes:
        if rule.matches(status, message):
            return rule.code
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
