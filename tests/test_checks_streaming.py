"""SSE-*: the stream parser follows the WHATWG rules; every streaming clause passes on both
conformant backends, tolerates what is free, and fails on its mutants."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from conformance.checks.streaming import Frame, parse_sse
from conformance.records import Verdict
from conformance.reference import ReferenceApp
from conformance.reference.base import render_json
from conformance.reference.models import Event
from conformance.registry import registry
from conformance.target import Target
from fixtures.broken import Mutant, check_mutant
from fixtures.broken.streaming import (
    MUTANTS,
    DoneMarker,
    ErrorsInsideTheStream,
    FramesWithoutBlankLine,
    StreamAsJSON,
    StreamedRunNotCounted,
    StreamsBeforeReady,
    ValidatesInsideTheStream,
)
from tests.clause_runs import ClauseRuns

FAMILY = "streaming"
CLAUSES = [clause.id for clause in registry().clauses if clause.family == FAMILY]
TOKEN = "sse-token-0c44e1"
SEEDS = (1, 2)
RUNS = ClauseRuns(TOKEN)

#: What the summary of each mutant's failure must say.
MESSAGES: dict[type[Mutant], str] = {
    FramesWithoutBlankLine: "the stream ended inside a frame",
    DoneMarker: "data is not JSON: '[DONE]'",
    StreamAsJSON: "Content-Type is 'application/json', not text/event-stream",
    ErrorsInsideTheStream: "before the session is Ready (409): answered a stream",
    StreamsBeforeReady: "before the session is Ready (409): answered a stream",
    ValidatesInsideTheStream: "(422): answered a stream",
    StreamedRunNotCounted: "after 1 streamed run(s) on a session with turns 0, session.turns is 0",
}


reference = RUNS.reference_fixture()
stdlib_server = RUNS.stdlib_server_fixture()


# -- the parser ---------------------------------------------------------------------------


def test_parses_frames_as_an_event_source_does() -> None:
    body = (
        b"\xef\xbb\xbf: a comment\r\n"
        b"retry: 1000\r\n"
        b'event: message\r\nid: 1\r\ndata:{"a":\r\ndata: 1}\r\n\r\n'
        b"event: only-a-name\n\n"
        b"data\rdata: x\r\r"
        b"data:  two spaces\n\n"
    )
    stream = parse_sse(body)
    assert stream.frames == (
        Frame("message", '{"a":\n1}'),
        Frame("message", "\nx"),
        Frame("message", " two spaces"),
    )
    assert stream.unterminated is None


def test_data_without_a_closing_blank_line_is_unterminated() -> None:
    stream = parse_sse(b'data: {"x": 1}\n\ndata: {"y": 2}\n')
    assert stream.frames == (Frame("message", '{"x": 1}'),)
    assert stream.unterminated == '{"y": 2}'


def test_named_events_keep_their_name() -> None:
    stream = parse_sse(b"event: error\ndata: {}\n\ndata: {}\n\n")
    assert [frame.event for frame in stream.frames] == ["error", "message"]


# -- the clauses --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("clause_id", CLAUSES)
def test_passes_against_the_reference(reference: Target, clause_id: str, seed: int) -> None:
    result = RUNS.run(reference, clause_id, seed)
    assert result.verdict is Verdict.PASSED, result.summary


@pytest.mark.socket
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("clause_id", CLAUSES)
def test_passes_against_the_stdlib_server(stdlib_server: Target, clause_id: str, seed: int) -> None:
    result = RUNS.run(stdlib_server, clause_id, seed)
    assert result.verdict is Verdict.PASSED, result.summary


@pytest.mark.parametrize(
    ("mutant", "clause_id"),
    [pytest.param(m, c, id=f"{c}-{m.__name__}") for m in MUTANTS for c in m.trips],
)
def test_fails_against_its_mutant(mutant: type[Mutant], clause_id: str) -> None:
    result = check_mutant(mutant, clause_id)
    assert result.verdict is Verdict.FAILED, result.summary
    assert MESSAGES[mutant] in result.summary
    finding = result.findings[0]
    assert finding.expected
    assert finding.exchange is not None


def test_every_streaming_clause_has_a_mutant() -> None:
    assert {c for m in MUTANTS for c in m.trips} == set(CLAUSES)


def test_a_broken_stream_leaves_the_turn_clause_undecided() -> None:
    result = check_mutant(StreamAsJSON, "SSE-003")
    assert result.verdict is Verdict.ERROR
    assert "see SSE-001" in result.summary


class SpreadOutFrames(ReferenceApp):
    """Conformant, the free way: CRLF lines, comments, ``retry``/``event``/``id`` fields,
    an Event's JSON spread over several ``data:`` lines, a keep-alive frame, chunks."""

    async def stream_events(self, events: list[Event]) -> AsyncIterator[bytes]:
        yield b": stream opened\r\nretry: 3000\r\n\r\n"
        for number, event in enumerate(events, start=1):
            text = render_json(event.to_json()).decode()
            cut = text.index(",") + 1  # between two members, never inside a string
            head, tail = text[:cut], text[cut:]
            frame = f"event: event\r\nid: {number}\r\ndata:{head}\r\n"
            yield frame[:7].encode()
            yield (frame[7:] + f"data: {tail}\r\n\r\n").encode()
        yield b": done\r\n\r\n"


@pytest.mark.parametrize("clause_id", CLAUSES)
def test_tolerates_every_free_choice(clause_id: str) -> None:
    with RUNS.in_process(SpreadOutFrames(RUNS.config())) as target:
        result = RUNS.run(target, clause_id, 3)
    assert result.verdict is Verdict.PASSED, result.summary


def test_a_target_without_a_not_ready_window_still_passes() -> None:
    with RUNS.reference(provision_seconds=0) as target:
        result = RUNS.run(target, "SSE-002", 1)
    assert result.verdict is Verdict.PASSED, result.summary
