"""Expectations: the reusable judgements checks make about one exchange.

Each function looks at an exchange and returns a :class:`Finding` (what was expected and
what is wrong) or ``None`` when the exchange meets the expectation. Checks combine them;
they never print.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote

from conformance.pointers import POINTER
from conformance.profile import AbsentField, absent_reason, frame_absent_reason
from conformance.records import Exchange, Finding, JSONValue, View
from conformance.schemas import schema_errors

#: What an error body must never reveal: tracebacks, exception names, paths, SQL.
LEAK_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a Python traceback", re.compile(r"Traceback \(most recent call last\)")),
    ("a stack frame", re.compile(r"File \"[^\"]+\", line \d+|\bat [\w.$]+\([\w.]+:\d+\)")),
    (
        "an exception class name",
        re.compile(
            r"\b(?:[A-Z]\w*(?:Error|Exception)|KeyError|AttributeError|TypeError|ValueError"
            r"|NullPointerException|Traceback)\b(?!_)"
        ),
    ),
    (
        "a file path",
        re.compile(r"(?:/(?:usr|home|app|srv|opt|var|site-packages)/[\w./-]+)|\w:\\\\"),
    ),
    (
        "SQL",
        re.compile(
            r"\b(?:SELECT\s+.+\s+FROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|sqlite3?|psycopg)\b", re.I
        ),
    ),
)


def describe(exchange: Exchange) -> str:
    """A one-line account of what came back, for messages."""
    if exchange.response is None:
        return f"no response ({exchange.transport_error})"
    response = exchange.response
    kind = response.header("content-type") or "no content type"
    text = response.body[:160].decode("utf-8", "replace").replace("\n", "\\n")
    return f"{response.status} ({kind}) {text}"


def expect_status(exchange: Exchange, expected: int | tuple[int, ...], why: str) -> Finding | None:
    wanted = (expected,) if isinstance(expected, int) else expected
    if exchange.status in wanted:
        return None
    shown = " or ".join(str(code) for code in wanted)
    single = wanted[0] if len(wanted) == 1 else None
    return Finding(
        f"{why}: got {describe(exchange)}", f"status {shown}", exchange, expected_status=single
    )


def envelope_problems(exchange: Exchange) -> list[str]:
    """What is wrong with an error response's envelope (empty when it is right): the
    contract's envelope, or the one the target's profile names (read into the view)."""
    response = exchange.response
    if response is None:
        return [f"no response ({exchange.transport_error})"]
    if exchange.view is not None and response.status >= 400:
        return [*exchange.view.problems, *(f"the body leaks {what}" for what in leaks(exchange))]
    problems: list[str] = []
    if response.media_type != "application/json":
        problems.append(f"Content-Type is {response.header('content-type') or 'missing'!r}")
    body = response.json_or_none()
    if not isinstance(body, dict):
        problems.append("the body is not a JSON object")
        return problems
    if body.get("ok") is not False:
        problems.append(f"ok is {body.get('ok')!r}, not false")
    if not isinstance(body.get("error"), str) or not body.get("error"):
        problems.append(f"error is {body.get('error')!r}, not a code string")
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        problems.append(f"message is {message!r}, not a non-empty string")
    if "details" in body and not isinstance(body["details"], dict):
        problems.append("details is present but not an object")
    problems.extend(f"the body leaks {what}" for what in leaks(exchange))
    return problems


def leaks(exchange: Exchange) -> list[str]:
    """Internals the response body reveals. Text the request itself carried (and the
    server may echo, e.g. an unknown field's name) does not count."""
    if exchange.response is None:
        return []
    text = exchange.response.body.decode("utf-8", "replace")
    url = exchange.request.url
    sent = url + unquote(url) + exchange.request.body.decode("utf-8", "replace")
    found: list[str] = []
    for what, pattern in LEAK_PATTERNS:
        if any(match.group(0) not in sent for match in pattern.finditer(text)):
            found.append(what)
    return found


def expect_envelope(exchange: Exchange, why: str) -> Finding | None:
    """A >= 400 response must be the JSON error envelope."""
    problems = envelope_problems(exchange)
    if not problems:
        return None
    return Finding(
        f"{why}: {'; '.join(problems)}; got {describe(exchange)}",
        "Content-Type application/json with {ok: false, error: CODE, message: string}",
        exchange,
    )


def expect_error(exchange: Exchange, status: int, code: str, why: str) -> Finding | None:
    """The exchange is an error with this status and code, in the envelope."""
    body = exchange.body_json()
    got_code = body.get("error") if isinstance(body, dict) else None
    problems = [] if exchange.status == status else [f"status {exchange.status}"]
    if got_code != code:
        problems.append(f"error code {got_code!r}")
    problems.extend(p for p in envelope_problems(exchange) if not p.startswith("error is"))
    if not problems:
        return None
    return Finding(
        f"{why}: got {describe(exchange)}",
        f"{status} {code} in the JSON error envelope",
        exchange,
        expected_status=status,
    )


def expect_schema(
    exchange: Exchange, status: int | tuple[int, ...], component: str, why: str
) -> Finding | None:
    """A success response with this status whose JSON body matches a component schema."""
    finding = expect_status(exchange, status, why)
    if finding is not None:
        return finding
    assert exchange.response is not None
    if exchange.view is not None:
        return _view_schema_finding(exchange, exchange.view, component, why)
    if exchange.response.media_type != "application/json":
        return Finding(
            f"{why}: Content-Type is {exchange.response.header('content-type')!r}",
            "application/json",
            exchange,
        )
    try:
        body: JSONValue = exchange.response.json()
    except (ValueError, UnicodeDecodeError):
        return Finding(f"{why}: the body is not JSON: {describe(exchange)}", component, exchange)
    errors = schema_errors(component, body)
    if errors:
        return Finding(
            f"{why}: the body does not match {component}: {'; '.join(errors[:3])}",
            f"a body matching the {component} schema",
            exchange,
        )
    return None


def _view_schema_finding(
    exchange: Exchange, view: View, component: str, why: str
) -> Finding | None:
    """The view against the component schema; fields the profile's layout does not have
    (``absent``) are not required."""
    if view.body is None:
        return Finding(f"{why}: the body is not JSON: {describe(exchange)}", component, exchange)
    errors = [e for e in schema_errors(component, view.body) if not _absent_field(view, e)]
    if errors:
        return Finding(
            f"{why}: the body, read through profile {view.profile!r}, does not match "
            f"{component}: {'; '.join(errors[:3])}",
            f"a body matching the {component} schema",
            exchange,
        )
    return None


_REQUIRED = re.compile(r"^(?P<at>.*): '(?P<name>[^']*)' is a required property$")


def _absent_field(view: View, error: str) -> bool:
    return _required_at(error, lambda path: absent_reason(view, path) is not None)


def frame_schema_errors(view: View | None, event: JSONValue) -> list[str]:
    """A stream frame's Event against the ``Event`` schema; the fields the profile says
    its frames do not have (``frame_absent``) are not required."""
    errors = schema_errors("Event", event)
    if view is None:
        return errors
    if not view.frame_absent:
        return errors
    return [
        e
        for e in errors
        if not _required_at(e, lambda path: frame_absent_reason(view, path) is not None)
    ]


def _required_at(error: str, absent: Callable[[tuple[str, ...]], bool]) -> bool:
    """Whether ``error`` is a required-property error at a pointer ``absent`` admits."""
    match = _REQUIRED.match(error)
    if match is None:
        return False
    at = "" if match["at"] == "(root)" else match["at"]
    parts = tuple(p.replace("~1", "/").replace("~0", "~") for p in at.split("/")[1:])
    return absent((*parts, match["name"]))


def field(exchange: Exchange, *path: str) -> JSONValue:
    """The value at ``path`` in the JSON body (the profile's canonical view of it, if
    any), or ``None`` where any step is missing. Raises
    :class:`~conformance.profile.AbsentField` where the profile says its layout has no
    such field."""
    if exchange.view is not None:
        why = absent_reason(exchange.view, path)
        if why is not None:
            raise AbsentField(why)
    value: JSONValue = exchange.body_json()
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def error_entries(exchange: Exchange) -> list[tuple[str, str]]:
    """The ``details.errors[]`` entries of a 422 body, as (path, message) pairs (an entry
    without a string path is left out; a missing message reads as ``""``)."""
    errors = field(exchange, "details", "errors")
    if not isinstance(errors, list):
        return []
    entries: list[tuple[str, str]] = []
    for entry in errors:
        path = entry.get("path") if isinstance(entry, dict) else None
        message = entry.get("message") if isinstance(entry, dict) else None
        if isinstance(path, str):
            entries.append((path, message if isinstance(message, str) else ""))
    return entries


def error_paths(exchange: Exchange) -> list[str]:
    """The ``details.errors[].path`` pointers of a 422 body."""
    return [path for path, _ in error_entries(exchange)]


def validation_envelope_problems(exchange: Exchange) -> list[str]:
    """What keeps a 422 from being the contract's validation envelope (VAL-009): ``ok``
    false, ``error`` ``VALIDATION_ERROR``, ``details.errors`` a non-empty list of
    ``{path: JSON pointer, message: string}``; empty when nothing does."""
    problems: list[str] = []
    if field(exchange, "ok") is not False:
        problems.append("ok is not false")
    if field(exchange, "error") != "VALIDATION_ERROR":
        problems.append(f"error is {field(exchange, 'error')!r}, not 'VALIDATION_ERROR'")
    errors = field(exchange, "details", "errors")
    if not isinstance(errors, list) or not errors:
        problems.append(f"details.errors is {errors!r}, not a non-empty list")
    for entry in errors if isinstance(errors, list) else []:
        path = entry.get("path") if isinstance(entry, dict) else None
        message = entry.get("message") if isinstance(entry, dict) else None
        if not isinstance(path, str) or not POINTER.fullmatch(path):
            problems.append(f"entry {entry!r} has no JSON pointer path")
        elif not isinstance(message, str) or not message.strip():
            problems.append(f"entry {entry!r} has no message")
    return problems


#: What VAL-009 expects of every 422.
VALIDATION_ENVELOPE = (
    "error VALIDATION_ERROR and details.errors: a non-empty list of {path: JSON pointer, "
    "message: string}"
)


def expect_validation_error(
    exchange: Exchange, field_name: str, why: str, *, holder: str | None = None
) -> Finding | None:
    """422 VALIDATION_ERROR with a ``details.errors`` entry whose pointer names the field
    (its last token equals ``field_name``; ``""`` means the body root).

    ``holder`` is given for a property that is missing or unknown: the pointer of the
    object that lacks or holds it. An entry pointing at that object whose message names
    the property points at it too (CONTRACT.md, "Precisions": the convention of JSON
    Schema validators)."""
    finding = expect_error(exchange, 422, "VALIDATION_ERROR", why)
    if finding is not None:
        return finding
    entries = error_entries(exchange)
    if any(_last_token(path) == field_name for path, _ in entries):
        return None
    if holder is not None and any(
        _last_token(path) == _last_token(holder) and _names(message, field_name)
        for path, message in entries
    ):
        return None
    shown = repr(field_name) if field_name else "the body root ('')"
    also = (
        ""
        if holder is None
        else f", or at the object holding it ({holder or 'the body root'}) with a message naming it"
    )
    return Finding(
        f"{why}: details.errors names {[p for p, _ in entries] or 'nothing'}, not {shown}",
        f"422 with a details.errors entry whose path points at {shown}{also}",
        exchange,
        expected_status=422,
    )


def _names(message: str, name: str) -> bool:
    """Whether a message names a property (as a word of its own, quoted or not)."""
    return bool(name) and re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", message) is not None


def _last_token(pointer: str) -> str:
    if pointer in ("", "/"):
        return ""
    return pointer.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
