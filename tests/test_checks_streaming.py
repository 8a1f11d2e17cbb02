"""SSE-*: the stream parser follows the WHATWG rules; every streaming clause tolerates what
is free (the standard tests of the family are in tests/test_families.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from conformance.checks.streaming import Frame, parse_sse
from conformance.records import Verdict
from conformance.reference import ReferenceApp
from conformance.reference.base import render_json
from conformance.reference.models import Event
from fixtures.broken import check_mutant
from fixtures.broken.streaming import StreamAsJSON
from tests.families import STREAMING

CLAUSES = STREAMING.clauses
RUNS = STREAMING.runs


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
