"""The saved report: the JSON report read back into typed records.

Every reporter but the console renders a :class:`SavedReport`, never the runner's
records directly: ``check --report-html`` turns its :class:`~conformance.records.RunReport`
into the JSON document and reads that back (:func:`saved`), and ``session-conformance
report REPORT.json`` reads the file (:func:`read_report`). So a report rendered from a
saved run is byte for byte the one the run itself wrote.

Errors: a file that is missing, not JSON or not valid against
``specs/report.schema.json`` raises :class:`ReportFileError` with one readable sentence.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from conformance.causes import Cause, Shape
from conformance.contract import REPORT_SCHEMA_FILE, report_schema
from conformance.records import RunReport, Verdict
from conformance.reporting.json_report import SCHEMA_VERSION, report_dict


class ReportFileError(Exception):
    """A file given as a JSON report is unreadable or not a valid report."""


Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class SavedBody:
    #: The body as text, or base64 when it was not UTF-8; cut with a visible marker.
    text: str
    encoding: str
    #: The body's full size in bytes (before any cut).
    size: int

    def raw(self) -> bytes:
        """The saved bytes (the cut marker included when the body was cut)."""
        if self.encoding == "base64":
            try:
                return base64.b64decode(self.text.split("…[cut:", 1)[0], validate=False)
            except ValueError:
                return self.text.encode("utf-8")
        return self.text.encode("utf-8")


@dataclass(frozen=True, slots=True)
class SavedRequest:
    method: str
    url: str
    headers: Headers
    body: SavedBody


@dataclass(frozen=True, slots=True)
class SavedResponse:
    status: int
    headers: Headers
    body: SavedBody
    truncated: bool

    @property
    def content_type(self) -> str | None:
        values = [value for name, value in self.headers if name.lower() == "content-type"]
        return ", ".join(values) if values else None


@dataclass(frozen=True, slots=True)
class SavedExchange:
    index: int
    request: SavedRequest
    response: SavedResponse | None
    transport_error: str | None
    elapsed_ms: float
    curl: str


@dataclass(frozen=True, slots=True)
class SavedFinding:
    message: str
    expected: str
    exchange: SavedExchange | None
    steps: tuple[SavedExchange, ...]
    #: The steps as a shell script (``conformance.reporting.sequence``); "" without steps.
    script: str = ""


@dataclass(frozen=True, slots=True)
class SavedClause:
    id: str
    family: str
    level: str
    statement: str
    verdict: Verdict
    summary: str
    seed: int
    duration_ms: float
    replay: str
    findings: tuple[SavedFinding, ...]
    evidence: tuple[SavedExchange, ...]


@dataclass(frozen=True, slots=True)
class SavedReport:
    tool: str
    version: str
    target: str
    profile: str
    seed: int
    started_at: str
    duration_ms: float
    settings: tuple[tuple[str, str], ...]
    replay: str
    notes: tuple[str, ...]
    clauses: tuple[SavedClause, ...]
    #: The failed clauses by cause, most clauses first (:mod:`conformance.causes`).
    causes: tuple[Cause, ...] = ()
    #: The run was cut short by a signal.
    was_interrupted: bool = False

    def totals(self) -> dict[str, int]:
        counts = {verdict.value: 0 for verdict in Verdict}
        for clause in self.clauses:
            counts[clause.verdict.value] += 1
        counts["total"] = len(self.clauses)
        return counts

    def families(self) -> tuple[str, ...]:
        """The clause families, in the order the run met them."""
        return tuple(dict.fromkeys(clause.family for clause in self.clauses))

    def by_verdict(self, verdict: Verdict) -> tuple[SavedClause, ...]:
        return tuple(clause for clause in self.clauses if clause.verdict is verdict)

    def interrupted(self) -> bool:
        return self.was_interrupted


def saved(report: RunReport) -> SavedReport:
    """What a run's JSON report reads back as (no file involved)."""
    return parse_report(report_dict(report))


def read_report(path: Path) -> SavedReport:
    """Read and validate a JSON report, or raise :class:`ReportFileError`."""
    return parse_report(read_json(path), source=str(path))


def read_json(path: Path) -> object:
    """A file's JSON document (not yet validated), or raise :class:`ReportFileError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportFileError(
            f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}"
        ) from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ReportFileError(f"{path} is not JSON: {exc}") from exc


def parse_report(data: object, *, source: str = "the report") -> SavedReport:
    """Validate a decoded JSON report against its schema and read it into records."""
    if isinstance(data, dict) and data.get("schema_version") not in (None, SCHEMA_VERSION):
        raise ReportFileError(
            f"{source} has schema_version {data.get('schema_version')!r}; this "
            f"session-conformance reads version {SCHEMA_VERSION}"
        )
    validator = jsonschema.Draft202012Validator(report_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        raise ReportFileError(
            f"{source} is not a session-conformance JSON report ({REPORT_SCHEMA_FILE}): "
            f"at {where}: {_short(error.message)}"
        )
    assert isinstance(data, dict)
    report = SavedReport(
        tool=data["tool"],
        version=data["version"],
        target=data["target"],
        profile=data["profile"],
        seed=data["seed"],
        started_at=data["started_at"],
        duration_ms=float(data["duration_ms"]),
        settings=tuple((str(k), str(v)) for k, v in data["settings"].items()),
        replay=data["replay"],
        notes=tuple(data["notes"]),
        clauses=tuple(_clause(item) for item in data["clauses"]),
        was_interrupted=bool(data.get("interrupted", False)),
    )
    causes = data.get("causes")
    report = dataclasses.replace(
        report,
        causes=tuple(_cause(c) for c in causes) if causes is not None else _alone(report),
    )
    if report.totals() != data["totals"]:
        raise ReportFileError(
            f"{source} is inconsistent: its totals {data['totals']} do not count its "
            f"clauses {report.totals()}"
        )
    return report


def _cause(item: Mapping[str, Any]) -> Cause:
    shape = item["shape"]
    return Cause(
        shape=None
        if shape is None
        else Shape(shape["method"], shape["role"], shape["expected"], shape["answered"]),
        clauses=tuple(item["clauses"]),
        example=item["example"],
    )


def _alone(report: SavedReport) -> tuple[Cause, ...]:
    """A report written before causes: each failed clause is a cause of its own."""
    return tuple(
        Cause(shape=None, clauses=(clause.id,), example=clause.summary)
        for clause in report.by_verdict(Verdict.FAILED)
    )


def _clause(item: Mapping[str, Any]) -> SavedClause:
    return SavedClause(
        id=item["id"],
        family=item["family"],
        level=item["level"],
        statement=item["statement"],
        verdict=Verdict(item["verdict"]),
        summary=item["summary"],
        seed=item["seed"],
        duration_ms=float(item["duration_ms"]),
        replay=item["replay"],
        findings=tuple(_finding(f) for f in item["findings"]),
        evidence=tuple(_exchange(e) for e in item["evidence"]),
    )


def _finding(item: Mapping[str, Any]) -> SavedFinding:
    exchange = item["exchange"]
    return SavedFinding(
        message=item["message"],
        expected=item["expected"],
        exchange=None if exchange is None else _exchange(exchange),
        steps=tuple(_exchange(step) for step in item["steps"]),
        script=item.get("script", ""),
    )


def _exchange(item: Mapping[str, Any]) -> SavedExchange:
    request = item["request"]
    response = item["response"]
    return SavedExchange(
        index=item["index"],
        request=SavedRequest(
            method=request["method"],
            url=request["url"],
            headers=_headers(request["headers"]),
            body=_body(request["body"]),
        ),
        response=None
        if response is None
        else SavedResponse(
            status=response["status"],
            headers=_headers(response["headers"]),
            body=_body(response["body"]),
            truncated=response["truncated"],
        ),
        transport_error=item["transport_error"],
        elapsed_ms=float(item["elapsed_ms"]),
        curl=item["curl"],
    )


def _headers(pairs: list[list[str]]) -> Headers:
    return tuple((name, value) for name, value in pairs)


def _body(item: Mapping[str, Any]) -> SavedBody:
    return SavedBody(text=item["text"], encoding=item["encoding"], size=item["bytes"])


def _short(message: str, width: int = 200) -> str:
    return message if len(message) <= width else message[: width - 1] + "…"
