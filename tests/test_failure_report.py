"""A failure is actionable: clause id, what was sent, expected, received, a curl command
that reproduces it for real, and a replay command that sends the same requests."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.reference import ReferenceApp, ReferenceConfig
from conformance.reference.models import Session
from conformance.serving import RunningServer, serve_in_thread

pytestmark = pytest.mark.socket
SECRET = "s3cr3t-token-do-not-print"


class RunCreatesUnknownSessions(ReferenceApp):
    """Incident 2 inverted: a run with an id nobody created is accepted and creates it."""

    def require_session(self, user_id: str, session_id: str) -> Session:
        found = self.lookup(user_id, session_id)
        return found if found is not None else self.create(user_id, session_id, {}, 3600)

    def require_ready(self, session: Session) -> None:
        return None


@pytest.fixture
def broken_server() -> Callable[[], RunningServer]:
    servers: list[RunningServer] = []

    def start() -> RunningServer:
        app = RunCreatesUnknownSessions(ReferenceConfig(provision_seconds=0, token=SECRET))
        servers.append(serve_in_thread(app))
        return servers[-1]

    yield start  # type: ignore[misc]
    for server in servers:
        server.stop()


def _check(url: str, tmp_path: Path, *extra: str) -> tuple[int, str, dict[str, object]]:
    path = tmp_path / "report.json"
    code = main(["check", url, "--seed", "77", "--report-json", str(path), *extra])
    return code, "", json.loads(path.read_text(encoding="utf-8"))


def test_failure_block_names_everything(
    broken_server: Callable[[], RunningServer],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = broken_server()
    monkeypatch.setenv("SESSION_CONFORMANCE_TOKEN", SECRET)
    code, _, report = _check(server.url, tmp_path, "--clause", "LIFE-001", "LIFE-002")
    out, err = capsys.readouterr()
    assert code == 1
    assert "seed: 77" in out
    block = out[out.index("Failures") :]
    for needle in ("LIFE-001 [MUST]", "Sent:      POST", "Expected:  404 SESSION_NOT_FOUND",
                   "Received:  200", "Reproduce: curl", "Replay:    session-conformance check"):  # fmt: skip
        assert needle in block
    assert "--seed 77 --clause LIFE-001" in block
    assert SECRET not in out + err
    assert SECRET not in json.dumps(report)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_curl_reproduction_reproduces(
    broken_server: Callable[[], RunningServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = broken_server()
    monkeypatch.setenv("SESSION_CONFORMANCE_TOKEN", SECRET)
    _, _, report = _check(server.url, tmp_path, "--clause", "LIFE-001")
    clauses = report["clauses"]
    assert isinstance(clauses, list)
    finding = clauses[0]["findings"][0]
    command = finding["exchange"]["curl"]
    assert SECRET not in command
    assert "${SESSION_CONFORMANCE_TOKEN}" in command
    result = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=30, check=False,
        env={**os.environ, "SESSION_CONFORMANCE_TOKEN": SECRET},
    )  # fmt: skip
    status = re.match(r"HTTP/\S+ (\d{3})", result.stdout)
    assert status is not None, result.stdout + result.stderr
    # The server now creates the id on the fly, so a fresh id reproduces; the one in the
    # report was created by the first run and answers 200 as well: the bug, reproduced.
    assert int(status.group(1)) == finding["exchange"]["response"]["status"] == 200


def test_replay_sends_the_same_requests(
    broken_server: Callable[[], RunningServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SESSION_CONFORMANCE_TOKEN", SECRET)
    first_server = broken_server()
    _, _, first = _check(first_server.url, tmp_path, "--clause", "LIFE-001", "VAL-002")
    clauses = first["clauses"]
    assert isinstance(clauses, list)
    replay = clauses[0]["replay"]
    argv = shlex.split(replay.replace('"$SESSION_CONFORMANCE_TOKEN"', SECRET))
    assert argv[:2] == ["session-conformance", "check"]
    second_server = broken_server()
    argv = [second_server.url if a == first_server.url else a for a in argv[2:]]
    path = tmp_path / "replay.json"
    main(["check", *argv, "--report-json", str(path)])
    second = json.loads(path.read_text(encoding="utf-8"))
    sent_first = clauses[0]["findings"][0]["exchange"]["request"]["body"]
    sent_again = second["clauses"][0]["findings"][0]["exchange"]["request"]["body"]
    assert sent_first == sent_again
    assert [c["id"] for c in second["clauses"]] == ["LIFE-001"]
