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
class View:
    """A response as the contract's canonical layout would have said it, computed by a
    profile (:mod:`conformance.profile.decoding`); the raw response stays the evidence."""

    #: The profile that computed it.
    profile: str
    #: The status the contract names for it (a layout's 200 for create reads as 201).
    status: int
    #: The canonical JSON body (None: not JSON).
    body: JSONValue | None
    #: Canonical pointers the layout does not have (``*`` for any index), each with why.
    absent: tuple[tuple[str, str], ...] = ()
    #: For an error: what is wrong with it as the profile's envelope (empty: nothing).
    problems: tuple[str, ...] = ()
    #: For a stream: the body with each ``data:`` frame's Event in canonical form.
    stream: bytes | None = None
    #: For a stream: pointers each frame's Event does not have in the layout, with why.
    frame_absent: tuple[tuple[str, str], ...] = ()
    #: The request body as the check wrote it, in the contract's terms (None: none, or
    #: not JSON).
    sent: JSONValue | None = None
    #: For a create's answer: where the raw answer names the new session (a JSON pointer,
    #: ``location`` or ``header:NAME``; "": not a create, or nowhere the profile knows).
    created_id: str = ""


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request sent to the target and the response (or transport error) it got."""

    index: int
    request: RequestRecord
    response: ResponseRecord | None
    transport_error: str | None = None
    elapsed_ms: float = 0.0
    #: The canonical view of the response, when the target's profile is not canonical.
    view: View | None = None
    #: The role of the protocol the request was sent for (``run``, ``get`` ...; None: a
    #: request for no role, e.g. to an unknown route).
    role: str | None = None

    @property
    def status(self) -> int | None:
        if self.view is not None:
            return self.view.status
        return None if self.response is None else self.response.status

    def body_json(self) -> JSONValue | None:
        if self.view is not None:
            return self.view.body
        return None if self.response is None else self.response.json_or_none()

    def sent_json(self) -> JSONValue | None:
        """The JSON request body in the contract's terms (None: no JSON body)."""
        if self.view is not None:
            return self.view.sent
        try:
            return json.loads(self.request.body.decode("utf-8"), parse_constant=_reject_constant)  # type: ignore[no-any-return]
        except (ValueError, UnicodeDecodeError):
            return None

    def stream_body(self) -> bytes:
        """The body of a stream, its frames in canonical form (the raw body if no view)."""
        if self.view is not None and self.view.stream is not None:
            return self.view.stream
        return b"" if self.response is None else self.response.body


@dataclass(frozen=True, slots=True)
class Finding:
    """One violation of a clause, with what was expected and the exchange that shows it."""

    message: str
    expected: str
    exchange: Exchange | None = None
    steps: tuple[Exchange, ...] = ()
    #: The status the clause wanted instead, when it wanted one (None: no single status,
    #: e.g. "a 4xx" or a body property); with the exchange, what the failure's cause is
    #: grouped by (:mod:`conformance.causes`).
    expected_status: int | None = None


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
    #: The run was cut short by a signal (its results are what was decided before).
    interrupted: bool = False

    def totals(self) -> dict[str, int]:
        counts = {verdict.value: 0 for verdict in Verdict}
        for result in self.results:
            counts[result.verdict.value] += 1
        counts["total"] = len(self.results)
        return counts
