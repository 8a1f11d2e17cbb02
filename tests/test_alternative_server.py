"""No false positives: a second conformant backend, written with the standard library
by other hands and choosing differently wherever the contract leaves a choice, passes
every clause over a real socket, behind a base path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.cli import main
from fixtures.servers.stdlib_server import start

pytestmark = [pytest.mark.socket, pytest.mark.slow]  # full runs against the stdlib server


@pytest.mark.parametrize("seed", ["3", "2718"])
def test_stdlib_server_passes_every_clause(
    seed: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start(
        provision_seconds=0.6, token="alt-secret", cors_origin="https://ui.example",
        base_path="/api/v1",
    )  # fmt: skip
    monkeypatch.setenv("SESSION_CONFORMANCE_TOKEN", "alt-secret")
    path = tmp_path / "r.json"
    try:
        code = main(
            ["check", server.url, "--cors-origin", "https://ui.example", "--seed", seed,
             "--report-json", str(path), "-q"]
        )  # fmt: skip
    finally:
        server.stop()
    report = json.loads(path.read_text(encoding="utf-8"))
    not_passed = {
        c["id"]: c["summary"]
        for c in report["clauses"]
        if c["verdict"] != "passed" and c["family"] != "target_schema"
    }
    assert not_passed == {}
    # The server's own OpenAPI document is not named (no profile says where it is).
    own = [c for c in report["clauses"] if c["family"] == "target_schema"]
    assert own
    assert all(c["verdict"] == "not_applicable" for c in own)
    assert code == 0


def test_without_auth_and_cors_those_clauses_are_not_applicable(tmp_path: Path) -> None:
    server = start(provision_seconds=0.6)  # a not-ready window wide enough on a busy machine
    path = tmp_path / "r.json"
    try:
        code = main(["check", server.url, "--seed", "5", "--report-json", str(path), "-q"])
    finally:
        server.stop()
    report = json.loads(path.read_text(encoding="utf-8"))
    verdicts = {c["id"]: (c["family"], c["verdict"], c["summary"]) for c in report["clauses"]}
    for clause_id, (family, verdict, summary) in verdicts.items():
        if family in ("auth", "cors"):
            assert verdict == "not_applicable", clause_id
            assert "--token" in summary or "--cors-origin" in summary
        elif family == "target_schema":  # no profile names the server's own document
            assert verdict == "not_applicable", clause_id
            assert "names no OpenAPI document" in summary
        else:
            assert verdict == "passed", (clause_id, summary)
    assert code == 0
