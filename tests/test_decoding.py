"""Bodies are decoded a bounded piece at a time (``conformance.decoding``): every coding
httpx knows, stacked or not, round-trips; a bomb stops at the cap in whichever layer
crosses it, having never held more than a chunk beyond it; and the target applies it to
sockets and in-process apps alike."""

from __future__ import annotations

import importlib.util
import zlib
from collections.abc import Iterator

import httpx
import pytest

from conformance.decoding import (
    CHUNK,
    MAX_CODINGS,
    WIRE,
    Overflow,
    TooManyCodings,
    accepted,
    codings_of,
    decoded,
)
from conformance.target import Limits, ResponseTooLarge, Target
from fixtures.hostile.bombs import GIB, bomb, brotli_module, encode

PLAIN = b'{"session_id":"sc-1","turns":0}' * 500
MIB = 1024 * 1024
needs_brotli = pytest.mark.skipif(brotli_module() is None, reason="brotli is not installed")
needs_zstd = pytest.mark.skipif(
    importlib.util.find_spec("zstandard") is None, reason="zstandard is not installed"
)


def _wire(body: bytes, size: int = 1000) -> Iterator[bytes]:
    return (body[i : i + size] for i in range(0, len(body), size))


def _drain(chunks: Iterator[bytes], sizes: list[int] | None = None) -> None:
    """Read ``chunks`` to the end, noting each one's size; none is ever longer than two
    steps of a layer (never a whole layer at once)."""
    for chunk in chunks:
        assert len(chunk) <= 2 * CHUNK
        if sizes is not None:
            sizes.append(len(chunk))


def _apply(codings: tuple[str, ...], data: bytes) -> bytes:
    for coding in codings:
        data = encode(coding, data)
    return data


@pytest.mark.parametrize(
    "codings",
    [
        pytest.param(("gzip",), id="gzip"),
        pytest.param(("deflate",), id="deflate"),
        pytest.param(("gzip", "gzip"), id="gzip-gzip"),
        pytest.param(("deflate", "gzip"), id="deflate-gzip"),
        pytest.param(("br",), id="br", marks=needs_brotli),
        pytest.param(("gzip", "br"), id="gzip-br", marks=needs_brotli),
    ],
)
def test_every_coding_round_trips(codings: tuple[str, ...]) -> None:
    assert b"".join(decoded(_wire(_apply(codings, PLAIN)), codings, len(PLAIN))) == PLAIN


def test_raw_deflate_decodes_as_in_httpx() -> None:
    raw = zlib.compress(PLAIN)[2:-4]  # no zlib wrapper, as some servers send it
    assert b"".join(decoded(_wire(raw), ("deflate",), MIB)) == PLAIN


@needs_zstd
def test_zstd_frames_round_trip_and_a_zstd_bomb_stops() -> None:
    import zstandard

    frames = zstandard.ZstdCompressor().compress(PLAIN) * 2
    assert b"".join(decoded(_wire(frames), ("zstd",), MIB)) == PLAIN * 2
    writer = zstandard.ZstdCompressor().compressobj()
    zeros = b"".join([writer.compress(b"\0" * MIB) for _ in range(256)] + [writer.flush()])
    chunks = decoded(_wire(zeros), ("zstd",), 4 * MIB)
    with pytest.raises(Overflow):
        _drain(chunks)


def test_identity_and_unknown_codings_pass_through_as_in_httpx() -> None:
    headers = httpx.Headers([("Content-Encoding", "identity, x-made-up"), ("X", "y")])
    assert codings_of(headers) == ()
    headers = httpx.Headers([("Content-Encoding", "GZIP, identity"), ("Content-Encoding", "br")])
    assert codings_of(headers) == ("gzip", "br")


def test_more_codings_than_the_most_is_not_decoded() -> None:
    headers = httpx.Headers({"Content-Encoding": ", ".join(["gzip"] * (MAX_CODINGS + 1))})
    with pytest.raises(TooManyCodings, match=f"at most {MAX_CODINGS}"):
        codings_of(headers)


def test_what_is_not_the_coding_it_says_is_a_decoding_error() -> None:
    with pytest.raises(httpx.DecodingError, match="incorrect header check"):
        b"".join(decoded(_wire(b"not gzip at all"), ("gzip",), MIB))


@pytest.mark.parametrize(
    ("codings", "crossing"),
    [
        pytest.param(("gzip", "gzip"), "gzip", id="gzip-gzip"),
        pytest.param(("deflate", "deflate"), "deflate", id="deflate-deflate"),
        pytest.param(("gzip",), "gzip", id="gzip"),
        pytest.param(("br",), "br", id="br", marks=needs_brotli),
    ],
)
def test_a_bomb_stops_at_the_cap_a_chunk_at_a_time(codings: tuple[str, ...], crossing: str) -> None:
    body = bomb(codings, GIB)
    sizes: list[int] = []
    with pytest.raises(Overflow) as stopped:
        _drain(decoded(_wire(body, 64 * 1024), codings, 4 * MIB), sizes)
    assert stopped.value.coding == crossing
    assert sum(sizes) == 4 * MIB  # the body up to the cap, kept as evidence


def test_an_intermediate_layer_is_held_to_the_cap_too() -> None:
    """The inner layer here decodes to two bytes (all after its member is ignored), but
    the outer one to 8 MiB: held to the cap as well, it stops there."""
    inner = encode("gzip", b"{}") + b"\0" * (8 * MIB)  # junk after the member: ignored
    with pytest.raises(Overflow) as stopped:
        b"".join(decoded(_wire(encode("gzip", inner), 64 * 1024), ("gzip", "gzip"), 4 * MIB))
    assert stopped.value.coding == "gzip"


def test_the_harness_asks_only_for_codings_it_bounds() -> None:
    assert accepted()[:2] == ("gzip", "deflate")
    with Target("http://127.0.0.1:9") as target:
        built = target._client.build_request("GET", "http://127.0.0.1:9/")
    assert built.headers["accept-encoding"] == ", ".join(accepted())


def _gzip_app(body: bytes) -> object:
    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-encoding", b"gzip")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": body})  # type: ignore[operator]

    return app


def test_an_in_process_app_is_decoded_once_and_within_bounds() -> None:
    with Target(app=_gzip_app(encode("gzip", PLAIN))) as target:  # type: ignore[arg-type]
        exchange = target.send("GET", "/users/u/sessions")
    assert exchange.response is not None
    assert exchange.response.body == PLAIN
    app = _gzip_app(bomb(("gzip", "gzip"), GIB))
    with Target(app=app, limits=Limits(max_response_bytes=MIB)) as target:  # type: ignore[arg-type]
        with pytest.raises(
            ResponseTooLarge, match=r"more than 1048576 bytes once decoded \(gzip\)"
        ):
            target.send("GET", "/users/u/sessions")
        (cut,) = target.since(0)
    assert cut.response is not None
    assert cut.response.truncated
    assert len(cut.response.body) == MIB


def test_the_bytes_on_the_wire_are_capped_with_or_without_a_coding() -> None:
    sizes: list[int] = []
    with pytest.raises(Overflow) as stopped:
        _drain(decoded(_wire(b" " * (3 * MIB), 64 * 1024), (), MIB), sizes)
    assert stopped.value.coding == WIRE
    assert sum(sizes) == MIB
    junk = encode("gzip", b"{}") + b"\0" * (2 * MIB)  # decodes to two bytes
    with pytest.raises(Overflow) as stopped:
        _drain(decoded(_wire(junk, 64 * 1024), ("gzip",), MIB))
    assert stopped.value.coding == WIRE
