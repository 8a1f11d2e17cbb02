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

  and used by every later step (``"${BASE}/users/${USER_1}/sessions/${SESSION_1}"``, in
  query parameters and headers, and inside JSON bodies). A client-chosen id, sent by the
  request itself, stays literal. Under a profile the id is captured from where the
  profile's create names it in the raw answer (``thread_id``, a nested field, a header,
  the ``Location``: :attr:`View.created_id`), and the ids travel in the profile's own
  places (``X-User-ID``, ``?id=``), as the recorded requests sent them.

Each step's comment names the status the target answered, as curl will print it, and the
status the profile reads it as where that differs (``answered 200 (the contract's 201)``).
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
from urllib.parse import parse_qsl, unquote, urlsplit
from urllib.parse import quote as percent_encode

from conformance.pointers import tokens
from conformance.profile import created_at
from conformance.records import Exchange, JSONValue
from conformance.reporting.curl import body_args, header_args, needs, quote, url_word
from conformance.target import IN_PROCESS_BASE

HARNESS_USER = re.compile(r"sc-user-[0-9a-f]{12}")
CAPTURE = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"session_id\"])'"
READY = "grep -q '\"ready\" *: *true'"
_READY = re.compile(rb'"ready" *: *true')
#: Reads a value out of a JSON answer on stdin: the pointer's tokens are spliced in.
_POINTED = (
    "import functools,json,sys; print(functools.reduce(lambda v, t: v[int(t)] if "
    "isinstance(v, list) else v[t], {tokens}, json.load(sys.stdin)))"
)
#: Reads a response header (or the last path segment of Location) out of curl's -D - dump.
_HEADER = (
    "import sys,urllib.parse as u; h={{k.strip().lower(): v.strip() for k, _, v in "
    "(line.partition(':') for line in sys.stdin.read().splitlines())}}; v=h[{name!r}]; "
    "print({value})"
)
#: The wait loop polls at most this many times, this many seconds apart.
POLLS, POLL_SECONDS = 150, 0.2
_PLACEHOLDER = re.compile(r"@@SC-VAR:(\w+)@@")
_UNSAFE = re.compile(r'[\\"$`!]')


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
    places: dict[int, str] = {}
    for number, step in enumerate(steps):
        returned = _returned_id(step)
        if returned is None:
            continue
        value, place = returned
        if value in names.all() or not _substitutable(value):
            continue
        if value in texts[number] or not any(_names_value(s, value) for s in steps[number + 1 :]):
            continue
        names.sessions[value] = f"SESSION_{len(names.sessions) + 1}"
        captures[number] = names.sessions[value]
        places[number] = place
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
        capture = (captures[number], places[number]) if number in captures else None
        lines.append(_command(number + 1, step, names, capture, last=last))
    return lines


def _comment(number: int, step: Exchange, names: _Names, expected: str) -> str:
    request = step.request
    path = _url(request.url, names, origin=False)
    answered = "got no answer (see above)"
    if step.response is not None:
        answered = f"answered {step.response.status}"  # what curl will show
        if step.status != step.response.status:  # a profile reads it as another status
            answered += f" (the contract's {step.status})"
    tail = f"; expected: {expected}" if expected else ""
    return f"# {number}. {request.method} {path} -> {answered}{tail}"


def _command(
    number: int, step: Exchange, names: _Names, capture: tuple[str, str] | None, *, last: bool
) -> str:
    request = step.request
    url = _url(request.url, names, origin=True)
    headers = _headers(request.headers, names)
    body = [_body(request.body, names)] if request.body else []
    send = ["-X", request.method, url, *headers, *body]
    if capture is not None:
        name, place = capture
        dump = [] if place.startswith("/") else ["-o", "/dev/null", "-D", "-"]
        curl = " ".join(["curl", "-sS", *dump, *send])
        return f'{name}=$({curl} | {_reader(place)}); echo "{name}=${{{name}}}"'
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


def _reader(place: str) -> str:
    """The shell command that prints the id at ``place`` of the answer on its stdin."""
    if place == "/session_id":
        return CAPTURE
    if place.startswith("/"):
        program = _POINTED.format(tokens=json.dumps(list(tokens(place))))
    elif place == "location":
        last = "u.unquote(u.urlsplit(v).path.rstrip('/').rpartition('/')[2])"
        program = _HEADER.format(name="location", value=last)
    else:
        program = _HEADER.format(name=place.removeprefix("header:").lower(), value="v")
    return f"python3 -c {quote(program)}"


def _request_text(step: Exchange) -> str:
    headers = "\n".join(value for _, value in step.request.headers)
    body = step.request.body.decode("utf-8", "replace")
    return "\n".join((unquote(step.request.url), headers, body))


def _returned_id(step: Exchange) -> tuple[str, str] | None:
    """The id a successful answer returned, and where its raw answer holds it."""
    if step.status is None or not 200 <= step.status < 300 or step.response is None:
        return None
    place = "/session_id" if step.view is None else step.view.created_id
    value = created_at(step.response, place) if place else None
    return (value, place) if isinstance(value, str) and value.strip() else None


def _substitutable(value: str) -> bool:
    """A value that reads the same as a path segment, a JSON string and a shell word."""
    return (
        percent_encode(value, safe="") == value
        and json.dumps(value, ensure_ascii=False) == f'"{value}"'
        and "@@" not in value
    )


def _names_value(step: Exchange, value: str) -> bool:
    """Whether the request names ``value`` as a whole path segment or JSON string."""
    parts = urlsplit(step.request.url)
    if any(unquote(segment) == value for segment in parts.path.split("/")):
        return True
    if any(v == value for _, v in parse_qsl(parts.query, keep_blank_values=True)):
        return True
    if any(v == value for _, v in step.request.headers):
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
    """A status answer that showed Ready in words the wait loop's grep finds."""
    body = step.body_json()
    raw = step.response.body if step.response is not None else b""
    return (
        step.status == 200
        and isinstance(body, dict)
        and body.get("ready") is True
        and "phase" in body
        and _READY.search(raw) is not None
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
    path = "/".join(segments) + (f"?{_query(parts.query, known)}" if parts.query else "")
    return f'"${{BASE}}{path}"' if origin else path


def _query(query: str, known: dict[str, str]) -> str:
    """The query string, each parameter that names a variable's value as the variable."""
    pairs = []
    for pair in query.split("&"):
        key, sep, encoded = pair.partition("=")
        value = unquote(encoded.replace("+", " "))
        if sep and value in known and percent_encode(value, safe="") == encoded:
            pairs.append(f"{_double_quoted(key)}=${{{known[value]}}}")
        else:
            pairs.append(_double_quoted(pair))
    return "&".join(pairs)


def _headers(headers: tuple[tuple[str, str], ...], names: _Names) -> list[str]:
    """``-H`` arguments, a header whose value is a variable's value as the variable."""
    known = names.all()
    args: list[str] = []
    for name, value in headers:
        if value in known and not _UNSAFE.search(name):
            args += ["-H", f'"{name}: ${{{known[value]}}}"']
        else:
            args += header_args(((name, value),))
    return args


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
