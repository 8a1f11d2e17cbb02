"""A finding's steps as a shell script: the numbered sequence, runnable as it stands.

Paste the lines into bash (with curl and python3 at hand) to send the same requests
again, in order. What ties the steps together is shown as shell variables:

- ``BASE`` is the target's origin (scheme, host and port, and its credentials from
  ``${SESSION_CONFORMANCE_USERINFO}``; a base path stays literal); for a target checked
  in-process, the script reads it from the environment (where the user serves the app);
- ``USER_1``, ``USER_2`` ... are the user ids the harness made up (``sc-user-…``);
- ``SESSION_1`` ... are values an earlier answer returned (a session id a create
  minted), captured from that answer when the script runs::

      SESSION_1=$(curl -sS -X POST "${BASE}/users/${USER_1}/sessions" ... | python3 -c '...')

  and used by every later step (``"${BASE}/users/${USER_1}/sessions/${SESSION_1}"``, and
  inside JSON bodies). A client-chosen id, sent by the request itself, stays literal.

A status poll that answered ``ready: true`` becomes a bounded wait loop, so the script
works where sessions take time to provision. Every step but the last prints its status
code; the last, the request that broke the clause, prints the whole answer (``curl -i``)
and its comment says what was expected instead. Headers and bodies are quoted as
:mod:`conformance.reporting.curl` quotes them (a redacted token reads
``${SESSION_CONFORMANCE_TOKEN}``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from urllib.parse import quote as percent_encode
from urllib.parse import unquote, urlsplit

from conformance.records import Exchange, JSONValue
from conformance.reporting.curl import body_args, header_args, needs, quote, url_word
from conformance.target import IN_PROCESS_BASE

HARNESS_USER = re.compile(r"sc-user-[0-9a-f]{12}")
CAPTURE = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"session_id\"])'"
READY = "grep -q '\"ready\" *: *true'"
#: The wait loop polls at most this many times, this many seconds apart.
POLLS, POLL_SECONDS = 150, 0.2
_PLACEHOLDER = re.compile(r"@@SC-VAR:(\w+)@@")


class _Names:
    """The variables of one script: value -> name, in the order they appear."""

    def __init__(self) -> None:
        self.users: dict[str, str] = {}
        self.sessions: dict[str, str] = {}

    def all(self) -> dict[str, str]:
        return {**self.users, **self.sessions}


def script(steps: Sequence[Exchange], *, expected: str = "") -> list[str]:
    """The shell lines that replay ``steps``; empty when there are none."""
    if not steps:
        return []
    names = _Names()
    texts = [_request_text(step) for step in steps]
    for text in texts:
        for user in HARNESS_USER.findall(text):
            names.users.setdefault(user, f"USER_{len(names.users) + 1}")
    captures: dict[int, str] = {}
    for number, step in enumerate(steps):
        value = _returned_id(step)
        if value is None or value in names.all() or not _substitutable(value):
            continue
        if value in texts[number] or not any(_names_value(s, value) for s in steps[number + 1 :]):
            continue
        names.sessions[value] = f"SESSION_{len(names.sessions) + 1}"
        captures[number] = names.sessions[value]
    origin = _origin(steps[0].request.url)
    lines = ["# The sequence, step by step: paste it into bash (it needs curl and python3)."]
    sent = " ".join([origin, *(" ".join(header_args(s.request.headers)) for s in steps)])
    lines += [f"# First: {export}" for export in needs(sent)]
    if origin == IN_PROCESS_BASE:  # nothing listens there: the user serves the app
        lines.append(
            ': "${BASE:?export BASE=the URL where the app is served, e.g. http://127.0.0.1:8000}"'
        )
    else:
        lines.append(f"BASE={url_word(origin)}")
    lines += [f"{name}={quote(value)}" for value, name in names.users.items()]
    for number, step in enumerate(steps):
        last = number == len(steps) - 1
        lines.append(_comment(number + 1, step, names, expected if last else ""))
        lines.append(_command(number + 1, step, names, captures.get(number), last=last))
    return lines


def _comment(number: int, step: Exchange, names: _Names, expected: str) -> str:
    request = step.request
    path = _url(request.url, names, origin=False)
    answered = (
        f"answered {step.status}" if step.response is not None else "got no answer (see above)"
    )
    tail = f"; expected: {expected}" if expected else ""
    return f"# {number}. {request.method} {path} -> {answered}{tail}"


def _command(number: int, step: Exchange, names: _Names, capture: str | None, *, last: bool) -> str:
    request = step.request
    url = _url(request.url, names, origin=True)
    headers = header_args(request.headers)
    body = [_body(request.body, names)] if request.body else []
    send = ["-X", request.method, url, *headers, *body]
    if capture is not None:
        curl = " ".join(["curl", "-sS", *send])
        return f'{capture}=$({curl} | {CAPTURE}); echo "{capture}=${{{capture}}}"'
    if not last and request.method == "GET" and _showed_ready(step):
        poll = " ".join(["curl", "-sS", url, *headers])
        return (
            f"for _ in $(seq {POLLS}); do {poll} | {READY} && break; sleep {POLL_SECONDS:g}; "
            f"done; echo 'step {number}: Ready'"
        )
    if last:
        return " ".join(["curl", "-sS", "-i", *send]) + "; echo"
    shown = ["-o", "/dev/null", "-w", f"'step {number}: %{{http_code}}\\n'"]
    return " ".join(["curl", "-sS", *shown, *send])


# -- values -------------------------------------------------------------------------------


def _request_text(step: Exchange) -> str:
    return unquote(step.request.url) + "\n" + step.request.body.decode("utf-8", "replace")


def _returned_id(step: Exchange) -> str | None:
    if step.status is None or not 200 <= step.status < 300:
        return None
    body = step.body_json()
    value = body.get("session_id") if isinstance(body, dict) else None
    return value if isinstance(value, str) and value.strip() else None


def _substitutable(value: str) -> bool:
    """A value that reads the same as a path segment, a JSON string and a shell word."""
    return (
        percent_encode(value, safe="") == value
        and json.dumps(value, ensure_ascii=False) == f'"{value}"'
        and "@@" not in value
    )


def _names_value(step: Exchange, value: str) -> bool:
    """Whether the request names ``value`` as a whole path segment or JSON string."""
    segments = urlsplit(step.request.url).path.split("/")
    if any(unquote(segment) == value for segment in segments):
        return True
    return value in _strings(_json(step.request.body))


def _json(body: bytes) -> JSONValue | None:
    try:
        return json.loads(body.decode("utf-8")) if body else None
    except ValueError:
        return None


def _strings(value: JSONValue | None) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return {s for item in value.values() for s in _strings(item)}
    if isinstance(value, list):
        return {s for item in value for s in _strings(item)}
    return set()


def _showed_ready(step: Exchange) -> bool:
    body = step.body_json()
    return (
        step.status == 200
        and isinstance(body, dict)
        and body.get("ready") is True
        and "phase" in body
    )


# -- rendering ----------------------------------------------------------------------------


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _url(url: str, names: _Names, *, origin: bool) -> str:
    """The URL (or, for comments, its path) with variables for what they name."""
    parts = urlsplit(url)
    known = names.all()
    segments = []
    for segment in parts.path.split("/"):
        value = unquote(segment)
        if value in known and percent_encode(value, safe="") == segment:
            segments.append(f"${{{known[value]}}}")
        else:
            segments.append(_double_quoted(segment))
    path = "/".join(segments) + (f"?{_double_quoted(parts.query)}" if parts.query else "")
    return f'"${{BASE}}{path}"' if origin else path


def _body(body: bytes, names: _Names) -> str:
    """``--data-binary`` with the body, variables spliced into its JSON strings."""
    value = _json(body)
    known = names.all()
    encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    plain = value is None or encoded != body or b"@@SC-VAR:" in body
    if plain or not (_strings(value) & known.keys()):
        return " ".join(body_args(body))
    marked = json.dumps(
        _mark(value, known), separators=(",", ":"), ensure_ascii=False
    )  # strings naming a variable become @@SC-VAR:NAME@@
    pieces = _PLACEHOLDER.split(marked)
    shell = []
    for index, piece in enumerate(pieces):
        if index % 2:
            shell.append(f'"${{{piece}}}"')
        elif piece:
            shell.append(quote(piece))
    return "--data-binary " + "".join(shell)


def _mark(value: JSONValue, known: dict[str, str]) -> JSONValue:
    if isinstance(value, str):
        return f"@@SC-VAR:{known[value]}@@" if value in known else value
    if isinstance(value, dict):
        return {key: _mark(item, known) for key, item in value.items()}
    if isinstance(value, list):
        return [_mark(item, known) for item in value]
    return value


def _double_quoted(text: str) -> str:
    """Text safe inside a double-quoted shell word."""
    return re.sub(r'([\\"$`])', r"\\\1", text)
