"""JUnit XML, for the test tabs of CI systems (GitHub, GitLab, Jenkins, Azure).

One ``<testsuite>`` per clause family and one ``<testcase>`` per clause, named by the
clause id with the family as ``classname``. A ``failed`` clause carries a ``<failure>``
whose text is the console's failure block (sent, expected, received, curl, replay); a
``not_applicable`` clause is ``<skipped>`` with the reason; an ``error`` clause is an
``<error>`` with what the harness could not decide. Characters XML 1.0 cannot hold
(a target may answer NUL bytes) are written as ``\\xNN``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from conformance.records import Verdict
from conformance.reporting.failure_block import failure_block
from conformance.reporting.saved import SavedClause, SavedReport

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_junit(report: SavedReport) -> str:
    totals = report.totals()
    root = ET.Element(
        "testsuites",
        name="session-conformance",
        tests=str(totals["total"]),
        failures=str(totals["failed"]),
        errors=str(totals["error"]),
        skipped=str(totals["not_applicable"]),
        time=_seconds(report.duration_ms),
    )
    for family in report.families():
        members = [c for c in report.clauses if c.family == family]
        suite = ET.SubElement(
            root,
            "testsuite",
            name=family,
            tests=str(len(members)),
            failures=str(sum(c.verdict is Verdict.FAILED for c in members)),
            errors=str(sum(c.verdict is Verdict.ERROR for c in members)),
            skipped=str(sum(c.verdict is Verdict.NOT_APPLICABLE for c in members)),
            time=_seconds(sum(c.duration_ms for c in members)),
            timestamp=report.started_at,
        )
        properties = ET.SubElement(suite, "properties")
        for name, value in _properties(report):
            ET.SubElement(properties, "property", name=name, value=_xml(value))
        for clause in members:
            _testcase(suite, clause)
    if report.notes:
        ET.SubElement(root, "system-err").text = _xml("\n".join(report.notes))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _properties(report: SavedReport) -> list[tuple[str, str]]:
    return [
        ("target", report.target),
        ("seed", str(report.seed)),
        ("profile", report.profile),
        ("tool_version", report.version),
        ("replay", report.replay),
        *((f"setting.{name}", value) for name, value in report.settings),
    ]


def _testcase(suite: ET.Element, clause: SavedClause) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        name=clause.id,
        classname=clause.family,
        time=_seconds(clause.duration_ms),
    )
    headline = _xml(f"[{clause.level}] {clause.summary}")
    if clause.verdict is Verdict.FAILED:
        failure = ET.SubElement(case, "failure", message=headline, type=f"{clause.level} clause")
        failure.text = _xml("\n".join(failure_block(clause)))
    elif clause.verdict is Verdict.ERROR:
        error = ET.SubElement(case, "error", message=headline, type="undecided")
        error.text = _xml("\n".join(failure_block(clause)))
    elif clause.verdict is Verdict.NOT_APPLICABLE:
        ET.SubElement(case, "skipped", message=_xml(clause.summary))
    out = f"{clause.statement}\n{clause.summary}"
    if clause.replay:
        out += f"\nreplay: {clause.replay}"
    ET.SubElement(case, "system-out").text = _xml(out)


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.3f}"


def _xml(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
