"""Immutable records: exchanges, findings, verdicts and results.

An *exchange* is one request and what came back (or the transport error that came
instead). A *finding* is one way an exchange broke a clause. A clause's *result* is its
verdict with the evidence. Records never hold secrets in clear: redaction happens when an
exchange is recorded (see :mod:`conformance.redaction`).
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field

JSONValue = None | bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"]

#: Bodies longer than this are cut in records, with a visible marker.
BODY_PREVIEW_BYTES = 4096


class Verdict(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class RequestRecord:
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)


@dataclass(frozen=True, slots=True)
class ResponseRecord:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    truncated: bool = False

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)

    @property
    def media_type(self) -> str:
        value = self.header("content-type") or ""
        return value.split(";", 1)[0].strip().lower()

    def json(self) -> JSONValue:
        """The body parsed as strict JSON; raises ``ValueError`` if it is not JSON."""
        return json.loads(self.body.decode("utf-8"), parse_constant=_reject_constant)  # type: ignore[no-any-return]

    def json_or_none(self) -> JSONValue | None:
        try:
            return self.json()
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request sent to the target and the response (or transport error) it got."""

    index: int
    request: RequestRecord
    response: ResponseRecord | None
    transport_error: str | None = None
    elapsed_ms: float = 0.0

    @property
    def status(self) -> int | None:
        return None if self.response is None else self.response.status

    def body_json(self) -> JSONValue | None:
        return None if self.response is None else self.response.json_or_none()


@dataclass(frozen=True, slots=True)
class Finding:
    """One violation of a clause, with what was expected and the exchange that shows it."""

    message: str
    expected: str
    exchange: Exchange | None = None
    steps: tuple[Exchange, ...] = ()


@dataclass(frozen=True, slots=True)
class ClauseResult:
    clause_id: str
    family: str
    level: str
    statement: str
    verdict: Verdict
    summary: str
    seed: int
    duration_ms: float
    findings: tuple[Finding, ...] = ()
    exchanges: tuple[Exchange, ...] = field(default_factory=tuple)


def _header(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    wanted = name.lower()
    values = [value for key, value in headers if key.lower() == wanted]
    return ", ".join(values) if values else None


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


@dataclass(frozen=True, slots=True)
class RunReport:
    """Everything one run decided: the header facts and one result per clause."""

    tool: str
    version: str
    target: str
    profile: str
    seed: int
    started_at: str
    duration_ms: float
    results: tuple[ClauseResult, ...]
    settings: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    #: The command that replays this run; ``--clause ID`` appended replays one clause.
    replay: str = ""

    def totals(self) -> dict[str, int]:
        counts = {verdict.value: 0 for verdict in Verdict}
        for result in self.results:
            counts[result.verdict.value] += 1
        counts["total"] = len(self.results)
        return counts
