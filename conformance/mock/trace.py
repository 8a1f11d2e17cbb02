"""The trace: every exchange the mock served, one JSON object per line (JSONL).

The validation proxy (:mod:`conformance.proxy`) writes the same format for a real
backend's traffic: its header says ``recorder: proxy`` and names the ``upstream``, and
an exchange something cut short says what in its ``error``.

The first line is the *header* (what the mock was: its layout, modes and settings);
every later line is one *exchange*: the request as the client sent it, the response the
mock gave, and when each happened, in seconds since the mock started (one monotonic
clock, so intervals between lines are exact). ``specs/trace.schema.json`` describes
both kinds of line; :func:`read_trace` validates every line against it.

Lines are written when a response ends, so they are in the order exchanges finished;
readers sort by ``started``. A trace never holds a secret: the bearer token and cookies
are redacted before a line is written.
"""

from __future__ import annotations

import base64
import datetime
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import jsonschema

from conformance import __version__
from conformance.contract import ContractFileError, load_document, specs_dir
from conformance.records import Exchange, JSONValue, RequestRecord, ResponseRecord

TRACE_SCHEMA_FILE = "trace.schema.json"
SCHEMA_VERSION = 1
#: Bodies longer than this are cut in the trace (``truncated`` says so).
MAX_BODY_BYTES = 256 * 1024


class TraceError(Exception):
    """A trace file that cannot be read: missing, not JSONL, or not the documented shape."""


@dataclass(frozen=True, slots=True)
class TraceHeader:
    """What the mock was when it recorded: the first line of a trace."""

    base_url: str
    layout: str
    modes: tuple[str, ...]
    settings: tuple[tuple[str, JSONValue], ...]
    started_at: str
    version: str = __version__
    #: ``mock`` (the reference answered) or ``proxy`` (a real backend answered).
    recorder: str = "mock"
    #: For a proxy trace: the backend it forwarded to (credentials as a variable).
    upstream: str | None = None

    def setting(self, name: str) -> JSONValue:
        return dict(self.settings).get(name)


@dataclass(frozen=True, slots=True)
class TraceExchange:
    """One recorded exchange: ``started``/``ended`` are seconds since the mock started.

    ``injected`` names the adversarial mode that made the response (``create-5xx``,
    ``status-503``), or is None when the reference answered on its own.
    """

    seq: int
    started: float
    ended: float
    exchange: Exchange
    injected: str | None = None
    client: str | None = None
    #: What cut the exchange short (a hang-up, an unreachable upstream), if anything.
    error: str | None = None

    @property
    def request(self) -> RequestRecord:
        return self.exchange.request

    @property
    def response(self) -> ResponseRecord | None:
        return self.exchange.response


@dataclass(frozen=True, slots=True)
class Trace:
    path: str
    header: TraceHeader
    exchanges: tuple[TraceExchange, ...]


# -- writing ------------------------------------------------------------------------------


def _body(raw: bytes, truncated: bool) -> dict[str, JSONValue]:
    try:
        text, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(raw).decode("ascii"), "base64"
    return {"text": text, "encoding": encoding, "bytes": len(raw), "truncated": truncated}


def header_line(header: TraceHeader) -> dict[str, JSONValue]:
    line: dict[str, JSONValue] = {
        "kind": "header",
        "schema_version": SCHEMA_VERSION,
        "tool": "session-conformance",
        "version": header.version,
        "started_at": header.started_at,
        "base_url": header.base_url,
        "layout": header.layout,
        "modes": list(header.modes),
        "settings": dict(header.settings),
    }
    if header.recorder != "mock":
        line["recorder"] = header.recorder
    if header.upstream is not None:
        line["upstream"] = header.upstream
    return line


def exchange_line(
    item: TraceExchange, *, path: str, query: str, request_truncated: bool = False
) -> dict[str, JSONValue]:
    request = item.request
    response = item.response
    line: dict[str, JSONValue] = {
        "kind": "exchange",
        "seq": item.seq,
        "started": round(item.started, 6),
        "ended": round(item.ended, 6),
        "client": item.client,
        "injected": item.injected,
        "request": {
            "method": request.method,
            "path": path,
            "query": query,
            "headers": [[name, value] for name, value in request.headers],
            "body": _body(request.body, request_truncated),
        },
        "response": None
        if response is None
        else {
            "status": response.status,
            "headers": [[name, value] for name, value in response.headers],
            "body": _body(response.body, response.truncated),
        },
    }
    if item.error is not None:
        line["error"] = item.error
    return line


class TraceWriter:
    """Appends lines to a trace file, one whole line at a time, flushed at once (a
    client's test may read the trace while the mock still serves)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._handle: IO[str] | None = None
        self._seq = 0

    def open(self, header: TraceHeader) -> None:
        """Start the file afresh (an existing trace is replaced) with its header line."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            if self._handle is not None:
                self._handle.close()
            self._handle = self.path.open("w", encoding="utf-8")
            self._write(header_line(header))

    def next_seq(self) -> int:
        with self._lock:
            seq = self._seq
            self._seq += 1
            return seq

    def write(self, line: dict[str, JSONValue]) -> None:
        with self._lock:
            if self._handle is not None:
                self._write(line)

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None

    def _write(self, line: dict[str, JSONValue]) -> None:
        assert self._handle is not None
        self._handle.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._handle.flush()


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


# -- reading ------------------------------------------------------------------------------


def trace_schema() -> dict[str, Any]:
    try:
        return load_document(specs_dir() / TRACE_SCHEMA_FILE)
    except ContractFileError as exc:
        raise TraceError(str(exc)) from exc


def read_trace(path: Path) -> Trace:
    """Read and validate a trace; :class:`TraceError` names the line that is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TraceError(f"{path}: no such file") from None
    except OSError as exc:
        raise TraceError(f"{path}: cannot read it: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise TraceError(f"{path}: not a UTF-8 text file, so not a trace") from None
    validator = jsonschema.Draft202012Validator(trace_schema())
    header: TraceHeader | None = None
    exchanges: list[TraceExchange] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise TraceError(f"{where}: not a JSON object ({exc})") from None
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
        if errors:
            first = errors[0]
            at = "/".join(str(p) for p in first.absolute_path) or "(the line)"
            raise TraceError(f"{where}: not a trace line: at {at}: {first.message}")
        if data["kind"] == "header":
            if header is not None or exchanges:
                raise TraceError(f"{where}: a header line may only come first")
            header = _header(data)
        elif header is None:
            raise TraceError(f"{where}: the first line must be the trace header")
        else:
            exchanges.append(_exchange(data, header.base_url, where))
    if header is None:
        raise TraceError(f"{path}: empty: no header line (was it written by the mock?)")
    exchanges.sort(key=lambda item: (item.started, item.seq))
    return Trace(path=str(path), header=header, exchanges=tuple(exchanges))


def _header(data: dict[str, Any]) -> TraceHeader:
    return TraceHeader(
        base_url=data["base_url"],
        layout=data["layout"],
        modes=tuple(data["modes"]),
        settings=tuple(data["settings"].items()),
        started_at=data["started_at"],
        version=data["version"],
        recorder=data.get("recorder", "mock"),
        upstream=data.get("upstream"),
    )


def _decode(body: dict[str, Any], where: str) -> bytes:
    if body["encoding"] == "base64":
        try:
            return base64.b64decode(body["text"], validate=True)
        except ValueError:
            raise TraceError(f"{where}: a base64 body is not base64") from None
    raw: bytes = body["text"].encode("utf-8", "surrogatepass")
    return raw


def _exchange(data: dict[str, Any], base_url: str, where: str) -> TraceExchange:
    req = data["request"]
    target = req["path"] + (f"?{req['query']}" if req["query"] else "")
    request = RequestRecord(
        method=req["method"],
        url=base_url.rstrip("/") + target,
        headers=tuple((name, value) for name, value in req["headers"]),
        body=_decode(req["body"], where),
    )
    response = None
    if data["response"] is not None:
        res = data["response"]
        response = ResponseRecord(
            status=res["status"],
            headers=tuple((name, value) for name, value in res["headers"]),
            body=_decode(res["body"], where),
            truncated=res["body"]["truncated"],
        )
    started, ended = float(data["started"]), float(data["ended"])
    if ended < started:
        raise TraceError(f"{where}: the exchange ends ({ended}) before it starts ({started})")
    error = data.get("error")
    exchange = Exchange(
        index=data["seq"],
        request=request,
        response=response,
        transport_error=error or (None if response is not None else "the client went away first"),
        elapsed_ms=(ended - started) * 1000,
    )
    return TraceExchange(
        seq=data["seq"],
        started=started,
        ended=ended,
        exchange=exchange,
        injected=data["injected"],
        client=data["client"],
        error=error,
    )
