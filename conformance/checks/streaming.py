"""Streaming: ``run_sse`` streams one Event per frame, and fails before it streams (SSE-*).

The body of a stream is parsed as the WHATWG HTML standard says an ``EventSource``
would: lines end with CRLF, LF or CR; a blank line ends a frame; ``data:`` lines (one
optional space after the colon) are joined with ``"\\n"``; comment lines (``:``) and the
``event``/``id``/``retry`` fields carry no data; a frame with no data dispatches nothing;
data left without a closing blank line at the end of the stream is discarded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from hypothesis import strategies as st

from conformance.checks import check
from conformance.client import encode, run_body
from conformance.context import CheckContext, Undecided
from conformance.expectations import describe, envelope_problems, field, frame_schema_errors
from conformance.profile import NotInLayout
from conformance.properties import for_all
from conformance.records import Exchange, Finding, JSONValue, View

STREAM_TYPE = "text/event-stream"
SENTINELS = ("undefined", "null", "none", "nil", "nan", "[object object]", "")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class Frame:
    """One dispatched event of a stream: its type (``message`` unless named) and data."""

    event: str
    data: str


@dataclass(frozen=True, slots=True)
class Stream:
    frames: tuple[Frame, ...]
    #: Data that no blank line closed before the stream ended (discarded, as browsers do).
    unterminated: str | None


def parse_sse(body: bytes) -> Stream:
    """The frames an ``EventSource`` would dispatch for ``body``."""
    text = body.decode("utf-8", "replace").removeprefix("\ufeff")
    lines = _LINE_BREAK.split(text)
    ended_with_break = bool(lines) and lines[-1] == ""
    if ended_with_break:
        lines.pop()  # the empty string after the last line break is no line
    frames: list[Frame] = []
    data: list[str] = []
    event = ""
    for line in lines:
        if line == "":
            if data:
                frames.append(Frame(event or "message", "\n".join(data)))
            data, event = [], ""
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
    leftover = "\n".join(data) if data else None
    return Stream(tuple(frames), leftover)


def stream_problems(exchange: Exchange) -> list[str]:
    """Why ``exchange`` is not a 200 event stream of one or more Event frames."""
    response = exchange.response
    if response is None:
        return [f"no response ({exchange.transport_error})"]
    if response.status != 200:
        return [f"status {response.status}: {describe(exchange)}"]
    if response.media_type != STREAM_TYPE:
        return [f"Content-Type is {response.header('content-type')!r}, not {STREAM_TYPE}"]
    stream = parse_sse(exchange.stream_body())  # its frames in the contract's terms
    problems: list[str] = []
    for number, frame in enumerate(stream.frames, start=1):
        problems.extend(f"frame {number}: {p}" for p in _frame_problems(frame, exchange.view))
    if response.truncated:
        problems.append("the stream did not end within the harness's read limit")
    elif stream.unterminated is not None:
        problems.append(
            f"the stream ended inside a frame (no blank line after data "
            f"{stream.unterminated[:80]!r}): an EventSource discards it"
        )
    if not stream.frames and not problems:
        problems.append(f"no data frame in the stream: {describe(exchange)}")
    return problems


def _frame_problems(frame: Frame, view: View | None) -> list[str]:
    """What is wrong with one frame as an Event (the fields the profile says its frames
    lack are not required)."""
    if frame.event == "error":
        return [f"an 'event: error' frame: {frame.data[:120]!r}"]
    try:
        value: JSONValue = json.loads(frame.data, parse_constant=_no_constant)
    except ValueError:
        return [f"data is not JSON: {frame.data[:120]!r}"]
    errors = frame_schema_errors(view, value)
    looks_like_error = isinstance(value, dict) and (
        value.get("ok") is False or (bool(errors) and "error" in value)
    )
    if looks_like_error:
        return [f"an error inside the stream: {frame.data[:120]!r}"]
    return [f"not an Event ({'; '.join(errors[:2])})"] if errors else []


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


@check("SSE-001")
def streamed_run_is_event_frames(ctx: CheckContext) -> Iterator[Finding]:
    created = ctx.ready()

    def probe(text: str) -> Finding | None:
        exchange = ctx.client.run_stream(created.user_id, created.session_id, text)
        problems = stream_problems(exchange)
        if not problems:
            return None
        return Finding(
            f"streamed run of {text!r} on a Ready session: {'; '.join(problems[:3])}",
            f"200 {STREAM_TYPE}; one or more frames, each 'data: <Event JSON>' "
            "and a blank line; no error frames",
            exchange,
        )

    finding = probe("hello")
    if finding is not None:
        yield finding
        return
    texts = st.text(st.characters(codec="utf-8"), min_size=1, max_size=60)
    yield from for_all(ctx, texts, probe, max_examples=min(ctx.settings.max_examples, 8))


@check("SSE-002")
def errors_before_the_stream_are_json(ctx: CheckContext) -> Iterator[Finding]:
    created = ctx.create(ctx.new_user())
    user, session_id = created.user_id, created.session_id
    # Not ready: judged where the target has a window before Ready. A run that was let
    # through counts against the target only if the session was provably not Ready
    # both at create and after the run.
    early = ctx.client.run_stream(user, session_id)
    if _status_of(early) >= 400 or (
        _not_ready(field(created.exchange, "session", "phase"))
        and ctx.client.profile.has("status")
        and _not_ready(field(ctx.client.status(user, session_id), "phase"))
    ):
        finding = _expect_json_error(early, "a streamed run before the session is Ready (409)")
        if finding is not None:
            yield finding
    missing = ctx.new_session_id()
    finding = _expect_json_error(
        ctx.client.run_stream(user, missing),
        f"a streamed run on never-created {missing!r} (404)",
    )
    if finding is not None:
        yield finding
    # Bodies: on the session once Ready, so that the body is the only fault.
    if ctx.client.profile.has("status"):
        poll = ctx.poll(user, session_id)
        if poll.final_phase != "Ready":
            raise Undecided(
                f"precondition failed: session {session_id} did not become Ready within "
                f"{ctx.settings.ready_timeout:g}s (last status: {describe(poll.exchanges[-1])})"
            )

    def probe(case: tuple[str, bytes]) -> Finding | None:
        what, raw = case
        try:
            # The ids go where the layout keeps them outside a body that holds none.
            exchange = ctx.client.call("run_stream", user_id=user, session_id=session_id, raw=raw)
        except NotInLayout:
            return None  # a body whose ids the target's layout cannot carry
        return _expect_json_error(exchange, f"a streamed run with {what}")

    sentinels = [_sentinel_body(user, s) for s in (None, " ", *SENTINELS)]
    for case in _invalid_bodies(user, session_id) + sentinels:
        finding = probe(case)
        if finding is not None:
            yield finding
            return
    cases = _padded_sentinels().map(lambda s: _sentinel_body(user, s))
    yield from for_all(ctx, cases, probe, max_examples=min(ctx.settings.max_examples, 10))


@check("SSE-003")
def streamed_run_counts_a_turn(ctx: CheckContext) -> Iterator[Finding]:
    created = ctx.ready()
    user, session_id = created.user_id, created.session_id
    before = ctx.client.get(user, session_id)
    baseline = field(before, "session", "turns")
    if not isinstance(baseline, int) or isinstance(baseline, bool):
        raise Undecided(f"precondition failed: get shows no integer turns: {describe(before)}")
    for turn in range(1, 3):
        exchange = ctx.client.run_stream(user, session_id, f"turn {turn}")
        problems = stream_problems(exchange)
        if problems:
            raise Undecided(
                f"precondition failed: streamed run {turn} was not a successful stream "
                f"({'; '.join(problems[:2])}); see SSE-001"
            )
        got = ctx.client.get(user, session_id)
        turns = field(got, "session", "turns")
        if turns != baseline + turn:
            yield Finding(
                f"after {turn} streamed run(s) on a session with turns {baseline}, "
                f"session.turns is {turns!r}",
                f"turns == {baseline + turn}: a streamed run counts as a turn",
                got,
                steps=(exchange, got),
            )
            return


def _status_of(exchange: Exchange) -> int:
    return exchange.status if exchange.status is not None else 0


def _not_ready(phase: JSONValue) -> bool:
    return isinstance(phase, str) and phase not in ("Ready", "Failed")


def _expect_json_error(exchange: Exchange, why: str) -> Finding | None:
    """A JSON error envelope with status >= 400: never a stream, never a success."""
    expected = "a status >= 400 with the JSON error envelope, before any stream starts"
    response = exchange.response
    if response is None:
        return Finding(f"{why}: no response ({exchange.transport_error})", expected, exchange)
    if response.status < 400:
        kind = "a stream" if response.media_type == STREAM_TYPE else "a success"
        return Finding(f"{why}: answered {kind}: {describe(exchange)}", expected, exchange)
    problems = envelope_problems(exchange)
    if problems:
        return Finding(
            f"{why}: {'; '.join(problems)}; got {describe(exchange)}", expected, exchange
        )
    return None


def _padded_sentinels() -> st.SearchStrategy[str]:
    """Every sentinel in any letter case, with any surrounding whitespace."""
    cased = st.sampled_from(SENTINELS).flatmap(
        lambda word: st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
            lambda up: "".join(c.upper() if u else c for c, u in zip(word, up, strict=True))
        )
    )
    pad = st.text(" \t", max_size=2)
    return st.tuples(pad, cased, pad).map(lambda p: p[0] + p[1] + p[2])


def _sentinel_body(user: str, session_id: JSONValue) -> tuple[str, bytes]:
    """A run body whose session id is null or a sentinel (400 SESSION_ID_MISSING)."""
    return f"session_id {session_id!r} (400)", encode(run_body(user, session_id))


def _invalid_bodies(user: str, session_id: str) -> list[tuple[str, bytes]]:
    """Bodies that break the RunRequest schema, or are not JSON at all."""
    good = run_body(user, session_id)
    message: dict[str, JSONValue] = {"role": "user", "parts": [{"text": "hello"}]}
    broken: list[tuple[str, JSONValue]] = [
        ("no new_message (422)", {"user_id": user, "session_id": session_id}),
        ("no session_id (422)", {"user_id": user, "new_message": message}),
        ("no user_id (422)", {"session_id": session_id, "new_message": message}),
        ("an empty parts list (422)", {**good, "new_message": {"role": "user", "parts": []}}),
        ("a part without text (422)", {**good, "new_message": {"role": "user", "parts": [{}]}}),
        ("role 'model' (422)", {**good, "new_message": {**message, "role": "model"}}),
        ("an integer session_id (422)", {**good, "session_id": 7}),
        ("an unknown top-level field (422)", {**good, "tool_metadata": {}}),
        ("an unknown field in new_message (422)", {**good, "new_message": {**message, "x": 1}}),
        ("a JSON array as the body (422)", [good]),
    ]
    malformed = [
        ("a truncated JSON body (400)", encode(good)[:-1]),
        ("NaN in the body (400)", encode(good)[:-1] + b',"n":NaN}'),
        ("an empty body (400)", b""),
    ]
    return [(what, encode(body)) for what, body in broken] + malformed
