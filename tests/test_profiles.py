"""Profiles: the file format, the translation below the checks, and the same clauses run
against other layouts (the chat-header and status-query fixture servers, and mutants of
them, in-process and over a real socket)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
import yaml

from conformance.cli import main
from conformance.client import ContractClient, run_body
from conformance.context import Settings
from conformance.contract import load_document, specs_dir
from conformance.expectations import error_paths, expect_error, expect_schema, field
from conformance.profile import (
    BUILTINS,
    CANONICAL,
    AbsentField,
    NotInLayout,
    Profile,
    ProfileError,
    builtin_names,
    load_profile,
)
from conformance.records import ClauseResult, Verdict
from conformance.reference import ReferenceConfig, create_app
from conformance.runner import RunFinished, run, run_clause, select
from conformance.serving import serve_in_thread
from conformance.target import Target
from conformance.transport import ASGIApp
from fixtures.layouts import LayoutApp, chat_header, status_query

TOKEN, ORIGIN = "profile-token-51c2", "https://app.example"
#: What each layout cannot express, by design of its profile (and why).
LAYOUT_NOT_APPLICABLE = {
    "ID-002": "no Location naming a path segment",
    "VAL-004": "the run's session id travels outside the body, so it has no JSON type",
    "SENT-003": "a null session id cannot travel in a header or a query parameter",
    "SCHEMA-001": "the OpenAPI document describes the canonical layout",
    "TSCHEMA-001": "the layout's profile names no OpenAPI document of the target's own",
    "TSCHEMA-002": "the layout's profile names no OpenAPI document of the target's own",
}
LAYOUTS = [
    pytest.param("chat-header", chat_header.ChatHeaderApp, id="chat-header"),
    pytest.param("status-query", status_query.StatusQueryApp, id="status-query"),
]
MUTANTS = [
    pytest.param(profile, mutant, id=f"{profile}:{mutant.__name__}")
    for profile, module in (("chat-header", chat_header), ("status-query", status_query))
    for mutant in module.MUTANTS
]


# -- the format ------------------------------------------------------------------------------


def test_the_profile_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(load_document(specs_dir() / "profile.schema.json"))


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_profile_loads(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.has("create")
    assert profile.has("run")


def test_the_canonical_file_is_the_default_profile() -> None:
    loaded = load_profile("canonical")
    assert loaded.routes == CANONICAL.routes
    assert (loaded.envelope, loaded.readiness, loaded.features) == (
        CANONICAL.envelope,
        CANONICAL.readiness,
        CANONICAL.features,
    )
    assert loaded.canonical
    assert CANONICAL.canonical


def test_a_yaml_profile_reads_as_its_toml(tmp_path: Path) -> None:
    data = tomllib.loads((BUILTINS / "adk.toml").read_text())
    path = tmp_path / "adk-copy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert load_profile(str(path)).routes == load_profile("adk").routes


def test_profile_variables_fill_paths_and_constants() -> None:
    profile = load_profile("adk", {"app": "my_agent"})
    assert profile.route("create").template == "/apps/my_agent/users/{user_id}/sessions"
    assert dict(profile.route("run").constants) == {"/appName": '"my_agent"'}
    with pytest.raises(
        ProfileError, match=r"variables: no variable 'ap' to set \(variables: app\)"
    ):
        load_profile("adk", {"ap": "x"})


MINIMAL = """
readiness = "immediate"
[roles.create]
method = "POST"
path = "/u/{user_id}/s"
[roles.run]
method = "POST"
path = "/run"
"""

BROKEN = [
    ("rolez = 1\n", "the top level: unknown key 'rolez'"),
    (
        '[roles.get]\nmethod = "GET"\npath = "/s"\nsession_id = "header X"\n',
        "roles.get.session_id: 'header X' is not a place",
    ),
    ('[roles.get]\nmethod = "FETCH"\npath = "/s"\n', "roles.get.method: 'FETCH' is not a method"),
    ('[roles.get]\nmethod = "GET"\n', "roles.get: missing key 'path'"),
    ('[roles.chat]\nmethod = "GET"\npath = "/c"\n', "roles: key 'chat' is not a role"),
    (
        '[roles.get]\nmethod = "GET"\npath = "/s/{session_id}"\nsession_id = "header:X-Id"\n',
        "roles.get.session_id: the path has {session_id} but the session_id goes elsewhere",
    ),
    (
        '[roles.get]\nmethod = "GET"\npath = "/s"\nsession_id = "path"\n',
        "roles.get.session_id: 'path', but roles.get.path has no {session_id}",
    ),
    (
        '[roles.get]\nmethod = "GET"\npath = "/apps/{app}/s"\n',
        "roles.get.path: {app} is not user_id, session_id or a variable (variables: none)",
    ),
    (
        '[roles.get]\nmethod = "GET"\npath = "/s"\n[roles.get.response]\n"/session" = { shape = "Sessio" }\n',
        "roles.get.response./session.shape: no shapes.Sessio in this profile (shapes: none)",
    ),
    (
        '[roles.get]\nmethod = "GET"\npath = "/s"\n[roles.get.response]\n"/x" = { sum = "/y" }\n',
        "roles.get.response./x: {'sum': '/y'} is not a source",
    ),
    (
        '[roles.get]\nmethod = "GET"\npath = "/s"\n[roles.get.response]\n"x" = "/y"\n',
        "roles.get.response: key 'x' is not a JSON pointer",
    ),
    (
        '[envelope]\nkind = "fastapi"\n[[envelope.codes]]\ncode = "X"\nmessage = "(("\n',
        "envelope.codes.0.message: '((' is not a regex",
    ),
    ('envelope = "xml"\n', "envelope: 'xml' is not a built-in envelope"),
    ('features = ["auth", "telepathy"]\n', "features.1: 'telepathy' is not a feature"),
    ("[roles.get\n", "not valid TOML"),
]


@pytest.mark.parametrize(("extra", "message"), BROKEN, ids=[m for _, m in BROKEN])
def test_a_broken_profile_names_the_key(tmp_path: Path, extra: str, message: str) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(
        extra + MINIMAL if extra.startswith(("rolez", "envelope", "features")) else MINIMAL + extra
    )
    with pytest.raises(ProfileError) as raised:
        load_profile(str(path))
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)


def test_readiness_status_needs_a_status_role(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(MINIMAL.replace('"immediate"', '"status"'))
    with pytest.raises(ProfileError, match=r"readiness: 'status' needs a roles\.status route"):
        load_profile(str(path))


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--profile", "nosuch"], "no profile 'nosuch': not a built-in (adk, canonical"),
        (["--profile", "adk", "--profile-var", "app"], "--profile-var 'app': write NAME=VALUE"),
        (["--profile", "BROKEN"], "roles.get.method: 'FETCH' is not a method"),
    ],
)
def test_cli_bad_profile_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(MINIMAL + '[roles.get]\nmethod = "FETCH"\npath = "/s"\n')
    argv = [str(broken) if a == "BROKEN" else a for a in argv]
    code = main(["check", "http://127.0.0.1:9", *argv])
    out, err = capsys.readouterr()
    assert code == 2
    assert fragment in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in out + err


def test_a_profile_other_than_canonical_needs_a_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--profile", "chat-header"]) == 2
    assert "bundled reference speaks the canonical layout only" in capsys.readouterr().err


# -- translation below the checks ------------------------------------------------------------


@pytest.fixture
def chat() -> Iterator[ContractClient]:
    app = chat_header.ChatHeaderApp(ReferenceConfig(provision_seconds=0))
    with Target(app=app) as target:
        yield ContractClient(target, load_profile("chat-header"))


def _requests(client: ContractClient) -> list[tuple[str, str, tuple[tuple[str, str], ...], bytes]]:
    return [
        (e.request.method, e.request.url, e.request.headers, e.request.body)
        for e in client.target.since(0)
    ]


def test_the_canonical_profile_sends_and_reads_byte_for_byte() -> None:
    recorded = []
    for profile in (CANONICAL, load_profile("canonical")):
        with Target(app=create_app(ReferenceConfig(provision_seconds=0))) as target:
            client = ContractClient(target, profile)
            created = client.create("sc-user-1", {"session_id": "sc-one", "metadata": {"a": 1}})
            client.run("sc-user-1", "sc-one", "hi")
            client.call("run", raw=b'{"user_id":', headers={"Content-Type": "text/plain"})
            client.get("sc-user-1", "undefined")
            assert all(e.view is None for e in target.since(0))
            assert client.created_id(created) == "sc-one"
            recorded.append(_requests(client))
    assert recorded[0] == recorded[1]


def test_chat_header_puts_ids_in_headers_and_renames_the_message(chat: ContractClient) -> None:
    created = chat.create("sc-user-1", {"metadata": {"k": "v"}})
    session_id = chat.created_id(created)
    assert created.status == 201
    assert session_id is not None
    ran = chat.run("sc-user-1", session_id, "hi")
    request = ran.request
    assert request.url.endswith("/v1/chat")
    assert (request.header("x-user-id"), request.header("x-session-id")) == (
        "sc-user-1",
        session_id,
    )
    assert json.loads(request.body) == {"message": {"role": "user", "parts": [{"text": "hi"}]}}
    assert ran.status == 200
    assert field(ran, "session_id") == session_id


def test_unknown_fields_pass_through_and_wrong_types_land_on_the_profiles_field() -> None:
    profile = load_profile("adk")
    with Target(app=_canned(404, b'{"detail":"Session not found: x"}')) as target:
        client = ContractClient(target, profile)
        body = {**run_body("sc-u", 7), "tool_metadata": {"a": 1}}  # type: ignore[dict-item]
        exchange = client.call("run", body=body)
    assert json.loads(exchange.request.body) == {
        "userId": "sc-u",
        "sessionId": 7,
        "newMessage": {"role": "user", "parts": [{"text": "hello"}]},
        "tool_metadata": {"a": 1},
        "appName": "echo",
    }
    assert exchange.sent_json() == body
    assert expect_error(exchange, 404, "SESSION_NOT_FOUND", "run") is None


def test_what_a_header_cannot_carry_is_not_in_the_layout(chat: ContractClient) -> None:
    with pytest.raises(NotInLayout, match="X-Session-ID, which cannot carry the JSON None"):
        chat.call("run", body=run_body("sc-u", None))
    with pytest.raises(NotInLayout, match="whitespace around 'abc '"):
        chat.call("run", body=run_body("sc-u", "abc "))
    padded = chat.call("run", body=run_body("sc-u", " Undefined\t"))  # trimming cannot matter
    assert padded.request.header("x-session-id") == "Undefined"
    assert expect_error(padded, 400, "SESSION_ID_MISSING", "sentinel") is None


def test_a_size_probe_keeps_its_size_and_a_preflight_names_the_id_headers(
    chat: ContractClient,
) -> None:
    big = json.dumps(run_body("sc-u", "sc-s", "x" * 70_000), separators=(",", ":")).encode()
    sent = chat.call("run", raw=big)
    assert len(sent.request.body) == len(big)
    preflight = chat.call(
        "get",
        user_id="sc-u",
        session_id="sc-s",
        method="OPTIONS",
        headers={"Origin": ORIGIN, "Access-Control-Request-Headers": "authorization"},
        auth=False,
    )
    asked = preflight.request.header("access-control-request-headers") or ""
    assert asked == "authorization, x-user-id, x-session-id"
    assert preflight.request.header("x-session-id") is None


ADK_SESSION = {
    "id": "s1",
    "appName": "echo",
    "userId": "sc-u",
    "state": {"k": 1},
    "events": [
        {"id": "e1", "author": "user", "content": {"role": "user", "parts": [{"text": "hi"}]},
         "timestamp": 1.5},
        {"id": "e2", "author": "echo_agent", "content": {"role": "model", "parts": [{"text": "x"}]},
         "timestamp": 1.75},
    ],
    "lastUpdateTime": 1.75,
}  # fmt: skip


def _canned(status: int, body: bytes, media_type: str = "application/json") -> ASGIApp:
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        message = await receive()
        while message.get("more_body"):
            message = await receive()
        headers = [(b"content-type", media_type.encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app  # type: ignore[return-value]


def test_an_adk_session_reads_as_the_contracts() -> None:
    with Target(app=_canned(200, json.dumps(ADK_SESSION).encode())) as target:
        client = ContractClient(target, load_profile("adk"))
        created = client.create("sc-u", {"metadata": {"k": 1}, "session_id": "s1"})
    assert json.loads(created.request.body) == {"state": {"k": 1}, "sessionId": "s1"}
    assert created.status == 201
    assert created.response is not None
    assert created.response.status == 200  # the raw answer stays the evidence
    assert client.created_id(created) == "s1"
    assert field(created, "session") == {
        "session_id": "s1",
        "user_id": "sc-u",
        "metadata": {"k": 1},
        "phase": "Ready",
        "ready": True,
        "turns": 1,
    }
    assert expect_schema(created, 201, "SessionEnvelope", "create") is None  # created_at absent
    with pytest.raises(AbsentField, match="no /session/created_at"):
        field(created, "session", "created_at")


def test_fastapi_errors_read_as_the_envelope_with_pointers_mapped() -> None:
    detail = {"detail": [{"type": "string_type", "loc": ["body", "newMessage", "parts", 0],
                          "msg": "bad"}, {"loc": ["path", "user_id"], "msg": "worse"}]}  # fmt: skip
    with Target(app=_canned(422, json.dumps(detail).encode())) as target:
        client = ContractClient(target, load_profile("adk"))
        exchange = client.run("sc-u", "s1")
    assert expect_error(exchange, 422, "VALIDATION_ERROR", "run") is None
    assert error_paths(exchange) == ["/new_message/parts/0", "/path/user_id"]


def test_a_stream_of_adk_events_reads_as_contract_events() -> None:
    frame = json.dumps(ADK_SESSION["events"][1]).encode()  # type: ignore[index]
    app = _canned(200, b"data: " + frame + b"\n\n", "text/event-stream")
    with Target(app=app) as target:
        exchange = ContractClient(target, load_profile("adk")).run_stream("sc-u", "s1")
    data = exchange.stream_body().decode().removeprefix("data: ").strip()
    assert json.loads(data)["timestamp"] == "1970-01-01T00:00:01.750000Z"


def test_problem_details_read_as_the_envelope() -> None:
    app = status_query.StatusQueryApp(ReferenceConfig(provision_seconds=0))
    with Target(app=app) as target:
        client = ContractClient(target, load_profile("status-query"))
        missing = client.get("sc-u", "sc-never")
        bad_user = client.get("-bad", "sc-never")
    assert missing.response is not None
    assert missing.response.media_type == "application/problem+json"
    assert expect_error(missing, 404, "SESSION_NOT_FOUND", "get") is None
    assert expect_error(bad_user, 422, "VALIDATION_ERROR", "get") is None
    assert error_paths(bad_user) == ["/path/user_id"]  # the layout said /query/user


# -- the same clauses against every layout ---------------------------------------------------


def _run_all(profile: Profile, app: ASGIApp, **options: object) -> dict[str, ClauseResult]:
    settings = Settings(seed=3, max_examples=5, token=TOKEN, cors_origin=ORIGIN)
    with Target(app=app, token=TOKEN) as target:
        for event in run(target, settings, profile=profile, **options):  # type: ignore[arg-type]
            if isinstance(event, RunFinished):
                return {r.clause_id: r for r in event.report.results}
    raise AssertionError("the run never finished")


@pytest.mark.slow  # a full run per layout
@pytest.mark.parametrize(("name", "app_type"), LAYOUTS)
def test_a_conformant_server_in_another_layout_passes(name: str, app_type: type[LayoutApp]) -> None:
    app = app_type(ReferenceConfig(provision_seconds=0.1, token=TOKEN, cors_origin=ORIGIN))
    results = _run_all(load_profile(name), app)
    wrong = {
        cid: f"{r.verdict.value}: {r.summary}"
        for cid, r in results.items()
        if r.verdict in (Verdict.FAILED, Verdict.ERROR)
        or (r.verdict is Verdict.NOT_APPLICABLE and cid not in LAYOUT_NOT_APPLICABLE)
    }
    assert not wrong, wrong
    for cid in LAYOUT_NOT_APPLICABLE:
        assert results[cid].verdict is Verdict.NOT_APPLICABLE, results[cid].summary


@pytest.mark.parametrize(("name", "mutant"), MUTANTS)
def test_a_mutant_in_another_layout_trips_its_clauses(name: str, mutant: type[LayoutApp]) -> None:
    app = mutant(ReferenceConfig(provision_seconds=0.1, token=TOKEN, cors_origin=ORIGIN))
    trips: tuple[str, ...] = mutant.trips  # type: ignore[attr-defined]
    assert trips, f"{mutant.__name__} names no clause it trips"
    settings = Settings(seed=3, max_examples=10, token=TOKEN, cors_origin=ORIGIN)
    with Target(app=app, token=TOKEN) as target:
        client = ContractClient(target, load_profile(name))
        verdicts = {
            clause.id: run_clause(clause, client, settings).verdict for clause in select(trips)
        }
    assert verdicts == dict.fromkeys(trips, Verdict.FAILED)


@pytest.mark.socket
def test_check_over_a_socket_with_a_profile_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tomllib.loads((BUILTINS / "chat-header.toml").read_text())
    path = tmp_path / "our-chat.yaml"
    path.write_text(yaml.safe_dump({**data, "name": "our-chat"}, sort_keys=False))
    app = chat_header.ChatHeaderApp(ReferenceConfig(provision_seconds=0.1, token=TOKEN))
    report = tmp_path / "report.json"
    with serve_in_thread(app) as server:  # type: ignore[arg-type]
        argv = ["check", server.url, "--profile", str(path), "--token", TOKEN, "--seed", "4"]
        code = main([*argv, "--clause", "LIFE-001", "LIFE-005", "SENT-001", "ERR-006",
                     "AUTH-001", "--report-json", str(report), "-q"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, out + err
    saved = json.loads(report.read_text())
    assert saved["profile"] == "our-chat"
    assert f"--profile {path}" in saved["replay"]
    assert {c["id"]: c["verdict"] for c in saved["clauses"]} == {
        "LIFE-001": "passed",
        "LIFE-005": "passed",
        "SENT-001": "passed",
        "ERR-006": "passed",
        "AUTH-001": "passed",
    }


# -- the vendor's own OpenAPI document, before any request ----------------------------------


def test_the_contracts_own_document_fits_the_canonical_profile_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    document = str(specs_dir() / "session-contract.openapi.yaml")
    unreachable = "http://127.0.0.1:9"  # nothing is sent to the target
    assert main(["compare-openapi", unreachable, "--openapi", document]) == 0
    assert "compatible: 0 incompatibility(ies)" in capsys.readouterr().out
    assert main(["compare-openapi", unreachable, "--profile", "chat-header", "--openapi",
                 document]) == 1  # fmt: skip
    out = capsys.readouterr().out
    assert "incompatible run        no POST operation on a path matching /v1/chat" in out


def test_compare_openapi_names_what_the_document_lacks(tmp_path: Path) -> None:
    from conformance.vendor_spec import INCOMPATIBLE, compare

    document = {
        "paths": {
            "/apps/{app_name}/users/{user_id}/sessions": {
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {
                        "type": "object", "properties": {"state": {}, "sessionId": {}}}}}},
                    "responses": {"201": {}, "422": {}},
                },
            },
            "/run": {"post": {"requestBody": {"content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Run"}}}}, "responses": {"200": {}}}},
        },
        "components": {"schemas": {"Run": {"properties": {"userId": {}, "sessionId": {}}}}},
    }  # fmt: skip
    remarks = compare(load_profile("adk"), document)
    bad = {(r.role, r.message) for r in remarks if r.kind == INCOMPATIBLE}
    assert (
        "create",
        "POST /apps/{app_name}/users/{user_id}/sessions documents 201, the profile expects 200 "
        "(set success_status = 201)",
    ) in bad
    assert ("run", "POST /run: the request body has no field /newMessage") in bad
    assert ("run", "POST /run: the request body has no field /appName") in bad
    assert ("get", "no GET operation on a path matching "
            "/apps/echo/users/{user_id}/sessions/{session_id}") in bad  # fmt: skip


def test_compare_openapi_cannot_fetch_is_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare-openapi", "http://127.0.0.1:9", "--profile", "adk"]) == 3
    err = capsys.readouterr().err
    assert "cannot fetch http://127.0.0.1:9/openapi.json" in err
    assert "Traceback" not in err
