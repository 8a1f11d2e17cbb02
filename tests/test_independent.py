"""Conformant backends written independently of the harness, checked at three seeds.

Each server in ``fixtures/independent/`` was written from CONTRACT.md and a layout's
description alone, by someone who had not read the reference, in another stack: FastAPI
and pydantic (the incidents' stack, its 422s from pydantic), the standard library with
``jsonschema`` doing all validation (422s pointing at the object that lacks a property),
Starlette in the ``status-query`` layout (RFC 9457 problem details), and Node.js with no
dependencies in the ``chat-header`` layout. A conformant backend fails no clause at any
seed: a failure or an undecided clause here is a harness bug (a false positive), never
a reason to change the server to suit the harness.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.context import Settings
from conformance.profile import load_profile
from conformance.records import Verdict
from conformance.runner import RunFinished, run
from conformance.target import Target

# slow: full runs against four servers at three seeds each.
pytestmark = [pytest.mark.socket, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "independent-token-41c7"
ORIGIN = "https://app.example"
SEEDS = (3, 1009, 77777)
#: Set by CI, where Node is installed: a missing ``node`` fails instead of skipping.
REQUIRE_NODE = "SESSION_CONFORMANCE_REQUIRE_NODE"


@dataclass(frozen=True)
class Server:
    name: str
    command: tuple[str, ...]
    profile: str


SERVERS = (
    Server(
        "fastapi-pydantic",
        (sys.executable, "-m", "fixtures.independent.fastapi_pydantic"),
        "canonical",
    ),
    Server(
        "jsonschema-stdlib",
        (sys.executable, "-m", "fixtures.independent.jsonschema_stdlib"),
        "canonical",
    ),
    Server(
        "starlette-status-query",
        (sys.executable, "-m", "fixtures.independent.status_query"),
        "status-query",
    ),
    Server("node-chat-header", ("node", "fixtures/independent/chat_header.mjs"), "chat-header"),
)


@contextmanager
def serving(server: Server) -> Iterator[str]:
    """Start the server on a free port of 127.0.0.1; yield its URL; stop it."""
    if server.command[0] == "node" and shutil.which("node") is None:
        if os.environ.get(REQUIRE_NODE):
            pytest.fail("node is not installed, and this run requires it")
        pytest.skip("node is not installed")
    options = ("--port", "0", "--token", TOKEN, "--cors-origin", ORIGIN)
    process = subprocess.Popen(
        (*server.command, *options, "--provision-seconds", "0.3"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until the server is listening (or exits)
        assert line.startswith("LISTENING "), f"{server.name} did not start: {line!r}"
        yield line.split()[1]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="module", params=SERVERS, ids=[s.name for s in SERVERS])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[Server, str]]:
    with serving(request.param) as url:
        yield request.param, url


@pytest.mark.parametrize("seed", SEEDS)
def test_an_independent_conformant_server_fails_no_clause(
    server: tuple[Server, str], seed: int
) -> None:
    spec, url = server
    settings = Settings(seed=seed, token=TOKEN, cors_origin=ORIGIN, ready_timeout=30.0)
    with Target(url, token=TOKEN) as target:
        events = list(run(target, settings, profile=load_profile(spec.profile)))
    finished = events[-1]
    assert isinstance(finished, RunFinished)
    report = finished.report
    wrong = [
        f"{r.clause_id} {r.verdict}: {r.summary}"
        for r in report.results
        if r.verdict in (Verdict.FAILED, Verdict.ERROR)
    ]
    assert wrong == [], f"{spec.name} at seed {seed} (a false positive is a harness bug)"
    passed = sum(r.verdict is Verdict.PASSED for r in report.results)
    assert passed >= 60, f"only {passed} clauses passed: too little was judged"
