"""Hand-written validation of ids and request bodies.

Each ``validate_*`` function returns every :class:`FieldError` it finds (empty: valid),
with paths as JSON pointers (RFC 6901) into the body (``/new_message/parts/0/text``,
``""`` for the root) or, for parameters, ``/path/<name>``. Patterns are matched against
the whole string with :func:`re.fullmatch`, so no trailing newline slips through.

Sentinel session ids (what a client sends when it lost the real id) are not a schema
matter: :func:`is_sentinel` finds them, and the app answers 400 before validating.
"""

from __future__ import annotations

import re
from typing import TypeGuard

from conformance.reference.config import MAX_TTL_SECONDS, MIN_TTL_SECONDS
from conformance.reference.models import FieldError

USER_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}")
SESSION_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")

#: Compared after trimming and lower-casing; the empty string covers whitespace-only ids.
SENTINELS = frozenset({"", "undefined", "null", "none", "nil", "nan", "[object object]"})

CREATE_FIELDS = ("metadata", "session_id", "ttl_seconds")
RUN_FIELDS = ("user_id", "session_id", "new_message")
MESSAGE_FIELDS = ("role", "parts")
PART_FIELDS = ("text",)


def is_sentinel(value: str) -> bool:
    """True for ``undefined``, `` NULL ``, ``[object Object]``, ``""``, ``"  "`` and kin."""
    return value.strip().lower() in SENTINELS


def pointer(*tokens: str | int) -> str:
    """The JSON pointer to ``tokens``: ``pointer("a/b", 0) == "/a~1b/0"``."""
    return "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in tokens)


def is_integer(value: object) -> TypeGuard[int | float]:
    """A JSON Schema ``integer``: an int, or a float with no fractional part; never a bool."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _pattern(value: object, path: str, pattern: re.Pattern[str], what: str) -> list[FieldError]:
    if not isinstance(value, str):
        return [FieldError(path, f"{what} must be a string")]
    if pattern.fullmatch(value) is None:
        return [FieldError(path, f"{what} must match ^{pattern.pattern}$")]
    return []


def validate_user_id(value: object, path: str) -> list[FieldError]:
    return _pattern(value, path, USER_ID_PATTERN, "a user id")


def validate_session_id(value: object, path: str) -> list[FieldError]:
    return _pattern(value, path, SESSION_ID_PATTERN, "a session id")


def _unknown(body: dict[str, object], allowed: tuple[str, ...], *at: str | int) -> list[FieldError]:
    names = ", ".join(allowed)
    return [
        FieldError(pointer(*at, key), f"unknown field; the allowed fields here are {names}")
        for key in body
        if key not in allowed
    ]


def _required(body: dict[str, object], names: tuple[str, ...], *at: str | int) -> list[FieldError]:
    return [FieldError(pointer(*at, n), "this field is required") for n in names if n not in body]


def validate_create(body: object) -> list[FieldError]:
    """``CreateSession``: ``{metadata?: object, session_id?: string, ttl_seconds?: 60..86400}``."""
    if not isinstance(body, dict):
        return [FieldError("", "the body must be a JSON object")]
    errors = _unknown(body, CREATE_FIELDS)
    if "metadata" in body and not isinstance(body["metadata"], dict):
        errors.append(FieldError("/metadata", "metadata must be a JSON object"))
    if "session_id" in body:
        errors += validate_session_id(body["session_id"], "/session_id")
    if "ttl_seconds" in body:
        ttl = body["ttl_seconds"]
        if not is_integer(ttl):
            errors.append(FieldError("/ttl_seconds", "ttl_seconds must be an integer"))
        elif not MIN_TTL_SECONDS <= ttl <= MAX_TTL_SECONDS:
            errors.append(
                FieldError(
                    "/ttl_seconds",
                    f"ttl_seconds must be between {MIN_TTL_SECONDS} and {MAX_TTL_SECONDS}",
                )
            )
    return errors


def validate_run(body: object) -> list[FieldError]:
    """``RunRequest``: ``{user_id, session_id, new_message: {role: "user", parts: [{text}]}}``."""
    if not isinstance(body, dict):
        return [FieldError("", "the body must be a JSON object")]
    errors = _unknown(body, RUN_FIELDS) + _required(body, RUN_FIELDS)
    if "user_id" in body:
        errors += validate_user_id(body["user_id"], "/user_id")
    if "session_id" in body:
        errors += validate_session_id(body["session_id"], "/session_id")
    if "new_message" in body:
        errors += validate_message(body["new_message"])
    return errors


def validate_message(message: object) -> list[FieldError]:
    at = "new_message"
    if not isinstance(message, dict):
        return [FieldError(pointer(at), "new_message must be a JSON object")]
    errors = _unknown(message, MESSAGE_FIELDS, at) + _required(message, MESSAGE_FIELDS, at)
    if "role" in message and message["role"] != "user":
        errors.append(FieldError(pointer(at, "role"), 'role must be "user"'))
    if "parts" not in message:
        return errors
    parts = message["parts"]
    if not isinstance(parts, list):
        return [*errors, FieldError(pointer(at, "parts"), "parts must be an array")]
    if not parts:
        errors.append(FieldError(pointer(at, "parts"), "parts must hold at least one part"))
    for index, part in enumerate(parts):
        if not isinstance(part, dict):
            errors.append(FieldError(pointer(at, "parts", index), "a part must be a JSON object"))
            continue
        errors += _unknown(part, PART_FIELDS, at, "parts", index)
        errors += _required(part, PART_FIELDS, at, "parts", index)
        if "text" in part and not isinstance(part["text"], str):
            errors.append(FieldError(pointer(at, "parts", index, "text"), "text must be a string"))
    return errors
