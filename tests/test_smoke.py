"""Pre-deploy smoke mode: a light subset, over a real socket, that leaves no session behind
when it passes, when a check fails, and when it is interrupted (Ctrl-C, SIGTERM); and
never touches a session it did not create."""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest

from conformance.cli import main
from conformance.client import ContractClient
from conformance.context import Settings
from conformance.leftovers import HARNESS_USERS
from conformance.reference import ReferenceApp, ReferenceConfig
from conformance.reference.models import Session
from conformance.registry import registry
from conformance.runner import run
from conformance.serving import RunningServer, serve_in_thread
from conformance.smoke import Sweeper, smoke_clause_ids
from conformance.target import Target
from fixtures.servers import stdlib_server

pytestmark = pytest.mark.socket
TOKEN = "tok-smoke-0b6c2d9e"
ORIGIN = "https://app.example"
ROOT = Path(__file__).resolve().parent.parent
#: The clauses smoke mode must leave out: bursts, 1 MiB bodies, fuzzing volume.
HEAVY = {"ID-005", "ERR-005", "ERR-007", "ERR-008", "VAL-006", "VAL-007", "SCHEMA-001"}


class Witness:
    """ASGI middleware recording, server-side, every user id a request named (in the
    path or a run body): the truth about who the harness touched, responses lost or not."""

    def __init__(self, app: ReferenceApp) -> None:
        self.app = app
        self.users: set[str] = set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            parts = scope.get("raw_path", b"").decode("latin-1").split("/")
            if len(parts) > 2 and parts[1] == "users":
                self.users.add(unquote(parts[2]))
            body = bytearray()

            async def replay() -> Any:
                message = await receive()
                body.extend(message.get("body", b""))
                if not message.get("more_body"):
                    try:
                        user = json.loads(bytes(body)).get("user_id")
                    except (ValueError, AttributeError):
                        user = None
                    if isinstance(user, str):
                        self.users.add(user)
                return message

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)


class RunCreatesUnknownSessions(ReferenceApp):
    """A run on an id nobody created creates it: LIFE-001 fails and leaves sessions that
    no check knows of (the check never created them)."""

    def require_session(self, user_id: str, session_id: str) -> Session:
        found = self.lookup(user_id, session_id)
        return found if found is not None else self.create(user_id, session_id, {}, 3600)


def _serve(app: ReferenceApp) -> tuple[RunningServer, Witness]:
    witness = Witness(app)
    return serve_in_thread(witness), witness  # type: ignore[arg-type]


@pytest.fixture
def servers() -> Iterator[list[RunningServer]]:
    started: list[RunningServer] = []
    yield started
    for server in started:
        server.stop()


def _listed(url: str, users: set[str]) -> dict[str, list[str]]:
    """Over the socket: each user's sessions, as the list route shows them."""
    left: dict[str, list[str]] = {}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=url, headers=headers) as client:
        for user in users:
            answer = client.get(f"/users/{quote(user, safe='')}/sessions")
            if answer.status_code == 200 and answer.json()["sessions"]:
                left[user] = [s["session_id"] for s in answer.json()["sessions"]]
    return left


def _alice(url: str) -> str:
    """A real user's session, made before the smoke run: it must survive it."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        answer = client.post("/users/alice/sessions", json={"metadata": {"owner": "alice"}})
    assert answer.status_code == 201
    return str(answer.json()["session_id"])


def _smoke(url: str, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "smoke.json"
    code = main(["check", url, "--smoke", "--token", TOKEN, "--cors-origin", ORIGIN,
                 "--seed", "3", "-q", "--report-json", str(path), *extra])  # fmt: skip
    return code, json.loads(path.read_text(encoding="utf-8"))


def _clean_up_note(report: dict[str, Any]) -> str:
    (note,) = [n for n in report["notes"] if n.startswith("smoke clean-up")]
    return str(note)


def test_the_smoke_subset_is_marked_in_the_registry_and_light() -> None:
    smoke = smoke_clause_ids()
    assert smoke == [c.id for c in registry().clauses if c.smoke]
    assert len(smoke) >= 40
    assert HEAVY.isdisjoint(smoke)
    families = {c.family for c in registry().clauses if c.id in smoke}
    assert families >= {"lifecycle", "identity", "errors", "validation", "sentinels",
                        "polling", "isolation", "auth", "cors", "streaming"}  # fmt: skip


def test_the_smoke_subset_sends_no_big_body_and_few_requests() -> None:
    """Measured, not assumed: run the subset in-process and look at what it sent."""
    app = ReferenceApp(ReferenceConfig(provision_seconds=0, token=TOKEN, cors_origin=ORIGIN))
    settings = Settings(seed=1, max_examples=5, token=TOKEN, cors_origin=ORIGIN)
    with Target(app=app, token=TOKEN) as target:
        marks: list[int] = []
        for _ in run(target, settings, clause_ids=smoke_clause_ids()):
            marks.append(target.mark())
        exchanges = target.since(0)
    assert max(len(e.request.body) for e in exchanges) < 16 * 1024
    per_clause = [b - a for a, b in itertools.pairwise(marks)]
    assert max(per_clause) <= 120, per_clause
    assert len(app.store) == 0  # the checks clean up after themselves too


def test_a_passing_smoke_run_leaves_nothing_and_spares_other_users(
    servers: list[RunningServer], tmp_path: Path
) -> None:
    app = ReferenceApp(ReferenceConfig(provision_seconds=0.3, token=TOKEN, cors_origin=ORIGIN))
    server, witness = _serve(app)
    servers.append(server)
    alice = _alice(server.url)
    code, report = _smoke(server.url, tmp_path)
    assert code == 0, report["totals"]
    assert {c["id"] for c in report["clauses"]} == set(smoke_clause_ids())
    assert _clean_up_note(report).endswith("none remain")
    assert "--smoke" in report["replay"]
    harness_users = witness.users - {"alice"}
    assert len(harness_users) > 50
    assert _listed(server.url, harness_users) == {}
    assert _listed(server.url, {"alice"}) == {"alice": [alice]}
    assert len(app.store) == 1  # alice's, and nothing else


@pytest.mark.slow  # a second whole smoke run, over a socket (the reference's is not slow)
def test_a_smoke_run_against_the_stdlib_server_passes_and_leaves_nothing(tmp_path: Path) -> None:
    server = stdlib_server.start(provision_seconds=0.3, token=TOKEN, cors_origin=ORIGIN)
    try:
        code, report = _smoke(server.url, tmp_path)
        sessions = server._httpd.store._sessions  # the fixture's own store, read in-process
    finally:
        server.stop()
    assert code == 0, [c["id"] for c in report["clauses"] if c["verdict"] != "passed"]
    assert _clean_up_note(report).endswith("none remain")
    assert sessions == {}


def test_a_failing_check_still_leaves_nothing(servers: list[RunningServer], tmp_path: Path) -> None:
    app = RunCreatesUnknownSessions(
        ReferenceConfig(provision_seconds=0.1, token=TOKEN, cors_origin=ORIGIN)
    )
    server, witness = _serve(app)
    servers.append(server)
    code, report = _smoke(server.url, tmp_path, "--clause", "LIFE-001", "LIFE-002", "LIFE-003")
    assert code == 1
    verdicts = {c["id"]: c["verdict"] for c in report["clauses"]}
    assert verdicts["LIFE-001"] == verdicts["LIFE-002"] == "failed"
    note = _clean_up_note(report)
    deleted = int(note.split("deleted ")[1].split()[0])
    assert deleted > 0, note  # sessions the fault made, which no check knew of
    assert note.endswith("none remain")
    assert _listed(server.url, witness.users) == {}
    assert len(app.store) == 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_smoke_run_leaves_nothing(
    signum: signal.Signals, servers: list[RunningServer], tmp_path: Path
) -> None:
    app = RunCreatesUnknownSessions(
        ReferenceConfig(provision_seconds=1.0, token=TOKEN, cors_origin=ORIGIN)
    )
    server, witness = _serve(app)
    servers.append(server)
    alice = _alice(server.url)
    path = tmp_path / "smoke.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "check", server.url, "--smoke", "--token",
         TOKEN, "--cors-origin", ORIGIN, "--seed", "4", "--report-json", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    assert process.stdout is not None
    decided = 0
    for line in process.stdout:  # interrupt in the middle of the run
        decided += line.startswith(("  PASS", "  FAIL", "  ERR", "  N/A"))
        if decided == 6:
            break
    time.sleep(0.3)
    process.send_signal(signum)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, out + err
    assert "Traceback" not in out + err
    report = json.loads(path.read_text(encoding="utf-8"))
    assert any(note.startswith("interrupted") for note in report["notes"])
    assert 6 <= len(report["clauses"]) < len(smoke_clause_ids())
    note = _clean_up_note(report)
    assert note.endswith("none remain")
    assert int(note.split("deleted ")[1].split()[0]) > 0  # LIFE-001's leftovers, among others
    harness_users = witness.users - {"alice"}
    assert any(user.startswith(HARNESS_USERS) for user in harness_users)
    assert _listed(server.url, harness_users) == {}
    assert _listed(server.url, {"alice"}) == {"alice": [alice]}
    assert len(app.store) == 1


def test_the_sweeper_deletes_the_harness_sessions_only() -> None:
    """Sessions the harness made but never tracked (a lost create response, a fault) go;
    a real user's session stays, even when the harness named that user."""
    app = ReferenceApp(ReferenceConfig(provision_seconds=0))
    with Target(app=app) as target:
        owner = ContractClient(target)
        owner.create("bob", {})  # before the sweeper: not the run's
        client = ContractClient(target)
        sweeper = Sweeper(client)
        for n in range(3):
            client.create(f"sc-user-{n:012x}", {})
        client.get("bob", "sc-0000000000000000")  # the harness named bob, created nothing
        app.create("sc-user-000000000001", "made-by-a-fault", {}, 3600)  # never seen by us
        sweep = sweeper.sweep()
    assert sweep.clean, sweep.note()
    assert len(sweep.deleted) == 4
    assert [s.user_id for s in app.list_sessions("bob")] == ["bob"]
    assert len(app.store) == 1


def test_smoke_refuses_a_clause_outside_its_subset(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--smoke", "--clause", "ID-005"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "ID-005 not in the smoke subset" in err


def test_a_smoke_failure_replays_with_the_same_requests(
    servers: list[RunningServer], tmp_path: Path
) -> None:
    config = ReferenceConfig(provision_seconds=0.1, token=TOKEN, cors_origin=ORIGIN)
    server, _ = _serve(RunCreatesUnknownSessions(config))
    servers.append(server)
    _, first = _smoke(server.url, tmp_path, "--clause", "LIFE-001", "VAL-002")
    life = next(c for c in first["clauses"] if c["id"] == "LIFE-001")
    argv = life["replay"].replace('"$SESSION_CONFORMANCE_TOKEN"', TOKEN).split()
    assert argv[:2] == ["session-conformance", "check"]
    assert "--smoke" in argv
    path = tmp_path / "replay.json"
    assert main([*argv[1:], "-q", "--report-json", str(path)]) == 1
    again = json.loads(path.read_text(encoding="utf-8"))
    assert [c["id"] for c in again["clauses"]] == ["LIFE-001"]
    sent = [f["exchange"]["request"]["body"] for f in life["findings"]]
    assert [f["exchange"]["request"]["body"] for f in again["clauses"][0]["findings"]] == sent
