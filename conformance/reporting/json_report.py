"""The JSON report: one document per run, described by ``specs/report.schema.json``."""

from __future__ import annotations

import base64
import json
import os
import tempfile
from pathlib import Path

from conformance.causes import Cause, causes_of
from conformance.records import (
    BODY_PREVIEW_BYTES,
    ClauseResult,
    Exchange,
    Finding,
    JSONValue,
    RequestRecord,
    ResponseRecord,
    RunReport,
)
from conformance.reporting.curl import curl
from conformance.reporting.sequence import script

SCHEMA_VERSION = 1


def body_preview(body: bytes) -> dict[str, JSONValue]:
    """A body as text (or base64 when not UTF-8), cut at the preview size with a marker."""
    shown = body[:BODY_PREVIEW_BYTES]
    cut = len(body) - len(shown)
    try:
        text, encoding = shown.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(shown).decode("ascii"), "base64"
    if cut:
        text += f"…[cut: {cut} more bytes]"
    return {"text": text, "encoding": encoding, "bytes": len(body)}


def _request(request: RequestRecord) -> dict[str, JSONValue]:
    return {
        "method": request.method,
        "url": request.url,
        "headers": [[name, value] for name, value in request.headers],
        "body": body_preview(request.body),
    }


def _response(response: ResponseRecord) -> dict[str, JSONValue]:
    return {
        "status": response.status,
        "headers": [[name, value] for name, value in response.headers],
        "body": body_preview(response.body),
        "truncated": response.truncated,
    }


def exchange_dict(exchange: Exchange) -> dict[str, JSONValue]:
    return {
        "index": exchange.index,
        "request": _request(exchange.request),
        "response": None if exchange.response is None else _response(exchange.response),
        "transport_error": exchange.transport_error,
        "elapsed_ms": round(exchange.elapsed_ms, 3),
        "curl": curl(exchange.request),
    }


def _finding(finding: Finding) -> dict[str, JSONValue]:
    return {
        "message": finding.message,
        "expected": finding.expected,
        "exchange": None if finding.exchange is None else exchange_dict(finding.exchange),
        "steps": [exchange_dict(step) for step in finding.steps],
        "script": "\n".join(script(finding.steps, expected=finding.expected)),
    }


def replay_command(report: RunReport, result: ClauseResult) -> str:
    return f"{report.replay} --clause {result.clause_id}" if report.replay else ""


def _clause(report: RunReport, result: ClauseResult) -> dict[str, JSONValue]:
    return {
        "id": result.clause_id,
        "family": result.family,
        "level": result.level,
        "statement": result.statement,
        "verdict": result.verdict.value,
        "summary": result.summary,
        "seed": result.seed,
        "duration_ms": round(result.duration_ms, 3),
        "replay": replay_command(report, result),
        "findings": [_finding(f) for f in result.findings],
        "evidence": [exchange_dict(e) for e in result.exchanges],
    }


def report_dict(report: RunReport) -> dict[str, JSONValue]:
    totals: dict[str, JSONValue] = dict(report.totals())
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": report.tool,
        "version": report.version,
        "target": report.target,
        "profile": report.profile,
        "seed": report.seed,
        "started_at": report.started_at,
        "duration_ms": round(report.duration_ms, 3),
        "settings": dict(report.settings),
        "replay": report.replay,
        "notes": list(report.notes),
        "interrupted": report.interrupted,
        "totals": totals,
        "clauses": [_clause(report, r) for r in report.results],
        "causes": [cause_dict(c) for c in causes_of(report.results)],
    }


def cause_dict(cause: Cause) -> dict[str, JSONValue]:
    shape = cause.shape
    return {
        "shape": None
        if shape is None
        else {
            "method": shape.method,
            "role": shape.role,
            "expected": shape.expected,
            "answered": shape.answered,
        },
        "clauses": list(cause.clauses),
        "example": cause.example,
    }


def write_json_report(report: RunReport, path: Path) -> None:
    """Write atomically: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
