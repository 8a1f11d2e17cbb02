"""No secret reaches any output: the token, cookies, and the headers and JSON fields a
user names with ``--redact-header`` / ``--redact-field``, against a backend that leaks
all of them in every answer, through the console, every report format and curl lines."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from conformance.cli import main
from conformance.records import Exchange, RequestRecord, ResponseRecord
from conformance.redaction import BASIC_MARK, MARK, Form, Redactor, public_url, redactor_for
from conformance.reference import ReferenceConfig
from conformance.reference.models import Session
from conformance.reporting.curl import curl, header_args
from conformance.reporting.sequence import script
from conformance.serving import RunningServer, serve_in_thread
from fixtures.broken import Mutant

TOKEN = "tok-redaction-91c2e6b04f"
COOKIE = "cookie-secret-7a1f3b"
HEADER = "header-secret-4e8d02"
FIELD = "field-secret-c35a19"
SECRETS = (TOKEN, COOKIE, HEADER, FIELD)
ORIGIN = "https://app.example"
ROOT = Path(__file__).resolve().parent.parent


class RunCreatesUnknownSessions(Mutant):
    """A run on an id nobody created creates it (so failures print curl lines)."""

    def require_session(self, user_id: str, session_id: str) -> Session:
        found = self.lookup(user_id, session_id)
        return found if found is not None else self.create(user_id, session_id, {}, 3600)

    def require_ready(self, session: Session) -> None:
        return None


class Leaky:
    """ASGI middleware: every answer sets a cookie and an upstream key header, and every
    JSON object answer carries the upstream key and the Authorization it was sent."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def leak(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                if not _is_json(start):
                    await _flush(send, start, chunks, more=True)
                return
            body = b"".join(chunks)
            if _is_json(start) and body.startswith(b"{"):
                data = json.loads(body)
                data.update(upstream_key=FIELD, seen_authorization=seen)
                body = json.dumps(data).encode()
            chunks[:] = [body]
            await _flush(send, start, chunks, more=False)

        await self.app(scope, receive, leak)


def _is_json(start: dict[str, Any]) -> bool:
    return b"application/json" in dict(start.get("headers", [])).get(b"content-type", b"")


async def _flush(send: Any, start: dict[str, Any], chunks: list[bytes], *, more: bool) -> None:
    if start:
        headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
        if not more:
            headers.append((b"content-length", str(len(b"".join(chunks))).encode()))
        headers += [(b"set-cookie", f"sid={COOKIE}; HttpOnly".encode()),
                    (b"x-upstream-key", HEADER.encode())]  # fmt: skip
        await send({**start, "headers": headers})
        start.clear()
    await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": more})
    chunks.clear()


@pytest.fixture(scope="module")
def leaky_server() -> Iterator[RunningServer]:
    config = ReferenceConfig(provision_seconds=0.1, token=TOKEN, cors_origin=ORIGIN)
    server = serve_in_thread(Leaky(RunCreatesUnknownSessions(config)))  # type: ignore[arg-type]
    yield server
    server.stop()


@pytest.mark.socket
def test_no_secret_reaches_any_output(leaky_server: RunningServer, tmp_path: Path) -> None:
    reports = {kind: tmp_path / f"run.{kind}" for kind in ("json", "html", "markdown", "junit",
                                                           "badge")}  # fmt: skip
    command = [sys.executable, "-m", "conformance.cli", "check", leaky_server.url,
               "--token", TOKEN, "--cors-origin", ORIGIN, "--seed", "5", "-v",
               "--redact-header", "X-Upstream-Key", "--redact-field", "upstream_key",
               "--redact-field", "seen_authorization",
               "--clause", "LIFE-001", "LIFE-002", "LIFE-003", "LIFE-009", "AUTH-001",
               "AUTH-002", "CORS-002", "SSE-001", "ERR-006",
               *(f"--report-{kind}={path}" for kind, path in reports.items())]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "SESSION_CONFORMANCE_TOKEN"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT,
                            env=env, check=False)  # fmt: skip
    console = result.stdout + result.stderr
    assert result.returncode == 1, console  # LIFE-001 and LIFE-002 fail: failure blocks print
    assert "Reproduce: curl" in result.stdout
    outputs = {"console": console, **{k: p.read_text(encoding="utf-8") for k, p in reports.items()}}
    for name, text in outputs.items():
        for secret in SECRETS:
            assert secret not in text, (name, secret)
    report = json.loads(outputs["json"])
    verdicts = {c["id"]: c["verdict"] for c in report["clauses"]}
    # The leaks are extra properties and headers, which the contract leaves free.
    assert {cid for cid, v in verdicts.items() if v != "passed"} == {"LIFE-001", "LIFE-002"}
    exchanges = [e for c in report["clauses"] for e in c["evidence"]] + [
        f["exchange"] for c in report["clauses"] for f in c["findings"] if f["exchange"]
    ]
    responses = [e["response"] for e in exchanges if e["response"]]
    headers = {name.lower(): value for r in responses for name, value in r["headers"]}
    assert headers["x-upstream-key"] == MARK
    assert headers["set-cookie"] == MARK
    bodies = [json.loads(r["body"]["text"]) for r in responses if r["body"]["text"][:1] == "{"]
    assert bodies
    assert all(b.get("upstream_key") == MARK for b in bodies)
    curls = [e["curl"] for e in exchanges]
    assert any("${SESSION_CONFORMANCE_TOKEN}" in c for c in curls)
    replay = report["clauses"][0]["replay"]
    assert '--token "$SESSION_CONFORMANCE_TOKEN"' in replay
    assert "--redact-header X-Upstream-Key" in replay
    assert "--redact-field upstream_key" in replay


def test_fields_are_masked_at_any_depth_and_in_streams() -> None:
    redactor = redactor_for(["X-Api-Key"], ["api_key"]).with_secrets(["s3cr3t-value-1"])
    body = b'{"a":{"API_KEY":"k1","list":[{"api_key":{"nested":true}}]},"note":"s3cr3t-value-1"}'
    assert json.loads(redactor.body(body)) == {
        "a": {"API_KEY": MARK, "list": [{"api_key": MARK}]},
        "note": MARK,
    }
    stream = b'data: {"api_key": "k\\"2", "n": 1}\n\ndata: {"api_key":42}\n\n'
    assert redactor.body(stream) == (
        b'data: {"api_key": "[REDACTED]", "n": 1}\n\ndata: {"api_key":"[REDACTED]"}\n\n'
    )
    untouched = b'{"session_id":"abc","events":[]}'
    assert redactor.body(untouched) is untouched  # byte for byte when nothing is masked
    assert redactor.header("x-api-key", "k3") == MARK
    assert redactor.header("Set-Cookie", "sid=1") == MARK
    assert redactor.header("X-Other", "visible") == "visible"


def test_with_secrets_keeps_the_names() -> None:
    redactor = redactor_for(["X-Api-Key"], ["api_key"]).with_secrets(["tok-123456789"])
    assert redactor.secrets == ("tok-123456789",)
    assert "x-api-key" in redactor.headers
    assert "authorization" in redactor.headers
    assert Redactor().with_secrets([]) == Redactor()


@pytest.mark.parametrize(
    ("flag", "name", "fragment"),
    [
        ("--redact-field", "session_id", "field session_id: it is a field of the contract"),
        ("--redact-field", "Metadata", "field metadata"),
        ("--redact-header", "Location", "header location: the checks read it"),
        ("--redact-header", "Access-Control-Allow-Origin", "the checks read it"),
        ("--redact-header", " ", "empty"),
    ],
)
def test_redacting_what_the_checks_read_is_a_usage_error(
    flag: str, name: str, fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", flag, name, "--clause", "LIFE-001"])
    _, err = capsys.readouterr()
    assert code == 2
    assert fragment in err
    assert err.count("\n") == 1


@pytest.mark.socket
def test_the_leaks_do_reach_the_harness_unless_named(
    leaky_server: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The control: without --redact-*, the named values show, so the test above proves
    the redaction, not a backend that never leaked. The token and the cookie never show."""
    path = tmp_path / "control.json"
    main(["check", leaky_server.url, "--token", TOKEN, "--seed", "5", "--clause", "LIFE-003",
          "--report-json", str(path)])  # fmt: skip
    text = path.read_text(encoding="utf-8") + "".join(capsys.readouterr())
    assert FIELD in text
    assert HEADER in text
    assert TOKEN not in text
    assert COOKIE not in text


NEAR = "tok-Near-Miss-5b7e"


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        (NEAR, MARK),
        (NEAR.swapcase(), Form.SWAPCASE.mark),
        (NEAR[:-1], Form.TRUNCATED.mark),
        (base64.b64encode(NEAR.encode()).decode(), Form.BASE64.mark),
        (base64.b64encode(NEAR.encode()).decode().rstrip("="), Form.BASE64.mark),
        (quote("a/b+c d", safe=""), Form.URL_ENCODED.mark),
    ],
)
def test_every_form_of_a_secret_is_hidden_behind_a_mark_naming_it(sent: str, shown: str) -> None:
    redactor = Redactor().with_secrets([NEAR, "a/b+c d"])
    assert redactor.text(f"<{sent}>") == f"<{shown}>"
    assert redactor.body(f'{{"echo":"{sent}"}}'.encode()) == f'{{"echo":"{shown}"}}'.encode()
    assert redactor.header("Authorization", f"Bearer {sent}") == f"Bearer {shown}"


def test_a_credential_hides_even_a_short_secret_inside_it_and_shows_a_made_up_one() -> None:
    redactor = Redactor().with_secrets(["tok"])
    assert redactor.header("Authorization", "Bearer tokx") == f"Bearer {MARK}x"
    assert redactor.header("Authorization", "Bearertok") == f"Bearer{MARK}"
    assert redactor.header("Authorization", "Bearer sc-wrong-1") == "Bearer sc-wrong-1"
    assert redactor.text('{"turns":1,"t":"tok"}') == f'{{"turns":1,"t":"{MARK}"}}'
    assert Redactor().header("Authorization", "Bearer anything") == f"Bearer {MARK}"


def test_url_credentials_read_as_a_variable_everywhere() -> None:
    url = "http://alice:s3cret%2Fpw%2BZ9@127.0.0.1:8000/api"
    redactor = Redactor().with_url(url)
    basic = base64.b64encode(b"alice:s3cret/pw+Z9").decode()
    assert public_url(url) == "http://${SESSION_CONFORMANCE_USERINFO}@127.0.0.1:8000/api"
    assert redactor.text(url + "/run") == public_url(url) + "/run"
    assert redactor.header("Authorization", f"Basic {basic}") == f"Basic {BASIC_MARK}"
    assert redactor.text("password s3cret/pw+Z9 for alice:s3cret/pw+Z9") == (
        f"password {MARK} for ${{SESSION_CONFORMANCE_USERINFO}}"
    )
    assert public_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    key_only = Redactor().with_url("http://k3y-only-1234@h")  # no password: the user is secret
    assert (
        key_only.text("K3Y-ONLY-1234 k3y-only-123") == f"{Form.SWAPCASE.mark} {Form.TRUNCATED.mark}"
    )


def test_curl_lines_compute_every_form_again_from_the_variables() -> None:
    """A near miss of the token reproduces as that near miss, not as the token, and the
    URL's credentials come from the URL, as curl turns them into Basic credentials."""
    redactor = Redactor().with_secrets([NEAR])
    env = {**os.environ, "SESSION_CONFORMANCE_TOKEN": NEAR}
    for sent in (NEAR, NEAR.swapcase(), NEAR[:-1], f"x{NEAR}", f"{NEAR}{NEAR}"):
        request = RequestRecord("GET", "http://h/x", (("Authorization", redactor.header(
            "Authorization", f"Bearer {sent}")),), b"")  # fmt: skip
        (flag, word) = header_args(request.headers)
        assert flag == "-H"
        assert NEAR not in word
        echoed = subprocess.run(["sh", "-c", f"printf %s {word}"], env=env, capture_output=True,
                                text=True, check=True).stdout  # fmt: skip
        assert echoed == f"Authorization: Bearer {sent}"
    with_url = Redactor().with_url("http://al'ice:pw$1@h:1")
    record = RequestRecord("GET", with_url.text("http://al'ice:pw$1@h:1/a b"), (
        ("Authorization", with_url.header("Authorization", "Basic YWwnaWNlOnB3JDE=")),), b"")  # fmt: skip
    line = curl(record)
    assert "Authorization" not in line  # curl makes it of the URL's userinfo
    env = {**os.environ, "SESSION_CONFORMANCE_USERINFO": "al'ice:pw$1"}
    url = line.split(" -X GET ", 1)[1]
    echoed = subprocess.run(["sh", "-c", f"printf %s {url}"], env=env, capture_output=True,
                            text=True, check=True).stdout  # fmt: skip
    assert echoed == "http://al'ice:pw$1@h:1/a b"


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["http://alice:pw-9f3e1c@127.0.0.1:1", "--token", "t-8c1d77e2"], "give one of them"),
        (["htp://alice:pw-9f3e1c@127.0.0.1:1"], "is not an http(s) URL"),
        (["http://alice:pw-9f3e1c@127.0.0.1:x"], "has an invalid port"),
    ],
)
def test_bad_urls_with_credentials_are_usage_errors_that_hide_them(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", *argv, "--clause", "LIFE-001"])
    out, err = capsys.readouterr()
    assert code == 2
    assert fragment in err
    assert err.count("\n") == 1
    assert "pw-9f3e1c" not in out + err
    assert "t-8c1d77e2" not in out + err


def test_a_stateful_script_takes_the_url_credentials_from_the_environment() -> None:
    redactor = Redactor().with_url("http://al:pw-77c1e9d2@h:1")
    basic = redactor.header("Authorization", "Basic YWw6cHctNzdjMWU5ZDI=")
    steps = [
        Exchange(number, RequestRecord("GET", redactor.text("http://al:pw-77c1e9d2@h:1/x"),
                                       (("Authorization", basic),)),
                 ResponseRecord(200, (), b"{}"))
        for number in range(2)
    ]  # fmt: skip
    lines = script(steps)
    text = "\n".join(lines)
    assert "# First: export SESSION_CONFORMANCE_USERINFO=" in text
    assert 'BASE="http://${SESSION_CONFORMANCE_USERINFO}@h:1"' in lines
    assert "Authorization" not in text  # curl makes the Basic credentials of the URL
    assert "pw-77c1e9d2" not in text


def test_a_redactor_built_with_secrets_hides_every_form_of_them() -> None:
    built = Redactor(secrets=("tok-built-7d2a",))
    assert (
        built.text("TOK-BUILT-7D2A tok-built-7d2") == f"{Form.SWAPCASE.mark} {Form.TRUNCATED.mark}"
    )
    assert built == Redactor().with_secrets(["tok-built-7d2a"])
