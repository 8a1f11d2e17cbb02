"""A real LangGraph API server (``langgraph dev``) as a target, checked with the
``langgraph`` profile.

The live tests start ``langgraph dev`` from a clean folder on 127.0.0.1 (random port,
analytics, version check and tracing off, the echo fixture graph: no model, no network;
:mod:`fixtures.langgraph_app.server`). They are skipped when there is no ``langgraph``
executable (``.venv-langgraph``, made from ``fixtures/langgraph_app/requirements.txt``; CI
makes it), unless ``SESSION_CONFORMANCE_REQUIRE_LANGGRAPH`` is set, when they fail.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.reporting.saved import read_report
from fixtures.langgraph_app.server import (
    CHECK_ARGS,
    PINNED,
    SEED,
    installed_version,
    langgraph_dev,
)

REQUIRE = "SESSION_CONFORMANCE_REQUIRE_LANGGRAPH"
MISSING = installed_version() is None and not os.environ.get(REQUIRE)
WHY = "no langgraph dev (python -m venv .venv-langgraph; pip install -r fixtures/langgraph_app/requirements.txt)"


@pytest.mark.slow
@pytest.mark.socket
@pytest.mark.skipif(MISSING, reason=WHY)
def test_never_created_uuids_are_404_and_runs_create_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert installed_version() == PINNED
    report = tmp_path / "report.json"
    with langgraph_dev(tmp_path) as url:
        clauses = ["LIFE-001", "LIFE-002", "LIFE-003", "ISO-001", "VAL-005"]
        argv = ["check", url, "--seed", str(SEED), *CHECK_ARGS, "--report-json", str(report)]
        code = main([*argv, "-q", "--clause", *clauses])
    printed = capsys.readouterr().out
    assert "Traceback" not in printed
    verdicts = {c.id: (c.verdict.value, c.summary) for c in read_report(report).clauses}
    assert verdicts["LIFE-001"][0] == "passed", verdicts
    assert verdicts["LIFE-002"][0] == "passed", verdicts
    for clause_id in ("ISO-001", "VAL-005"):
        assert verdicts[clause_id][0] == "not_applicable"
        assert "no users" in verdicts[clause_id][1]
    assert code in (0, 1), json.dumps(verdicts)
