"""The record of a run is bounded (``conformance.recording``): it keeps the latest
exchanges within a count and a byte budget, numbers every one, and hands each to its
listeners in order, so that the exchange log and the smoke sweep see a whole run."""

from __future__ import annotations

from conformance.recording import OVERHEAD, Recording
from conformance.records import Exchange, RequestRecord, ResponseRecord


def _exchange(index: int, body: bytes = b"") -> Exchange:
    request = RequestRecord("GET", f"http://t/{index}", (("host", "t"),))
    return Exchange(index, request, ResponseRecord(200, (), body))


def test_it_keeps_the_latest_within_the_count() -> None:
    recording = Recording(max_kept=3)
    for _ in range(10):
        recording.add(_exchange)
    assert recording.mark() == 10
    assert [e.index for e in recording.since(0)] == [7, 8, 9]
    assert [e.index for e in recording.since(8)] == [8, 9]
    assert recording.since(10) == ()
    assert recording.dropped == 7


def test_it_keeps_the_latest_within_the_bytes() -> None:
    recording = Recording(max_bytes=12 * OVERHEAD)
    for _ in range(5):
        recording.add(lambda index: _exchange(index, b"x" * 2 * OVERHEAD))
    kept = recording.since(0)
    assert [e.index for e in kept] == [3, 4]  # each weighs 1 + 2x2 OVERHEADs and a bit
    huge = recording.add(lambda index: _exchange(index, b"x" * 100 * OVERHEAD))
    assert recording.since(0) == (huge,)  # the newest stays, however heavy


def test_listeners_see_every_exchange_in_order() -> None:
    recording = Recording(max_kept=2)
    seen: list[int] = []

    def listener(exchange: Exchange) -> None:
        seen.append(exchange.index)

    recording.listen(listener)
    for _ in range(5):
        recording.add(_exchange)
    recording.unlisten(listener)
    recording.add(_exchange)
    assert seen == [0, 1, 2, 3, 4]
