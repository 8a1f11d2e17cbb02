"""No clause passes for want of anything to judge (issue 14, item 6).

A target that answers every request ``200 {"ok": true, ...}`` gives no error response
at all. Every clause about errors (each family that demands a 4xx, and the lifecycle and
streaming clauses that do) must then fail or be ``error``/``not_applicable``: a clause
with nothing to judge is never ``passed``.
"""

from __future__ import annotations

import json

import pytest
from starlette.types import Receive, Scope, Send

from conformance.context import Settings
from conformance.records import Verdict
from conformance.registry import registry
from conformance.runner import RunFinished, run
from conformance.target import Target

TOKEN = "vacuous-token-0b7e"
#: Families whose every clause demands an error answer somewhere.
ERROR_FAMILIES = frozenset({"errors", "validation", "sentinels", "isolation", "auth"})
#: Clauses of other families that demand an error answer.
ERROR_CLAUSES = frozenset(
    {"LIFE-001", "LIFE-002", "LIFE-007", "LIFE-008", "LIFE-010", "SSE-002", "STATE-001"}
)
ANSWER = {
    "ok": True,
    "session_id": "s1",
    "session": {"session_id": "s1"},
    "sessions": [],
    "events": [],
}


async def always_ok(scope: Scope, receive: Receive, send: Send) -> None:
    """200 with a plausible JSON body, whatever was asked."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(ANSWER).encode()})


@pytest.mark.slow  # two full runs, about 40 s each on 2 shared cores
@pytest.mark.parametrize("seed", [3, 1009])
def test_a_target_answering_only_2xx_passes_no_error_clause(seed: int) -> None:
    settings = Settings(
        seed=seed,
        max_examples=5,
        token=TOKEN,
        cors_origin="https://app.example",
        ready_timeout=2.0,
    )
    with Target(app=always_ok, token=TOKEN) as target:
        events = list(run(target, settings))
    finished = events[-1]
    assert isinstance(finished, RunFinished)
    demanding = {
        c.id
        for c in registry().of_subject("server")
        if c.family in ERROR_FAMILIES or c.id in ERROR_CLAUSES
    }
    passed = sorted(
        r.clause_id
        for r in finished.report.results
        if r.clause_id in demanding and r.verdict is Verdict.PASSED
    )
    assert passed == []
    err_006 = next(r for r in finished.report.results if r.clause_id == "ERR-006")
    assert err_006.verdict is not Verdict.PASSED
