"""The pytest plugin, in a backend team's own suite (``fixtures/sample_backend``), run by
pytest in a subprocess as the team would run it: one item per clause, verdicts as pytest
outcomes, the failure block on failure, and nothing at all when not asked for."""

from __future__ import annotations

import shutil
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.runner import select
from fixtures.servers import stdlib_server

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "fixtures" / "sample_backend"
TOKEN = "acme-dev-token"
ORIGIN = "https://chat.acme.example"
CLAUSES = len(select(None))
#: The clauses on a target's own OpenAPI document: not applicable to the team's service,
#: whose profile (the canonical layout) names none.
OWN_DOCUMENT = sum(clause.family == "target_schema" for clause in select(None))

BROKEN_SERVICE = '''
from conformance.reference import ReferenceApp, ReferenceConfig
from conformance.reference import errors
from conformance.reference.errors import Rejection


class RunCreatesUnknownSessions(ReferenceApp):
    """MUST broken: a run on an id nobody created creates it."""

    def require_session(self, user_id, session_id):
        found = self.lookup(user_id, session_id)
        return found if found is not None else self.create(user_id, session_id, {}, 3600)

    def require_ready(self, session):
        return None


class IdsNeverReused(ReferenceApp):
    """SHOULD broken (LIFE-011): a deleted session's id is never free again."""

    def __init__(self, config):
        super().__init__(config)
        self.used = set()

    def create(self, user_id, session_id, metadata, ttl_seconds):
        if session_id is not None and (user_id, session_id) in self.used:
            raise Rejection(409, errors.SESSION_EXISTS, "That id was used before.")
        session = super().create(user_id, session_id, metadata, ttl_seconds)
        self.used.add((user_id, session.session_id))
        return session


CONFIG = ReferenceConfig(provision_seconds=0.05, token="acme-dev-token",
                         cors_origin="https://chat.acme.example")
app = RunCreatesUnknownSessions(CONFIG)
should_app = IdsNeverReused(CONFIG)
'''


@pytest.fixture
def team(pytester: pytest.Pytester) -> pytest.Pytester:
    """The sample backend's repository, copied into pytester's folder."""
    for item in SAMPLE.iterdir():
        if item.name == "__pycache__":
            continue
        target = pytester.path / item.name
        if item.is_dir():
            shutil.copytree(item, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(item, target)
    return pytester


def _pytest(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=600)


def test_the_entry_point_is_declared() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    plugins = data["project"]["entry-points"]["pytest11"]
    assert plugins["session_conformance"] == "conformance.pytest_plugin"


@pytest.mark.slow  # every clause, as pytest items
def test_one_line_adds_every_clause_to_the_team_suite(team: pytest.Pytester) -> None:
    result = _pytest(team, "--session-contract-seed", "7", "-v")
    # the contract, and the team's two tests
    result.assert_outcomes(passed=CLAUSES - OWN_DOCUMENT + 2, skipped=OWN_DOCUMENT)
    result.stdout.fnmatch_lines(
        [
            "session contract: sample_service.app:app (in-process), seed 7*",
            "tests/test_service.py::test_a_new_session_belongs_to_its_user PASSED*",
            "session-contract::LIFE-001 PASSED*",
            "session-contract::SCHEMA-001 PASSED*",
        ]
    )


@pytest.mark.slow  # every clause collected, in two pytest runs
def test_clause_ids_are_test_ids(team: pytest.Pytester) -> None:
    listed = _pytest(team, "--collect-only", "-q")
    ids = [line for line in listed.outlines if line.startswith("session-contract::")]
    assert ids == [f"session-contract::{clause.id}" for clause in select(None)]
    one = _pytest(team, "-k", "LIFE-007", "-v")
    one.assert_outcomes(passed=1, deselected=CLAUSES + 1)


@pytest.fixture
def stdlib_backend() -> Iterator[str]:
    server = stdlib_server.start(provision_seconds=0.5, token=TOKEN, cors_origin=ORIGIN)
    yield server.url
    server.stop()


@pytest.mark.socket
@pytest.mark.slow  # every clause, over a socket
def test_a_running_backend_over_a_socket(team: pytest.Pytester, stdlib_backend: str) -> None:
    """``--session-contract-url``: the stdlib server, a conformant backend written apart."""
    result = _pytest(team, "-o", "addopts=", "--session-contract-url", stdlib_backend,
                     "--session-contract-token", TOKEN, "--session-contract-cors-origin",
                     ORIGIN, "--session-contract-seed", "3", "-k", "session-contract")  # fmt: skip
    result.assert_outcomes(passed=CLAUSES - OWN_DOCUMENT, skipped=OWN_DOCUMENT, deselected=2)


def test_a_failure_shows_the_failure_block_and_hides_the_token(team: pytest.Pytester) -> None:
    team.makepyfile(broken_service=BROKEN_SERVICE)
    result = _pytest(team, "--session-contract-app", "broken_service:app",
                     "--session-contract-seed", "5", "-k", "LIFE-001 or LIFE-003")  # fmt: skip
    result.assert_outcomes(failed=1, passed=1, deselected=CLAUSES)
    result.stdout.fnmatch_lines(
        [
            "*_ session contract LIFE-001 [[]MUST[]] _*",
            "LIFE-001 [[]MUST[]] A run on a session id that was never created is 404*",
            "  Problem:   run on *which was never created: got 200*",
            "  Sent:      POST http://reference.test/run",
            "  Expected:  404 SESSION_NOT_FOUND in the JSON error envelope",
            "  Received:  200 (application/json)",
            '  Reproduce: curl -sS -i -X POST "${BASE}/run" *',
            "  Replay:    pytest --session-contract-app broken_service:app "
            "--session-contract-seed 5 * -k LIFE-001 *",
            "  Serve it:  * from ${BASE}: serve it (uvicorn broken_service:app --port 8000 &) "
            "and export BASE=http://127.0.0.1:8000 first",
            "FAILED session-contract::LIFE-001*",
        ]
    )
    assert TOKEN not in result.stdout.str() + result.stderr.str()
    assert "Traceback" not in result.stdout.str()


def test_a_should_failure_is_xfail_unless_strict(team: pytest.Pytester) -> None:
    team.makepyfile(broken_service=BROKEN_SERVICE)
    args = ("--session-contract-app", "broken_service:should_app", "-k", "LIFE-011", "-rx")
    lenient = _pytest(team, *args)
    lenient.assert_outcomes(xfailed=1, deselected=CLAUSES + 1)
    lenient.stdout.fnmatch_lines(["*LIFE-011 [[]SHOULD[]] failed (not fatal without*"])
    strict = _pytest(team, *args, "--session-contract-strict")
    strict.assert_outcomes(failed=1, deselected=CLAUSES + 1)


def test_not_applicable_is_skipped_with_the_reason(team: pytest.Pytester) -> None:
    result = _pytest(team, "-o", "addopts=", "--session-contract-app", "sample_service.app:app",
                     "--session-contract-token", TOKEN, "-k", "CORS", "-rs")  # fmt: skip
    result.assert_outcomes(skipped=4, deselected=CLAUSES - 4 + 2)
    result.stdout.fnmatch_lines(["*CORS-001 not applicable: *--session-contract-cors-origin*"])


def test_an_unreachable_backend_is_an_error_not_a_failure(team: pytest.Pytester) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = _pytest(team, "-o", "addopts=", "--session-contract-url",
                     f"http://127.0.0.1:{port}", "-k", "LIFE-001 or LIFE-002")  # fmt: skip
    result.assert_outcomes(errors=2, deselected=CLAUSES)
    result.stdout.fnmatch_lines(["*Undecided: target unreachable*"])


def test_inert_without_its_options(pytester: pytest.Pytester) -> None:
    """Installed everywhere, active nowhere unasked: no items, no warnings, no imports."""
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_plain():
            assert "conformance.runner" not in sys.modules
        """
    )
    result = _pytest(pytester, "-W", "error", "-v")
    result.assert_outcomes(passed=1)
    assert "session contract" not in result.stdout.str()
    assert "session-contract::" not in result.stdout.str()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--session-contract-url", "http://x", "--session-contract-app", "a:b"], "not both"),
        (["--session-contract-app", "no_colon"], "expected MODULE:APP"),
        (["--session-contract-app", "nowhere_module:app"], "cannot import nowhere_module"),
        (["--session-contract-app", "sample_service.app:nope"], "has no attribute 'nope'"),
        (["--session-contract-url", "http://x", "--session-contract-seed", "-1"], "0 or more"),
        (
            ["--session-contract-url", "http://x", "--session-contract-profile", "nope"],
            "--session-contract-profile: no profile 'nope'",
        ),
        (
            ["--session-contract-url", "http://x", "--session-contract-profile-var", "novalue"],
            "write NAME=VALUE",
        ),
        (
            ["--session-contract-url", "http://x", "--session-contract-workers", "0"],
            "--session-contract-workers: 1 to 32, not 0",
        ),
        (
            ["--session-contract-url", "http://x", "--session-contract-redact-field", "session_id"],
            "cannot redact field session_id",
        ),
    ],
)
def test_bad_options_are_usage_errors(
    team: pytest.Pytester, args: list[str], fragment: str
) -> None:
    result = _pytest(team, "-o", "addopts=", *args, "-k", "LIFE-001")
    assert result.ret in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERRUPTED), (
        result.stdout.str() + result.stderr.str()
    )
    assert fragment in result.stdout.str() + result.stderr.str()
    assert "Traceback" not in result.stderr.str()


def test_the_plugin_is_loaded_from_the_installed_entry_point(pytester: pytest.Pytester) -> None:
    """No -p flag: pytest finds the plugin through ``pytest11`` like in a team's venv."""
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--help")
    result.stdout.fnmatch_lines(["*--session-contract-url=URL*"])
    assert sys.executable  # the same interpreter, whose environment has the package


# -- check's own engine: profile, workers, bounds, redaction, replay ----------------------


def test_one_lane_or_many_the_same_outcomes(team: pytest.Pytester) -> None:
    """``--session-contract-workers``: the items run through ``check``'s engine, in lanes;
    one lane decides every selected clause as many do."""
    team.makepyfile(broken_service=BROKEN_SERVICE)
    args = ("--session-contract-app", "broken_service:app", "--session-contract-seed", "5",
            "-k", "LIFE-001 or LIFE-002 or LIFE-007 or ID-00", "-q")  # fmt: skip
    many = _pytest(team, *args, "--session-contract-workers", "8")
    one = _pytest(team, *args, "--session-contract-workers", "1")
    assert many.parseoutcomes() == one.parseoutcomes()
    assert many.parseoutcomes()["failed"] >= 1  # the broken service's run on a made-up id
    failed = sorted(line for line in many.outlines if line.startswith("FAILED"))
    assert failed == sorted(line for line in one.outlines if line.startswith("FAILED"))


def test_a_redacted_field_is_in_no_failure_block(team: pytest.Pytester) -> None:
    """``--session-contract-redact-field``: what a field of the backend's own holds shows
    nowhere, as with ``check``'s flag; the failure block is still the run's."""
    team.makepyfile(broken_service=BROKEN_SERVICE, keyed_service=KEYED_SERVICE)
    args = ("--session-contract-app", "keyed_service:app", "--session-contract-seed", "5",
            "-k", "LIFE-001")  # fmt: skip
    shown = _pytest(team, *args)
    shown.assert_outcomes(failed=1, deselected=CLAUSES + 1)
    assert "s3cret-value" in shown.stdout.str()  # the answer's field, in the failure block
    hidden = _pytest(team, *args, "--session-contract-redact-field", "api_key")
    hidden.assert_outcomes(failed=1, deselected=CLAUSES + 1)
    out = hidden.stdout.str() + hidden.stderr.str()
    assert "s3cret-value" not in out
    assert '"api_key":"[REDACTED]"' in out.replace(" ", "")
    assert "  Replay:    pytest " in out


#: The broken service, every JSON answer carrying a secret of the backend's own.
KEYED_SERVICE = """
import json

from broken_service import app as inner


async def app(scope, receive, send):
    if scope["type"] != "http":
        return await inner(scope, receive, send)
    start, chunks = {}, []

    async def keyed(message):
        if message["type"] == "http.response.start":
            start.update(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(chunks)
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict):
            body = json.dumps({"api_key": "s3cret-value", **data}).encode()
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    await inner(scope, receive, keyed)
"""


def test_a_profile_file_is_read_with_its_variables(team: pytest.Pytester) -> None:
    """``--session-contract-profile`` with ``--session-contract-profile-var``: the
    canonical layout under a versioned prefix (a variable of the profile), against the
    sample service served there."""
    team.makepyfile(mounted_service=MOUNTED_SERVICE)
    canonical = (ROOT / "conformance" / "profiles" / "canonical.toml").read_text(encoding="utf-8")
    mounted = canonical.replace('name = "canonical"', 'name = "mounted"').replace(
        'path = "/', 'path = "/api/{version}/'
    )
    (team.path / "mounted.toml").write_text(
        mounted + '\n[variables]\nversion = "v1"\n', encoding="utf-8"
    )
    args = ("--session-contract-app", "mounted_service:app", "--session-contract-profile",
            "mounted.toml", "-k", "LIFE-001 or LIFE-002")  # fmt: skip
    wrong = _pytest(team, *args)  # /api/v1: nothing is served there
    assert wrong.parseoutcomes().get("passed", 0) == 0
    right = _pytest(team, *args, "--session-contract-profile-var", "version=v2")
    right.assert_outcomes(passed=2, deselected=CLAUSES)


MOUNTED_SERVICE = """
from sample_service.app import app as service

PREFIX = "/api/v2"


async def app(scope, receive, send):
    if scope["type"] != "http":
        return await service(scope, receive, send)
    if scope["path"].startswith(PREFIX + "/"):
        raw = scope.get("raw_path") or scope["path"].encode()
        inner = dict(scope, path=scope["path"][len(PREFIX):], raw_path=raw[len(PREFIX):])
        return await service(inner, receive, send)
    body = b'{"ok": false, "error": "NOT_FOUND", "message": "No route."}'
    await send({"type": "http.response.start", "status": 404,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
"""
