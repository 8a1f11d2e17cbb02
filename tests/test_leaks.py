"""No secret leaves the harness in any form (issue 14).

The real command line, and the pytest plugin, run against the hostile credential targets
of :mod:`fixtures.hostile.credentials` (which echo back every credential they are sent):
a target URL with ``user:password@`` in it, and targets that accept near copies of the
bearer token, so that AUTH-002's near-miss probes fail and their failure is in every
report. Every output of each run is then searched for every secret in every form: the
token and the password, their base64 (and that of ``user:password``), URL-encoded,
swapped-case and truncated forms. None may be there; the run must still end as
documented (exit 1: a clause rightly fails), with a valid report, no traceback, no
session left, and the curl lines must still reproduce, reading the secrets from the
environment.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import quote, quote_plus

import jsonschema
import pytest

from conformance.contract import report_schema
from conformance.redaction import BASIC_MARK, Form
from conformance.reference import ReferenceConfig
from conformance.reference.app import ReferenceApp
from fixtures.broken.lifecycle import CreateAnswers200
from fixtures.hostile import HostileServer, basic_auth_target, near_miss_target
from tests.peak import parent_high_water_kib, wait_measured

pytestmark = pytest.mark.socket

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "tok-Leak-4f1c9a7e2b"
USER, PASSWORD = "alice", "s3cret/pw+Z9"
WRITTEN = f"{USER}:{quote(PASSWORD, safe='')}"  # as it is written in the URL
#: The peak RSS the CLI may reach (its own, measured by :mod:`tests.peak`).
MAX_RSS_MIB = 300
FLAGS = ["--seed", "11", "--max-examples", "2", "--timeout", "5", "--request-deadline", "10",
         "--deadline", "60", "-v"]  # fmt: skip


def forms(secret: str) -> set[str]:
    """Every form of ``secret`` that must not appear anywhere."""
    raw = secret.encode()
    encoded = {base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
    return {
        secret, secret.swapcase(), secret[:-1], quote(secret, safe=""), quote_plus(secret),
        *encoded, *(text.rstrip("=") for text in encoded),
    }  # fmt: skip


SEARCHED = forms(TOKEN) | forms(PASSWORD) | forms(f"{USER}:{PASSWORD}") | {WRITTEN}


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    clauses: tuple[str, ...]
    failed: frozenset[str]

    @property
    def mark(self) -> str:
        """What the echoed credential reads in the report."""
        if self.name == "userinfo-url":
            return BASIC_MARK
        return Form(self.name.removeprefix("accepts-")).mark

    def server(self) -> HostileServer:
        if self.name == "userinfo-url":  # LIFE-003 fails, so failures print curl lines
            app = CreateAnswers200(ReferenceConfig(provision_seconds=0))
            return basic_auth_target(USER, PASSWORD, app=app)
        return near_miss_target(TOKEN, (self.name.removeprefix("accepts-"),))

    def url(self, server: HostileServer) -> str:
        if self.name == "userinfo-url":
            return f"http://{WRITTEN}@127.0.0.1:{server.port}"
        return server.url

    def env(self, state: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SESSION_CONFORMANCE")}
        if self.name != "userinfo-url":
            env["SESSION_CONFORMANCE_TOKEN"] = TOKEN  # never on a command line
        return {**env, "SESSION_CONFORMANCE_STATE_DIR": str(state), "PYTHONPATH": str(ROOT)}


CASES = [
    pytest.param(  # five clauses, a stream among them, through the CLI and a pytest run
        Case("userinfo-url", ("LIFE-001", "LIFE-003", "ID-001", "SSE-001", "AUTH-002"),
             frozenset({"LIFE-003"})),
        marks=pytest.mark.slow, id="userinfo-url"),
    Case("accepts-swapcase", ("AUTH-001", "AUTH-002", "LIFE-001"), frozenset({"AUTH-002"})),
    Case("accepts-truncated", ("AUTH-001", "AUTH-002", "LIFE-001"), frozenset({"AUTH-002"})),
]  # fmt: skip


@pytest.fixture(params=CASES, ids=lambda case: case.name)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def server(case: Case) -> Iterator[HostileServer]:
    with case.server() as running:
        yield running


def _run(command: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str, int]:
    """Exit code, stdout, stderr and peak RSS (KiB, its own: :mod:`tests.peak`) of
    ``command``."""
    streams: dict[str, bytes] = {}

    def read(name: str, pipe: IO[bytes]) -> None:
        streams[name] = pipe.read()

    inherited = parent_high_water_kib()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                          cwd=cwd) as process:  # fmt: skip
        assert process.stdout is not None
        assert process.stderr is not None
        readers = [threading.Thread(target=read, args=("out", process.stdout)),
                   threading.Thread(target=read, args=("err", process.stderr))]  # fmt: skip
        for reader in readers:
            reader.start()
        _, peak = wait_measured(process, inherited, give_up_after=600)
        for reader in readers:
            reader.join()
    out, err = (streams[name].decode("utf-8", "replace") for name in ("out", "err"))
    return process.returncode, out, err, peak


def test_no_form_of_any_secret_reaches_any_output(
    case: Case, server: HostileServer, tmp_path: Path
) -> None:
    reports = {kind: tmp_path / f"run.{kind}" for kind in ("json", "junit", "html", "markdown",
                                                           "badge")}  # fmt: skip
    log, state = tmp_path / "exchanges.jsonl", tmp_path / "state"
    command = [sys.executable, "-m", "conformance.cli", "check", case.url(server), *FLAGS,
               "--clause", *case.clauses, "--record-exchanges", str(log),
               *(f"--report-{kind}={path}" for kind, path in reports.items())]  # fmt: skip
    started = time.monotonic()
    code, out, err, rss = _run(command, case.env(state), ROOT)
    seconds = time.monotonic() - started
    outputs = {"stdout": out, "stderr": err, "exchanges": log.read_text(encoding="utf-8")}
    outputs |= {kind: path.read_text(encoding="utf-8") for kind, path in reports.items()}
    outputs |= {f"state/{p.name}": p.read_text(encoding="utf-8") for p in state.iterdir()}
    outputs |= _pytest_plugin_outputs(case, server, tmp_path)
    leaks = sorted((name, form) for name, text in outputs.items() for form in SEARCHED
                   if form in text)  # fmt: skip
    assert leaks == [], leaks
    assert code == 1, out + err  # a clause rightly fails
    assert "Traceback" not in out + err
    assert seconds < 60 + 5
    assert 0 < rss < MAX_RSS_MIB * 1024, f"peak RSS {rss // 1024} MiB"
    # The control: the target did echo what it was sent, and the redaction is what hid it.
    assert "x-seen-authorization" in outputs["json"]
    assert case.mark in outputs["json"]
    report = json.loads(outputs["json"])
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    verdicts = {c["id"]: c["verdict"] for c in report["clauses"]}
    assert {cid for cid, v in verdicts.items() if v == "failed"} == case.failed, verdicts
    assert "error" not in verdicts.values(), verdicts
    app = server.app
    assert isinstance(app, ReferenceApp)
    assert len(app.store) == 0  # no session left
    _reproduce(case, report)


def _pytest_plugin_outputs(case: Case, server: HostileServer, tmp_path: Path) -> dict[str, str]:
    """What the pytest plugin prints and writes (its JUnit XML) for the same clauses."""
    where = tmp_path / "plugin"
    where.mkdir()
    xml = where / "junit.xml"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "-v",
               "--session-contract-url", case.url(server), "--session-contract-seed", "11",
               "--session-contract-max-examples", "2", f"--junitxml={xml}",
               "-k", " or ".join(case.clauses)]  # fmt: skip
    code, out, err, _ = _run(command, case.env(where / "state"), where)
    assert code == 1, out + err  # the failed clause fails its item
    assert "Traceback" not in out + err
    return {"pytest stdout": out, "pytest stderr": err, "pytest junit": xml.read_text("utf-8")}


def _reproduce(case: Case, report: dict[str, object]) -> None:
    """The failure's curl line, run with the secrets in the environment, gets past auth:
    the URL's credentials arrive, or the near miss of the token does (the session it
    names is gone by now, so a 404 is the answer there)."""
    clauses = report["clauses"]
    assert isinstance(clauses, list)
    failed = next(c for c in clauses if c["verdict"] == "failed")
    line = failed["findings"][0]["exchange"]["curl"]
    status = subprocess.run(["sh", "-c", line.replace("curl -sS -i", "curl -sS -o /dev/null -w '%{http_code}'")],
                            env={**os.environ, "SESSION_CONFORMANCE_TOKEN": TOKEN,
                                 "SESSION_CONFORMANCE_USERINFO": WRITTEN},
                            capture_output=True, text=True, check=True, timeout=30).stdout  # fmt: skip
    assert status in ("200", "404"), (status, line)
    assert shlex.split(line)  # one well-formed shell line
