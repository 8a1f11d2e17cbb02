"""The exchange log: every exchange a run sent, as JSON lines (``check --record-exchanges``).

The JSON report keeps only evidence (a few exchanges per clause); the log keeps all of
them, in the order they were recorded, one JSON object a line, each written as its
exchange is recorded (:class:`ExchangeLog` listens to the target's
:class:`~conformance.recording.Recording`), so that a long run holds none of it in memory::

    {"index": 0, "method": "GET", "url": "http://127.0.0.1:8000/users/u/sessions",
     "headers": [["host", "127.0.0.1:8000"], ...], "body_base64": "",
     "status": 200, "error": null, "elapsed_ms": 1.7}

Bodies are base64 (a request body may be any bytes); secrets are redacted as in every
other output (``[REDACTED]`` in place of the token), so a replay puts the token back.
``status`` is null when no usable answer came (``error`` says why). The benchmarks replay
a log with a bare httpx loop to measure the harness's own cost per request.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from conformance.records import Exchange


@dataclass(frozen=True, slots=True)
class LoggedExchange:
    """One line of the log: the request as sent (secrets redacted), and its outcome."""

    index: int
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    status: int | None
    error: str | None
    elapsed_ms: float


def logged(exchange: Exchange) -> LoggedExchange:
    request = exchange.request
    return LoggedExchange(
        index=exchange.index,
        method=request.method,
        url=request.url,
        headers=request.headers,
        body=request.body,
        status=exchange.status,
        error=exchange.transport_error,
        elapsed_ms=round(exchange.elapsed_ms, 3),
    )


class ExchangeLog:
    """The log at ``path`` (replaced), one line per exchange given to it; a listener of a
    :class:`~conformance.recording.Recording`. A file that cannot be opened or written
    is kept in :attr:`error` (the run goes on) and ends the writing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.error: OSError | None = None
        self._out: TextIO | None = None
        try:
            self._out = path.open("w", encoding="utf-8")
        except OSError as exc:
            self.error = exc

    def __call__(self, exchange: Exchange) -> None:
        if self._out is None:
            return
        entry = logged(exchange)
        line = {
            "index": entry.index,
            "method": entry.method,
            "url": entry.url,
            "headers": [list(pair) for pair in entry.headers],
            "body_base64": base64.b64encode(entry.body).decode("ascii"),
            "status": entry.status,
            "error": entry.error,
            "elapsed_ms": entry.elapsed_ms,
        }
        try:
            self._out.write(json.dumps(line, ensure_ascii=False) + "\n")
        except OSError as exc:
            self.error = exc
            self.close()
        else:
            self.count += 1

    def close(self) -> None:
        out, self._out = self._out, None
        if out is None:
            return
        try:
            out.close()
        except OSError as exc:
            self.error = self.error or exc


def write_log(exchanges: Iterable[Exchange], path: Path) -> int:
    """Write ``exchanges`` to ``path`` as JSON lines; returns how many were written."""
    log = ExchangeLog(path)
    for exchange in exchanges:
        log(exchange)
    log.close()
    if log.error is not None:
        raise log.error
    return log.count


def read_log(path: Path) -> Iterator[LoggedExchange]:
    """The entries of a log written by :func:`write_log`; ``ValueError`` on a bad line."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                yield LoggedExchange(
                    index=int(item["index"]),
                    method=str(item["method"]),
                    url=str(item["url"]),
                    headers=tuple((str(k), str(v)) for k, v in item["headers"]),
                    body=base64.b64decode(item["body_base64"]),
                    status=None if item["status"] is None else int(item["status"]),
                    error=None if item["error"] is None else str(item["error"]),
                    elapsed_ms=float(item["elapsed_ms"]),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{number}: not an exchange log line ({exc})") from exc
