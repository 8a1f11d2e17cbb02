"""The stdlib fixture server, over real sockets: every route, error, precedence and option.

The server is the harness's second conformant backend; these tests pin that it really is
conformant (so a harness failure against it is a harness bug), including the free choices
it makes differently from the reference.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest

from fixtures.servers.stdlib_server import StdlibServer, start

pytestmark = pytest.mark.socket

TOKEN = "stdlib-token-5d2a"
ORIGIN = "https://app.example"
SENTINEL_IDS = [
    "undefined",
    "UNDEFINED",
    " null ",
    "None",
    "nil",
    "NaN",
    "[object Object]",
    "",
    "   ",
    "\tundefined\n",
]
MIB = 1_048_576

Start = Callable[..., StdlibServer]


@pytest.fixture
def serve() -> Iterator[Start]:
    """``serve(**options)`` starts a server (Ready at once unless told); all stop at the end."""
    started: list[StdlibServer] = []

    def _start(**options: object) -> StdlibServer:
        server = start(**{"provision_seconds": 0.0, **options})  # type: ignore[arg-type]
        started.append(server)
        return server

    yield _start
    for server in started:
        server.stop()


@pytest.fixture
def client(serve: Start) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=serve().url, timeout=10) as http:
        yield http


def run_body(user: str, sid: object, *texts: str) -> dict[str, object]:
    parts = [{"text": t} for t in texts or ("hello",)]
    return {"user_id": user, "session_id": sid, "new_message": {"role": "user", "parts": parts}}


def authorized(server: StdlibServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {TOKEN}"})


def create(http: httpx.Client, user: str = "alice", **body: object) -> str:
    response = http.post(f"/users/{user}/sessions", json=body)
    assert response.status_code == 201, response.text
    sid = response.json()["session_id"]
    assert isinstance(sid, str)
    return sid


def error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-length"] == str(len(response.content))
    body = response.json()
    assert body["ok"] is False
    assert body["error"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    assert isinstance(body, dict)
    return body


def pointers(response: httpx.Response) -> list[str]:
    body = error(response, 422, "VALIDATION_ERROR")
    return [e["path"] for e in body["details"]["errors"]]  # type: ignore[index]


# -- lifecycle and identity ------------------------------------------------------------------


def test_create_get_list_delete(client: httpx.Client) -> None:
    created = client.post("/users/alice/sessions", json={})
    assert created.status_code == 201
    body = created.json()
    sid = body["session_id"]
    assert sid.startswith("sess_")
    assert len(sid) == 29
    assert body["session"]["session_id"] == sid
    assert body["session"]["user_id"] == "alice"
    assert body["session"]["metadata"] == {}
    assert body["session"]["turns"] == 0
    assert body["session"]["phase"] == "Ready"
    assert body["session"]["ready"] is True
    assert "request_id" in body  # a free extra property
    location = created.headers["location"]
    assert location == f"{client.base_url}/users/alice/sessions/{sid}".replace("//u", "/u")
    assert urlsplit(location).scheme == "http"

    got = client.get(f"/users/alice/sessions/{sid}")
    assert got.status_code == 200
    assert got.json()["session"]["session_id"] == sid
    second = create(client)
    listed = client.get("/users/alice/sessions").json()["sessions"]
    assert [s["session_id"] for s in listed] == [second, sid]  # newest first

    deleted = client.delete(f"/users/alice/sessions/{sid}")
    assert deleted.status_code == 200
    assert deleted.json()["ok"] is True
    assert deleted.json()["session_id"] == sid
    for response in (
        client.get(f"/users/alice/sessions/{sid}"),
        client.get(f"/users/alice/sessions/{sid}/status"),
        client.delete(f"/users/alice/sessions/{sid}"),
        client.post("/run", json=run_body("alice", sid)),
    ):
        error(response, 404, "SESSION_NOT_FOUND")


def test_run_never_created_is_404_and_creates_nothing(client: httpx.Client) -> None:
    create(client)
    error(client.post("/run", json=run_body("alice", "made-up")), 404, "SESSION_NOT_FOUND")
    error(client.get("/users/alice/sessions/made-up"), 404, "SESSION_NOT_FOUND")
    error(client.get("/users/alice/sessions/%2E%2E"), 404, "SESSION_NOT_FOUND")


def test_client_chosen_id_conflict_reuse_and_other_user(client: httpx.Client) -> None:
    assert create(client, session_id="chosen-1") == "chosen-1"
    error(
        client.post("/users/alice/sessions", json={"session_id": "chosen-1"}), 409, "SESSION_EXISTS"
    )
    assert create(client, "bob", session_id="chosen-1") == "chosen-1"  # ids are per user
    assert client.delete("/users/alice/sessions/chosen-1").status_code == 200
    assert create(client, session_id="chosen-1") == "chosen-1"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"metadata": {"k": [1, 2.5, None, {"x": "ü"}]}},
        {"ttl_seconds": 60},
        {"ttl_seconds": 86400.0},
        {"session_id": "s1", "ttl_seconds": 3600, "metadata": {}},
    ],
)
def test_every_valid_create_body_is_accepted(client: httpx.Client, body: dict[str, object]) -> None:
    response = client.post("/users/u.1@x-y_z/sessions", json=body)
    assert response.status_code == 201, response.text
    session = response.json()["session"]
    assert session["metadata"] == body.get("metadata", {})
    assert session["ttl_seconds"] == int(body.get("ttl_seconds", 7200))  # type: ignore[call-overload]


def test_empty_create_body_is_an_empty_object_unless_typed_otherwise(client: httpx.Client) -> None:
    assert client.post("/users/alice/sessions").status_code == 201
    typed = client.post("/users/alice/sessions", headers={"content-type": "text/plain"})
    error(typed, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_concurrent_creates_are_distinct_and_readable(client: httpx.Client) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        ids = list(pool.map(lambda _: create(client), range(32)))
    assert len(set(ids)) == 32
    for sid in ids:
        assert client.get(f"/users/alice/sessions/{sid}").status_code == 200


def test_runs_count_turns_and_yield_two_events(client: httpx.Client) -> None:
    sid = create(client)
    for turn in (1, 2):
        response = client.post("/run", json=run_body("alice", sid, "hi", "there"))
        assert response.status_code == 200
        body = response.json()
        assert body["session_id"] == sid
        assert body["turns"] == turn
        ack, echo = body["events"]
        for event in (ack, echo):
            assert set(event) >= {"id", "author", "content", "timestamp"}
            assert event["content"]["role"] == "model"
            assert event["timestamp"].endswith("+00:00")
        assert [p["text"] for p in echo["content"]["parts"]] == ["you said: hi", "you said: there"]
    assert client.get(f"/users/alice/sessions/{sid}").json()["session"]["turns"] == 2


# -- provisioning ----------------------------------------------------------------------------


def test_provisioning_is_monotonic_and_reaches_ready(serve: Start) -> None:
    # 2 s: the run and the first status, sent at once, come while Starting (the first
    # 30 %) even on a loaded machine.
    with httpx.Client(base_url=serve(provision_seconds=2.0).url) as http:
        sid = create(http)
        error(http.post("/run", json=run_body("alice", sid)), 409, "SESSION_NOT_READY")
        seen: list[dict[str, object]] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = http.get(f"/users/alice/sessions/{sid}/status").json()
            seen.append(status)
            if status["ready"]:
                break
            time.sleep(0.02)
    phases = [s["phase"] for s in seen]
    order = ["Starting", "Provisioning", "Ready"]
    assert phases[0] == "Starting"
    assert phases[-1] == "Ready"
    assert [order.index(p) for p in phases] == sorted(order.index(p) for p in phases)  # type: ignore[arg-type]
    percents = [s["progress"]["percent"] for s in seen]  # type: ignore[index]
    assert percents == sorted(percents)
    assert percents[-1] == 100
    assert all(p < 100 for p in percents[:-1])
    for status in seen:
        eta = status["progress"]["eta_ms"]  # type: ignore[index]
        assert status["ready"] is (status["phase"] == "Ready")
        assert "error" not in status
        if status["phase"] == "Provisioning":
            assert isinstance(eta, int)
            assert eta >= 0
        else:
            assert eta is None  # null while Starting and at Ready


# -- streaming -------------------------------------------------------------------------------


def test_sse_streams_framed_events_and_counts_a_turn(client: httpx.Client) -> None:
    sid = create(client)
    with client.stream("POST", "/run_sse", json=run_body("alice", sid)) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["transfer-encoding"] == "chunked"
        text = response.read().decode()
    blocks = [b for b in text.split("\n\n") if b]
    assert blocks[0].startswith(": ")
    events = []
    for block in blocks[1:]:
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        assert lines["event"] == "message"
        event = json.loads(lines["data"])
        assert lines["id"] == event["id"]
        events.append(event)
    assert len(events) == 2
    assert client.get(f"/users/alice/sessions/{sid}").json()["session"]["turns"] == 1
    assert client.get("/users/alice/sessions").status_code == 200  # connection still usable


def test_sse_errors_before_the_stream_are_json(serve: Start) -> None:
    with httpx.Client(base_url=serve(provision_seconds=30).url) as http:
        sid = create(http)
        error(http.post("/run_sse", json=run_body("alice", "nope")), 404, "SESSION_NOT_FOUND")
        error(http.post("/run_sse", json=run_body("alice", sid)), 409, "SESSION_NOT_READY")
        error(http.post("/run_sse", json=run_body("alice", "undefined")), 400, "SESSION_ID_MISSING")
        error(http.post("/run_sse", json={"user_id": "alice"}), 422, "VALIDATION_ERROR")


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/nope"),
        ("POST", "/runs"),
        ("GET", "/run/"),
        ("PUT", "/x"),
        ("GET", "/users/alice"),
        ("GET", "/users/alice/sessions/s/status/x"),
        ("FOO", "/nope"),
    ],
)
def test_unknown_routes_are_404_json(client: httpx.Client, method: str, path: str) -> None:
    error(client.request(method, path), 404, "NOT_FOUND")


def test_head_answers_headers_only(client: httpx.Client) -> None:
    sid = create(client)
    head = client.head(f"/users/alice/sessions/{sid}")
    assert head.status_code == 200
    assert head.content == b""
    full = client.get(f"/users/alice/sessions/{sid}")
    assert int(head.headers["content-length"]) == len(full.content)
    assert client.head("/nope").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/run", "POST, OPTIONS"),
        ("GET", "/run_sse", "POST, OPTIONS"),
        ("DELETE", "/users/alice/sessions", "GET, POST, HEAD, OPTIONS"),
        ("POST", "/users/alice/sessions/s", "GET, DELETE, HEAD, OPTIONS"),
        ("PATCH", "/users/alice/sessions/s/status", "GET, HEAD, OPTIONS"),
        ("BREW", "/run", "POST, OPTIONS"),
    ],
)
def test_wrong_methods_are_405_with_allow(
    client: httpx.Client, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)
    error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == allow


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"NaN",
        b'{"user_id": Infinity}',
        b"-Infinity",
        b"\xff\xfe",
        b"{} x",
        b"",
        b"\xef\xbb\xbf{}",
    ],
)
def test_malformed_json_is_400(client: httpx.Client, raw: bytes) -> None:
    headers = {"content-type": "application/json"}
    error(client.post("/run", content=raw, headers=headers), 400, "MALFORMED_JSON")
    if raw:
        response = client.post("/users/alice/sessions", content=raw, headers=headers)
        error(response, 400, "MALFORMED_JSON")


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": "text/plain"},
        {"content-type": "application/merge-patch+json"},
        {"content-type": "application/x-www-form-urlencoded"},
        {"content-type": "application/json", "content-encoding": "gzip"},
        {},
    ],
)
def test_other_media_types_are_415(client: httpx.Client, headers: dict[str, str]) -> None:
    body = json.dumps(run_body("alice", "s")).encode()
    error(client.post("/run", content=body, headers=headers), 415, "UNSUPPORTED_MEDIA_TYPE")
    response = client.post("/users/alice/sessions", content=b"{}", headers=headers)
    error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_json_media_type_is_matched_loosely(client: httpx.Client) -> None:
    headers = {"content-type": "Application/JSON ; charset=UTF-8"}
    assert client.post("/users/alice/sessions", content=b"{}", headers=headers).status_code == 201


def test_body_limit_is_one_mebibyte(client: httpx.Client) -> None:
    frame = b'{"metadata":{"pad":""}}'
    exact = frame.replace(b'""', b'"' + b"x" * (MIB - len(frame)) + b'"')
    assert len(exact) == MIB
    headers = {"content-type": "application/json"}
    assert client.post("/users/alice/sessions", content=exact, headers=headers).status_code == 201
    over = exact.replace(b'"x', b'"xx', 1)
    error(
        client.post("/users/alice/sessions", content=over, headers=headers),
        413,
        "PAYLOAD_TOO_LARGE",
    )
    chunked = client.post("/run", content=iter([over[:MIB], over[MIB:]]), headers=headers)
    error(chunked, 413, "PAYLOAD_TOO_LARGE")
    assert client.get("/users/alice/sessions").status_code == 200  # connection survives


def test_precedence(serve: Start) -> None:
    server = serve(token=TOKEN, provision_seconds=30)
    auth = {"authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=server.url) as http:
        with authorized(server) as owner:
            sid = create(owner)
        huge = b"{" + b" " * MIB + b"x"
        # 404/405 need no token
        error(
            http.post("/nope", content=huge, headers={"content-type": "text/plain"}),
            404,
            "NOT_FOUND",
        )
        error(http.put("/run", content=huge), 405, "METHOD_NOT_ALLOWED")
        # 401 before media type, size and parsing
        error(
            http.post("/run", content=huge, headers={"content-type": "text/plain"}),
            401,
            "UNAUTHORIZED",
        )
        http.headers.update(auth)
        error(
            http.post("/run", content=huge, headers={"content-type": "text/plain"}),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        )
        error(
            http.post("/run", content=huge, headers={"content-type": "application/json"}),
            413,
            "PAYLOAD_TOO_LARGE",
        )
        error(
            http.post("/run", content=b"{", headers={"content-type": "application/json"}),
            400,
            "MALFORMED_JSON",
        )
        # sentinel 400 before 422, 422 before 404, 404 before 409
        sentinel = run_body("bad user", "undefined") | {"extra": 1}
        error(http.post("/run", json=sentinel), 400, "SESSION_ID_MISSING")
        error(http.get("/users/bad%20user/sessions/null"), 400, "SESSION_ID_MISSING")
        error(http.get("/users/bad%20user/sessions/missing"), 422, "VALIDATION_ERROR")
        error(http.post("/run", json=run_body("bad user", "missing")), 422, "VALIDATION_ERROR")
        error(http.post("/run", json=run_body("bob", sid)), 404, "SESSION_NOT_FOUND")
        error(http.post("/run", json=run_body("alice", sid)), 409, "SESSION_NOT_READY")


# -- sentinels -------------------------------------------------------------------------------


@pytest.mark.parametrize("sentinel", SENTINEL_IDS)
def test_sentinels_are_400_everywhere(client: httpx.Client, sentinel: str) -> None:
    create(client)  # the user owns a session: the sentinel must still not be looked up
    segment = quote(sentinel, safe="")
    for response in (
        client.get(f"/users/alice/sessions/{segment}"),
        client.get(f"/users/alice/sessions/{segment}/status"),
        client.delete(f"/users/alice/sessions/{segment}"),
        client.post("/run", json=run_body("alice", sentinel)),
        client.post("/run_sse", json=run_body("alice", sentinel)),
        client.post("/users/alice/sessions", json={"session_id": sentinel}),
    ):
        error(response, 400, "SESSION_ID_MISSING")
    assert len(client.get("/users/alice/sessions").json()["sessions"]) == 1


def test_null_session_ids_are_400_and_other_types_422(client: httpx.Client) -> None:
    error(client.post("/run", json=run_body("alice", None)), 400, "SESSION_ID_MISSING")
    error(
        client.post("/users/alice/sessions", json={"session_id": None}), 400, "SESSION_ID_MISSING"
    )
    assert pointers(client.post("/run", json=run_body("alice", 42))) == ["/session_id"]
    missing = {"user_id": "alice", "new_message": {"role": "user", "parts": [{"text": "x"}]}}
    assert pointers(client.post("/run", json=missing)) == ["/session_id"]


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"tool_metadata": {}}, ["/tool_metadata"]),
        ({"ttl_seconds": 59}, ["/ttl_seconds"]),
        ({"ttl_seconds": 86401}, ["/ttl_seconds"]),
        ({"ttl_seconds": "60"}, ["/ttl_seconds"]),
        ({"ttl_seconds": True}, ["/ttl_seconds"]),
        ({"ttl_seconds": 60.5}, ["/ttl_seconds"]),
        ({"metadata": []}, ["/metadata"]),
        ({"metadata": None}, ["/metadata"]),
        ({"session_id": "a\n"}, ["/session_id"]),
        ({"session_id": "-a"}, ["/session_id"]),
        ({"session_id": "x" * 129}, ["/session_id"]),
        ({"session_id": 7}, ["/session_id"]),
        ([], [""]),
        ("s", [""]),
        (None, [""]),
    ],
)
def test_create_schema_violations_are_422(
    client: httpx.Client, body: object, expected: list[str]
) -> None:
    raw = json.dumps(body).encode()  # json=None would send no body at all
    response = client.post(
        "/users/alice/sessions", content=raw, headers={"content-type": "application/json"}
    )
    assert pointers(response) == expected


def test_create_reports_every_problem_and_names_unknown_fields(client: httpx.Client) -> None:
    response = client.post("/users/bad%0A/sessions", json={"a/b": 1, "ttl_seconds": 1})
    assert pointers(response) == ["/path/user_id", "/a~1b", "/ttl_seconds"]
    named = client.post("/users/alice/sessions", json={"tool_metadata": 1})
    assert "tool_metadata" in named.json()["message"]


def test_metadata_must_be_representable(client: httpx.Client) -> None:
    raw = b'{"metadata": {"n": [1e400]}}'
    response = client.post(
        "/users/alice/sessions", content=raw, headers={"content-type": "application/json"}
    )
    assert pointers(response) == ["/metadata/n/0"]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda b: b.update(extra=1), ["/extra"]),
        (lambda b: b["new_message"].update(extra=1), ["/new_message/extra"]),
        (lambda b: b["new_message"]["parts"][0].update(extra=1), ["/new_message/parts/0/extra"]),
        (lambda b: b["new_message"].update(role="model"), ["/new_message/role"]),
        (lambda b: b["new_message"].update(parts=[]), ["/new_message/parts"]),
        (lambda b: b["new_message"].update(parts=["x"]), ["/new_message/parts/0"]),
        (lambda b: b["new_message"]["parts"][0].pop("text"), ["/new_message/parts/0/text"]),
        (lambda b: b.pop("new_message"), ["/new_message"]),
        (lambda b: b.update(user_id="alice\n"), ["/user_id"]),
        (lambda b: b.pop("user_id"), ["/user_id"]),
        (lambda b: b.update(session_id="s1 "), ["/session_id"]),
    ],
)
def test_run_schema_violations_are_422(
    client: httpx.Client, mutate: Callable[[dict[str, object]], object], expected: list[str]
) -> None:
    body = json.loads(json.dumps(run_body("alice", "s1")))
    mutate(body)
    assert pointers(client.post("/run", json=body)) == expected


@pytest.mark.parametrize("user", ["bad user", "-lead", "a" * 129, "ok%0A", "%C3%BC"])
def test_path_user_ids_are_422(client: httpx.Client, user: str) -> None:
    assert pointers(client.get(f"/users/{user}/sessions")) == ["/path/user_id"]
    assert pointers(client.post(f"/users/{user}/sessions", json={})) == ["/path/user_id"]


def test_any_unicode_text_runs(client: httpx.Client) -> None:
    sid = create(client)
    texts = ["", "ü 漢字 🎉", '\u2028\n"quoted"', "\ud7ff"]
    response = client.post("/run", json=run_body("alice", sid, *texts))
    assert response.status_code == 200
    echoed = [p["text"] for p in response.json()["events"][1]["content"]["parts"]]
    assert echoed == [f"you said: {t}" for t in texts]


# -- isolation -------------------------------------------------------------------------------


def test_users_are_isolated(client: httpx.Client) -> None:
    sid = create(client, "alice")
    for response in (
        client.get(f"/users/bob/sessions/{sid}"),
        client.get(f"/users/bob/sessions/{sid}/status"),
        client.delete(f"/users/bob/sessions/{sid}"),
        client.post("/run", json=run_body("bob", sid)),
    ):
        error(response, 404, "SESSION_NOT_FOUND")
    assert client.get("/users/bob/sessions").json()["sessions"] == []
    session = client.get(f"/users/alice/sessions/{sid}").json()["session"]
    assert session["turns"] == 0


# -- auth ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/users/alice/sessions"),
        ("GET", "/users/alice/sessions"),
        ("GET", "/users/alice/sessions/{sid}"),
        ("DELETE", "/users/alice/sessions/{sid}"),
        ("GET", "/users/alice/sessions/{sid}/status"),
        ("POST", "/run"),
        ("POST", "/run_sse"),
    ],
)
def test_every_route_needs_the_token(serve: Start, method: str, path: str) -> None:
    server = serve(token=TOKEN)
    with httpx.Client(base_url=server.url) as http:
        with authorized(server) as owner:
            sid = create(owner)
        url = path.format(sid=sid)
        kwargs: dict[str, object] = {}
        if method == "POST":
            kwargs["json"] = {} if url.endswith("/sessions") else run_body("alice", sid)
        missing = http.request(method, url, **kwargs)  # type: ignore[arg-type]
        error(missing, 401, "UNAUTHORIZED")
        assert missing.headers["www-authenticate"] == 'Bearer realm="sessions"'
        for value in (f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer", f"Token {TOKEN}"):
            wrong = http.request(method, url, headers={"authorization": value}, **kwargs)  # type: ignore[arg-type]
            error(wrong, 401, "UNAUTHORIZED")
            assert wrong.headers["www-authenticate"].startswith("Bearer ")
        for scheme in ("bearer", "BEARER", "BeArEr"):
            ok = http.request(method, url, headers={"authorization": f"{scheme} {TOKEN}"}, **kwargs)  # type: ignore[arg-type]
            assert ok.status_code != 401, ok.text
            assert ok.status_code < 400 or ok.json()["error"] == "SESSION_NOT_FOUND"  # deleted


def test_auth_comes_before_lookup_and_preflight_needs_no_token(serve: Start) -> None:
    server = serve(token=TOKEN, cors_origin=ORIGIN)
    with httpx.Client(base_url=server.url) as http:
        with authorized(server) as owner:
            sid = create(owner)
        existing = http.get(f"/users/alice/sessions/{sid}")
        missing = http.get("/users/alice/sessions/never")
        assert existing.json()["error"] == missing.json()["error"] == "UNAUTHORIZED"
        preflight = http.options(
            "/run", headers={"origin": ORIGIN, "access-control-request-method": "POST"}
        )
        assert preflight.status_code == 204


# -- CORS ------------------------------------------------------------------------------------


def test_cors_on(serve: Start) -> None:
    with httpx.Client(base_url=serve(cors_origin=ORIGIN).url) as http:
        preflight = http.options(
            "/users/alice/sessions",
            headers={
                "origin": ORIGIN,
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 204
        assert "content-length" not in preflight.headers
        assert preflight.headers["access-control-allow-origin"] == ORIGIN
        methods = preflight.headers["access-control-allow-methods"]
        assert {"GET", "POST"} <= {m.strip() for m in methods.split(",")}
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed
        assert "content-type" in allowed
        assert "origin" in preflight.headers["vary"].lower()
        assert preflight.headers["access-control-max-age"] == "600"
        for response in (
            http.post("/users/alice/sessions", json={}, headers={"origin": ORIGIN}),
            http.get("/nope", headers={"origin": ORIGIN}),
            http.post("/run", content=b"{", headers={"origin": ORIGIN}),
        ):
            assert response.headers["access-control-allow-origin"] == ORIGIN
            assert response.headers["vary"] == "Origin, Accept-Encoding"
            assert response.headers["access-control-allow-credentials"] == "true"
        for response in (
            http.options(
                "/run",
                headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
            ),
            http.post("/users/alice/sessions", json={}, headers={"origin": "https://evil.example"}),
        ):
            assert not [h for h in response.headers if h.startswith("access-control-")]


def test_cors_off(client: httpx.Client) -> None:
    preflight = client.options(
        "/run", headers={"origin": ORIGIN, "access-control-request-method": "POST"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["allow"] == "POST, OPTIONS"
    response = client.post("/users/alice/sessions", json={}, headers={"origin": ORIGIN})
    for answer in (preflight, response):
        assert not [h for h in answer.headers if h.startswith("access-control-")]
    error(client.options("/nope"), 404, "NOT_FOUND")


# -- base path, raw HTTP and the CLI ---------------------------------------------------------


def test_base_path(serve: Start) -> None:
    server = serve(base_path="api/v1/")
    assert server.url.endswith("/api/v1")
    root = server.url.removesuffix("/api/v1")
    with httpx.Client(base_url=server.url) as http:
        created = http.post("/users/alice/sessions", json={})
        sid = created.json()["session_id"]
        assert urlsplit(created.headers["location"]).path == f"/api/v1/users/alice/sessions/{sid}"
        assert http.post("/run", json=run_body("alice", sid)).status_code == 200
    error(httpx.get(f"{root}/users/alice/sessions"), 404, "NOT_FOUND")
    error(httpx.get(f"{root}/api/v1"), 404, "NOT_FOUND")
    error(httpx.get(f"{root}/api/v10/run"), 404, "NOT_FOUND")


def raw_exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", b"400"),
        (b"GET / HTTP/9.9\r\n\r\n", b"505"),
        (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", b"414"),
        (b"POST /run HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", b"400"),
        (b"POST /run HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", b"501"),
        (b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", b"404"),
    ],
)
def test_http_level_faults_are_json(serve: Start, request_bytes: bytes, status: bytes) -> None:
    answer = raw_exchange(serve().port, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 " + status)
    assert b"Content-Type: application/json" in head
    envelope = json.loads(body)
    assert envelope["ok"] is False
    assert isinstance(envelope["error"], str)


def test_cli_serves_in_the_foreground(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parent.parent
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fixtures.servers.stdlib_server",
            "--port",
            str(port),
            "--provision-seconds",
            "0",
            "--base-path",
            "/p",
        ],
        cwd=repo,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line == f"listening on http://127.0.0.1:{port}/p"
        response = httpx.post(f"http://127.0.0.1:{port}/p/users/alice/sessions", json={})
        assert response.status_code == 201
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
