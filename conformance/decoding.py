"""Content-Encoding, decoded a bounded piece at a time: no answer can inflate past the cap.

httpx decodes a body one network chunk at a time, but each chunk in one call: 64 KiB of
gzip inflate to 64 MiB, and a second layer (``Content-Encoding: gzip, gzip``) turns a
2 KB body into a gigabyte in one step. Here every coding the harness accepts is a layer
that yields at most :data:`CHUNK` bytes per step and stops, raising :class:`Overflow`,
as soon as it has produced more than the cap: the innermost layer is the body the checks
read, and each layer between (a layer of nothing but empty blocks costs time too) is
held to the same cap. The codings are httpx's: ``gzip``, ``deflate`` (zlib-wrapped, or
raw as some servers send it), ``br`` when the ``brotli`` package can bound its output
(1.2 and later; ``brotlicffi`` likewise), ``zstd`` when ``zstandard`` is installed;
``identity`` and codings no one knows pass through as they are, as httpx does. An answer
with more than :data:`MAX_CODINGS` codings is not decoded (:class:`TooManyCodings`). A
coding that does not decode raises ``httpx.DecodingError``, as httpx would.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx

#: At most this many decoded bytes come out of a layer at a time.
CHUNK = 64 * 1024
#: The most codings one answer may stack (``gzip, gzip`` is two).
MAX_CODINGS = 4
#: What :attr:`Overflow.coding` says when the bytes on the wire were too many.
WIRE = "wire"


def _optional(*names: str) -> Any:
    """The first of these modules that imports (optional, as for httpx), or None."""
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


#: The C bindings of brotli, or the CFFI ones; zstandard.
_brotli = _optional("brotli", "brotlicffi")
_zstandard = _optional("zstandard")


class Overflow(Exception):
    """More bytes than the cap: on the wire (``coding`` is :data:`WIRE`), or out of a
    layer of decoding (``coding`` names it)."""

    def __init__(self, coding: str) -> None:
        super().__init__(coding)
        self.coding = coding


class TooManyCodings(httpx.DecodingError):
    """The answer stacks more codings than :data:`MAX_CODINGS`: it is not decoded."""


Layer = Callable[[Iterator[bytes]], Iterator[bytes]]


def _bounded_brotli() -> bool:
    """Whether the installed brotli can stop at an output limit (brotli 1.2)."""
    if _brotli is None:
        return False
    decompressor = _brotli.Decompressor()
    return hasattr(decompressor, "can_accept_more_data")


def accepted() -> tuple[str, ...]:
    """The codings the harness can decode within bounds (its ``Accept-Encoding``)."""
    codings = ["gzip", "deflate"]
    if _bounded_brotli():
        codings.append("br")
    if _zstandard is not None:
        codings.append("zstd")
    return tuple(codings)


def codings_of(headers: httpx.Headers) -> tuple[str, ...]:
    """The codings of an answer in the order they were applied, those that change the
    bytes only (``identity`` and unknown ones pass through, as in httpx)."""
    known = {"gzip", "deflate", "br", "zstd"}
    named = (v.strip().lower() for v in headers.get_list("content-encoding", split_commas=True))
    codings = tuple(coding for coding in named if coding in known)
    if len(codings) > MAX_CODINGS:
        raise TooManyCodings(
            f"Content-Encoding stacks {len(codings)} codings; the harness decodes at most "
            f"{MAX_CODINGS}"
        )
    return codings


def decoded(raw: Iterable[bytes], codings: tuple[str, ...], cap: int) -> Iterator[bytes]:
    """The body under ``codings`` (applied in that order), a chunk at a time; the bytes
    on the wire (``Overflow("wire")``) and each layer raise :class:`Overflow` once there
    are more than ``cap`` of them."""
    chunks = _capped(WIRE, iter(raw), cap)
    for coding in reversed(codings):
        chunks = _capped(coding, _LAYERS[coding](chunks), cap)
    return chunks


def _capped(coding: str, chunks: Iterator[bytes], cap: int) -> Iterator[bytes]:
    produced = 0
    for chunk in chunks:
        produced += len(chunk)
        if produced > cap:  # what fits is still the body, up to the cap
            yield chunk[: len(chunk) - (produced - cap)]
            raise Overflow(coding)
        if chunk:
            yield chunk


def _zlib(chunks: Iterator[bytes], wbits: int, *, raw_fallback: bool = False) -> Iterator[bytes]:
    decompressor = zlib.decompressobj(wbits)
    first = True
    for data in chunks:
        while data and not decompressor.eof:
            try:
                out = decompressor.decompress(data, CHUNK)
            except zlib.error as exc:
                if first and raw_fallback:  # a raw deflate stream, as IIS sends it
                    decompressor, raw_fallback = zlib.decompressobj(-zlib.MAX_WBITS), False
                    continue
                raise httpx.DecodingError(str(exc)) from exc
            first = False
            data = decompressor.unconsumed_tail
            yield out
        while not decompressor.eof:  # output held back for want of room, if any
            out = decompressor.decompress(b"", CHUNK)
            if not out:
                break
            yield out
    try:
        yield decompressor.flush()
    except zlib.error as exc:
        raise httpx.DecodingError(str(exc)) from exc


def _gzip(chunks: Iterator[bytes]) -> Iterator[bytes]:
    return _zlib(chunks, zlib.MAX_WBITS | 16)


def _deflate(chunks: Iterator[bytes]) -> Iterator[bytes]:
    return _zlib(chunks, zlib.MAX_WBITS, raw_fallback=True)


def _br(chunks: Iterator[bytes]) -> Iterator[bytes]:
    if not _bounded_brotli():
        raise httpx.DecodingError(
            "a br answer, and no brotli that can decode it within bounds "
            "(install brotli>=1.2 or brotlicffi>=1.2)"
        )
    decompressor = _brotli.Decompressor()
    step = getattr(decompressor, "process", None) or decompressor.decompress
    try:
        for data in chunks:
            yield step(data, output_buffer_limit=CHUNK)
            while not decompressor.can_accept_more_data():
                yield step(b"", output_buffer_limit=CHUNK)
    except _brotli.error as exc:
        raise httpx.DecodingError(str(exc)) from exc


class _Feed:
    """The raw chunks as a file zstandard's stream reader pulls from."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks

    def read(self, size: int = -1) -> bytes:
        return next(self._chunks, b"")


def _zstd(chunks: Iterator[bytes]) -> Iterator[bytes]:
    if _zstandard is None:
        raise httpx.DecodingError("a zstd answer, and zstandard is not installed")
    reader = _zstandard.ZstdDecompressor().stream_reader(
        _Feed(chunks), read_size=CHUNK, read_across_frames=True
    )
    try:
        while out := reader.read(CHUNK):
            yield out
    except _zstandard.ZstdError as exc:
        raise httpx.DecodingError(str(exc)) from exc


_LAYERS: dict[str, Layer] = {"gzip": _gzip, "deflate": _deflate, "br": _br, "zstd": _zstd}
