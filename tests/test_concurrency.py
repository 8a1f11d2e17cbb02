"""CONC-*: bursts of concurrent requests pass conformant backends over a real socket (the
reference and the stdlib server), catch each concurrency mutant there too, honour
``--concurrency``, and leave a clause undecided, never passed, when the target sheds the
burst. The family's standard tests (in process, each mutant at several seeds) are in
tests/test_families.py."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from conformance.cli import main
from conformance.records import Verdict
from conformance.reference import ReferenceApp, ReferenceConfig, create_app
from conformance.serving import serve_in_thread
from conformance.target import Target
from fixtures.broken import Mutant, check_mutant
from fixtures.broken.concurrency import MUTANTS, LookupThenDelete
from tests.families import CONCURRENCY

CLAUSES = CONCURRENCY.clauses
TOKEN = CONCURRENCY.token
RUNS = CONCURRENCY.runs


reference = RUNS.reference_fixture()


@pytest.mark.socket
def test_passes_against_the_reference_over_a_real_socket() -> None:
    app = create_app(RUNS.config())
    with serve_in_thread(app) as server, Target(server.url, token=TOKEN) as target:
        results = {cid: RUNS.run(target, cid, 2) for cid in CLAUSES}
    assert {cid: r.verdict for cid, r in results.items()} == dict.fromkeys(
        CLAUSES, Verdict.PASSED
    ), {cid: r.summary for cid, r in results.items()}


@pytest.mark.socket
def test_passes_against_the_stdlib_server_over_a_real_socket() -> None:
    with RUNS.stdlib_server() as target:
        results = {cid: RUNS.run(target, cid, 3) for cid in CLAUSES}
    assert {cid: r.verdict for cid, r in results.items()} == dict.fromkeys(
        CLAUSES, Verdict.PASSED
    ), {cid: r.summary for cid, r in results.items()}


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.__name__ for m in MUTANTS])
def test_one_request_at_a_time_the_mutants_are_conformant(mutant: type[Mutant]) -> None:
    # The faults live only in concurrency: the lifecycle clauses pass on every mutant.
    for clause_id in ("LIFE-006", "LIFE-007", "LIFE-010", "ID-006"):
        result = check_mutant(mutant, clause_id)
        assert result.verdict is Verdict.PASSED, (clause_id, result.summary)


@pytest.mark.socket
@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.__name__ for m in MUTANTS])
def test_caught_over_a_real_socket(mutant: type[Mutant]) -> None:
    app = mutant(RUNS.config())
    with serve_in_thread(app) as server, Target(server.url, token=TOKEN) as target:
        for clause_id in mutant.trips:
            result = RUNS.run(target, clause_id, 1)
            assert result.verdict is Verdict.FAILED, result.summary


@pytest.mark.socket
def test_lookup_then_delete_shows_however_late_the_other_delete_comes() -> None:
    # On a loaded machine a burst spreads out: another connection's delete may reach the
    # server only after the first was answered. The fault shows all the same, for as long
    # as the replica lags (the clock stands still here, then jumps past the lag), and one
    # connection alone sees a conformant server.
    now = [0.0]
    app = LookupThenDelete(RUNS.config(), clock=lambda: now[0])
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with (
        serve_in_thread(app) as server,
        httpx.Client(base_url=server.url, headers=auth) as one,
        httpx.Client(base_url=server.url, headers=auth) as other,
    ):

        def session() -> str:
            created = one.post("/users/sc-race/sessions", json={})
            assert created.status_code == 201, created.text
            return f"/users/sc-race/sessions/{created.json()['session_id']}"

        path = session()
        assert one.delete(path).status_code == 200
        assert other.delete(path).status_code == 200  # answered after the first: still 200
        path = session()
        assert one.delete(path).status_code == 200
        assert one.delete(path).status_code == 404  # its own connection reads its write
        now[0] += LookupThenDelete.replica_lag
        assert other.delete(path).status_code == 404  # the replica caught up


@pytest.mark.parametrize(("clause_id", "method"), [("CONC-002", "POST"), ("CONC-004", "DELETE")])
def test_the_burst_is_as_large_as_concurrency_says(
    reference: Target, clause_id: str, method: str
) -> None:
    mark = reference.mark()
    result = RUNS.run(reference, clause_id, 4, concurrency=5)
    assert result.verdict is Verdict.PASSED, result.summary
    sent = [e.request.method for e in reference.since(mark)]
    assert 5 <= sent.count(method) <= 6  # the burst, and at most one more (set-up or clean-up)


def test_the_budget_flags_reach_the_run_and_its_replay_command(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    argv = ["check", "--seed", "3", "--clause", "CONC-004", "STATE-006"]
    code = main([*argv, "--concurrency", "6", "--max-steps", "9", "--report-json", str(path)])
    assert code == 0
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["settings"]["concurrency"] == "6"
    assert report["settings"]["max_steps"] == "9"
    assert "--max-steps 9 --concurrency 6" in report["replay"]
    summaries = {clause["id"]: clause["summary"] for clause in report["clauses"]}
    assert "up to 9 steps" in summaries["STATE-006"]
    code = main([*argv, "--report-json", str(path)])
    report = json.loads(path.read_text(encoding="utf-8"))
    assert "--concurrency" not in report["replay"]
    assert report["settings"]["concurrency"] == "32"


@pytest.mark.parametrize("flag", ["--concurrency", "--max-steps"])
def test_a_bad_budget_is_a_usage_error(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", flag, "0"]) == 2
    err = capsys.readouterr().err
    assert flag in err
    assert err.count("\n") == 1


class ShedsBursts(ReferenceApp):
    """Conformant, but answers 503 (with Retry-After) to requests beyond 4 in flight."""

    limit = 4

    def __init__(self, config: ReferenceConfig | None = None) -> None:
        super().__init__(config)
        self.in_flight = 0

    async def dispatch(self, request: Request) -> Response:
        self.in_flight += 1
        try:
            if self.in_flight > self.limit:
                return self.error_response(
                    503, "UNAVAILABLE", "Too busy.", headers={"Retry-After": "1"}
                )
            await asyncio.sleep(0.01)
            return await super().dispatch(request)
        finally:
            self.in_flight -= 1


@pytest.mark.parametrize("clause_id", ["CONC-001", "CONC-002", "CONC-004"])
def test_a_target_that_sheds_the_burst_leaves_the_clause_undecided(clause_id: str) -> None:
    with RUNS.in_process(ShedsBursts(RUNS.config())) as target:
        result = RUNS.run(target, clause_id, 1)
        assert result.verdict is Verdict.ERROR, result.summary
        assert "lower --concurrency" in result.summary
        # Under the limit, the same backend passes.
        assert RUNS.run(target, clause_id, 1, concurrency=3).verdict is Verdict.PASSED
