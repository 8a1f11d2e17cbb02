"""The reference implementation, in-process: every route, error code and precedence rule.

Requests go through httpx's ``ASGITransport`` on a private event loop (a blocking
portal), so the tests stay plain synchronous pytest. Provisioning and expiry are stepped
with an injected clock, never by sleeping.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from urllib.parse import quote

import anyio
import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from conformance.reference import ReferenceApp, ReferenceConfig, create_app
from conformance.reference.models import Failure, Message, Session
from conformance.reference.store import SessionStore
from conformance.reference.validation import is_sentinel, pointer

TOKEN = "s3cret-token"
ORIGIN = "https://app.example"
JSON_TYPE = {"Content-Type": "application/json"}
SENTINELS = [
    "undefined",
    "null",
    "None",
    "NIL",
    "NaN",
    "[object Object]",
    " undefined ",
    "\tnull\n",
]
BLANKS = ["", " ", "   ", "\t"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Client:
    """A synchronous face on ``httpx.AsyncClient`` + ``ASGITransport``."""

    def __init__(self, portal: BlockingPortal, app: Any, root_path: str = "") -> None:
        self.portal = portal
        self.app = app
        transport = httpx.ASGITransport(app=app, root_path=root_path)
        self._client = httpx.AsyncClient(transport=transport, base_url="http://ref.test")
        self.headers: dict[str, str] = {}

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        response = self.portal.call(
            lambda: self._client.request(method, url, headers=headers, **kwargs)
        )
        if response.status_code >= 400:
            assert_envelope(response)
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    # -- the contract's roles -------------------------------------------------------------

    def create(self, user: str = "alice", body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.post(f"/users/{user}/sessions", json={} if body is None else body, **kwargs)

    def new(self, user: str = "alice", **body: Any) -> str:
        response = self.create(user, body)
        assert response.status_code == 201, response.text
        sid: str = response.json()["session_id"]
        return sid

    def run(
        self, user: str, sid: Any, text: str = "hi", *, sse: bool = False, **kwargs: Any
    ) -> httpx.Response:
        body = {"user_id": user, "session_id": sid, "new_message": user_message(text)}
        content = json.dumps(body)  # ASCII: a lone surrogate travels as an escape
        headers = {**JSON_TYPE, **kwargs.pop("headers", {})}
        return self.post("/run_sse" if sse else "/run", content=content, headers=headers)

    def close(self) -> None:
        self.portal.call(self._client.aclose)


def user_message(*texts: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text} for text in texts]}


def assert_envelope(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert body["ok"] is False
    assert isinstance(body["error"], str)
    assert body["error"]
    assert isinstance(body["message"], str)
    assert body["message"]
    assert "Traceback" not in response.text
    assert ".py" not in response.text
    if "details" in body:
        assert isinstance(body["details"], dict)


def error_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]


def paths_of(response: httpx.Response) -> list[str]:
    return [entry["path"] for entry in response.json()["details"]["errors"]]


@pytest.fixture(scope="module")
def portal() -> Iterator[BlockingPortal]:
    with start_blocking_portal() as running:
        yield running


MakeClient = Callable[..., Client]


@pytest.fixture
def make_client(portal: BlockingPortal) -> Iterator[MakeClient]:
    made: list[Client] = []

    def make(
        config: ReferenceConfig | None = None,
        *,
        clock: FakeClock | None = None,
        app: Any = None,
        root_path: str = "",
    ) -> Client:
        if app is None:
            config = config or ReferenceConfig(provision_seconds=0)
            app = ReferenceApp(config, clock=clock) if clock else create_app(config)
        client = Client(portal, app, root_path)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: MakeClient) -> Client:
    return make_client()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# -- R1 create ------------------------------------------------------------------------------


def test_create_answers_201_with_location_and_session(client: Client) -> None:
    response = client.create("alice")
    assert response.status_code == 201
    body = response.json()
    sid = body["session_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", sid)
    assert response.headers["location"] == f"/users/alice/sessions/{sid}"
    session = body["session"]
    assert session["session_id"] == sid
    assert session["user_id"] == "alice"
    assert session["phase"] == "Ready"
    assert session["ready"] is True
    assert session["metadata"] == {}
    assert session["turns"] == 0
    assert session["created_at"].endswith("Z")
    assert datetime.fromisoformat(session["created_at"]).utcoffset() is not None


def test_create_honours_every_optional_field(client: Client) -> None:
    metadata = {"k": [1, 2.5, None, True, "é🙂"], "nested": {"a": {"b": []}}}
    body = {"metadata": metadata, "session_id": "My_id-1", "ttl_seconds": 60}
    response = client.create("bob.smith@example.com", body)
    assert response.status_code == 201
    assert response.json()["session_id"] == "My_id-1"
    assert response.json()["session"]["metadata"] == metadata
    got = client.get("/users/bob.smith@example.com/sessions/My_id-1")
    assert got.json()["session"]["metadata"] == metadata
    assert list(got.json()["session"]["metadata"]) == ["k", "nested"]


@pytest.mark.parametrize(
    "body",
    [{}, {"metadata": {}}, {"ttl_seconds": 86400}, {"ttl_seconds": 600.0}, {"session_id": "x"}],
)
def test_create_accepts_valid_bodies(client: Client, body: dict[str, Any]) -> None:
    assert client.create("alice", body).status_code == 201


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json"])
def test_create_with_no_body_is_an_empty_create(client: Client, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/users/alice/sessions", content=b"", headers=headers)
    assert response.status_code == 201


def test_client_chosen_id_taken_is_409_and_free_again_after_delete(client: Client) -> None:
    assert client.create("alice", {"session_id": "s1"}).status_code == 201
    assert error_of(client.create("alice", {"session_id": "s1"})) == (409, "SESSION_EXISTS")
    assert client.create("bob", {"session_id": "s1"}).status_code == 201  # ids are per user
    assert client.delete("/users/alice/sessions/s1").status_code == 200
    again = client.create("alice", {"session_id": "s1"})
    assert again.status_code == 201
    assert again.json()["session"]["turns"] == 0


def test_id_factory_is_used_and_a_stuck_factory_is_a_500_envelope(
    make_client: MakeClient,
) -> None:
    client = make_client(ReferenceConfig(provision_seconds=0, id_factory=lambda: "fixed"))
    assert client.new() == "fixed"
    response = client.create("alice")
    assert error_of(response) == (500, "INTERNAL_ERROR")


def test_location_includes_the_base_prefix(make_client: MakeClient) -> None:
    client = make_client(root_path="/api")
    response = client.post("/api/users/alice/sessions", json={"session_id": "p1"})
    assert response.status_code == 201
    assert response.headers["location"] == "/api/users/alice/sessions/p1"
    assert client.get("/api/users/alice/sessions/p1").status_code == 200


# -- R2-R5 get, list, delete, status --------------------------------------------------------


def test_get_list_delete_and_status(client: Client) -> None:
    sid = client.new("alice", metadata={"x": 1})
    other = client.new("bob")
    got = client.get(f"/users/alice/sessions/{sid}")
    assert got.status_code == 200
    assert got.json()["session_id"] == sid == got.json()["session"]["session_id"]
    listed = client.get("/users/alice/sessions").json()
    assert listed["ok"] is True
    assert [s["session_id"] for s in listed["sessions"]] == [sid]
    assert other not in json.dumps(listed)
    status = client.get(f"/users/alice/sessions/{sid}/status").json()
    assert status == {
        "ok": True,
        "session_id": sid,
        "ready": True,
        "phase": "Ready",
        "progress": {"percent": 100, "eta_ms": 0},
    }
    deleted = client.delete(f"/users/alice/sessions/{sid}")
    assert deleted.status_code == 200
    assert deleted.json() == {"ok": True, "session_id": sid}
    for method, path in [
        ("GET", f"/users/alice/sessions/{sid}"),
        ("GET", f"/users/alice/sessions/{sid}/status"),
        ("DELETE", f"/users/alice/sessions/{sid}"),
    ]:
        assert error_of(client.request(method, path)) == (404, "SESSION_NOT_FOUND")
    assert error_of(client.run("alice", sid)) == (404, "SESSION_NOT_FOUND")
    assert client.get("/users/alice/sessions").json()["sessions"] == []


def test_another_users_session_is_404_everywhere(client: Client) -> None:
    sid = client.new("alice")
    for method, path in [
        ("GET", f"/users/bob/sessions/{sid}"),
        ("GET", f"/users/bob/sessions/{sid}/status"),
        ("DELETE", f"/users/bob/sessions/{sid}"),
    ]:
        assert error_of(client.request(method, path)) == (404, "SESSION_NOT_FOUND")
    assert error_of(client.run("bob", sid)) == (404, "SESSION_NOT_FOUND")
    assert client.get(f"/users/alice/sessions/{sid}").json()["session"]["turns"] == 0


@pytest.mark.parametrize("sid", ["a%2Fb", "no-such-session", "x%0A", "%C3%A9", "%FF"])
def test_path_session_ids_are_opaque(client: Client, sid: str) -> None:
    client.new("alice", session_id="x")
    response = client.get(f"/users/alice/sessions/{sid}")
    assert error_of(response) == (404, "SESSION_NOT_FOUND")
    assert error_of(client.get(f"/users/alice/sessions/{sid}/status")) == (
        404,
        "SESSION_NOT_FOUND",
    )


@pytest.mark.parametrize("user", ["bad%20user", "-leading", "a%0A", "x" * 129, "%C3%A9"])
def test_path_user_id_breaking_its_pattern_is_422(client: Client, user: str) -> None:
    for method, path in [
        ("GET", f"/users/{user}/sessions"),
        ("POST", f"/users/{user}/sessions"),
        ("GET", f"/users/{user}/sessions/abc"),
        ("GET", f"/users/{user}/sessions/abc/status"),
        ("DELETE", f"/users/{user}/sessions/abc"),
    ]:
        response = client.request(method, path)
        assert error_of(response) == (422, "VALIDATION_ERROR")
        assert paths_of(response) == ["/path/user_id"]


# -- R6/R7 run ------------------------------------------------------------------------------


def test_run_echoes_and_counts_turns(client: Client) -> None:
    sid = client.new("alice")
    first = client.post(
        "/run",
        json={"user_id": "alice", "session_id": sid, "new_message": user_message("hi", "there")},
    )
    assert first.status_code == 200
    body = first.json()
    assert body["ok"] is True
    assert body["session_id"] == sid
    [event] = body["events"]
    assert event["author"] == "reference-agent"
    assert event["content"] == {"role": "model", "parts": [{"text": "echo: hi there"}]}
    assert event["id"]
    assert event["timestamp"].endswith("Z")
    assert client.run("alice", sid, "again").status_code == 200
    assert client.run("alice", sid, sse=True).status_code == 200
    assert client.get(f"/users/alice/sessions/{sid}").json()["session"]["turns"] == 3


@pytest.mark.parametrize("text", ["", "ünïcödé 🙂", "line\nbreak", "\ud800", "x" * 10_000])
def test_run_accepts_any_text(client: Client, text: str) -> None:
    sid = client.new("alice")
    response = client.run("alice", sid, text)
    assert response.status_code == 200
    assert response.json()["events"][0]["content"]["parts"][0]["text"] == f"echo: {text}"


def test_run_on_a_never_created_id_does_not_create_it(client: Client) -> None:
    assert error_of(client.run("alice", "ghost")) == (404, "SESSION_NOT_FOUND")
    assert error_of(client.get("/users/alice/sessions/ghost")) == (404, "SESSION_NOT_FOUND")
    assert error_of(client.run("alice", "ghost", sse=True)) == (404, "SESSION_NOT_FOUND")


def test_sse_frames_hold_one_event_each(client: Client) -> None:
    sid = client.new("alice")
    response = client.run("alice", sid, "streamed", sse=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.endswith("\n\n")
    frames = [frame for frame in response.text.split("\n\n") if frame]
    assert len(frames) == 1
    for frame in frames:
        [line] = frame.split("\n")
        assert line.startswith("data: ")
        event = json.loads(line.removeprefix("data: "))
        assert event["content"]["parts"] == [{"text": "echo: streamed"}]


def test_sse_errors_before_the_stream_are_json(make_client: MakeClient, clock: FakeClock) -> None:
    client = make_client(ReferenceConfig(provision_seconds=1), clock=clock)
    sid = client.new("alice")
    assert error_of(client.run("alice", sid, sse=True)) == (409, "SESSION_NOT_READY")
    assert error_of(client.run("alice", "ghost", sse=True)) == (404, "SESSION_NOT_FOUND")
    assert error_of(client.run("alice", "undefined", sse=True)) == (400, "SESSION_ID_MISSING")
    assert error_of(client.run("alice", 5, sse=True)) == (422, "VALIDATION_ERROR")
    bad = client.post("/run_sse", content=b"{", headers={"Content-Type": "application/json"})
    assert error_of(bad) == (400, "MALFORMED_JSON")


# -- provisioning ---------------------------------------------------------------------------


def test_provisioning_moves_forward_to_ready(make_client: MakeClient, clock: FakeClock) -> None:
    client = make_client(ReferenceConfig(provision_seconds=2.0), clock=clock)
    created = client.create("alice").json()
    assert created["session"]["phase"] == "Starting"
    assert created["session"]["ready"] is False
    sid = created["session_id"]
    assert error_of(client.run("alice", sid)) == (409, "SESSION_NOT_READY")
    seen = []
    for _ in range(25):
        status = client.get(f"/users/alice/sessions/{sid}/status").json()
        seen.append((status["phase"], status["progress"]["percent"], status["progress"]["eta_ms"]))
        assert status["ready"] is (status["phase"] == "Ready")
        clock.advance(0.1)
    phases = [phase for phase, _, _ in seen]
    assert phases[0] == "Starting"
    assert phases[-1] == "Ready"
    assert "Provisioning" in phases
    order = {"Starting": 0, "Provisioning": 1, "Ready": 2}
    assert [order[p] for p in phases] == sorted(order[p] for p in phases)
    percents = [percent for _, percent, _ in seen]
    assert percents == sorted(percents)
    assert percents[0] == 0
    assert all(p <= 99 for phase, p, _ in seen if phase != "Ready")
    assert all(p == 100 and eta == 0 for phase, p, eta in seen if phase == "Ready")
    assert seen[0][2] == 2000
    assert seen[5][2] == 1500
    assert client.run("alice", sid).status_code == 200


def test_provision_seconds_zero_is_ready_at_create(make_client: MakeClient) -> None:
    client = make_client(ReferenceConfig(provision_seconds=0))
    assert client.create("alice").json()["session"]["phase"] == "Ready"


def test_a_failed_session_reports_its_error_and_refuses_runs(
    make_client: MakeClient, clock: FakeClock
) -> None:
    app = ReferenceApp(ReferenceConfig(provision_seconds=1), clock=clock)
    client = make_client(app=app)
    sid = client.new("alice")
    clock.advance(0.5)
    app.store.fail("alice", sid, Failure("NO_CAPACITY", "no machine was free"))
    clock.advance(5)
    status = client.get(f"/users/alice/sessions/{sid}/status").json()
    assert status["phase"] == "Failed"
    assert status["ready"] is False
    assert status["progress"] == {"percent": 50, "eta_ms": None}
    assert status["error"] == {"code": "NO_CAPACITY", "message": "no machine was free"}
    assert error_of(client.run("alice", sid)) == (409, "SESSION_NOT_READY")


def test_sessions_expire_after_their_ttl(make_client: MakeClient, clock: FakeClock) -> None:
    client = make_client(ReferenceConfig(provision_seconds=0), clock=clock)
    short = client.new("alice", ttl_seconds=60)
    default = client.new("alice")
    clock.advance(60)
    assert error_of(client.get(f"/users/alice/sessions/{short}")) == (404, "SESSION_NOT_FOUND")
    assert [s["session_id"] for s in client.get("/users/alice/sessions").json()["sessions"]] == [
        default
    ]
    clock.advance(3540)
    assert error_of(client.run("alice", default)) == (404, "SESSION_NOT_FOUND")


# -- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"tool_metadata": {}}, "/tool_metadata"),
        ({"a/b~c": 1}, "/a~1b~0c"),
        ({"metadata": []}, "/metadata"),
        ({"metadata": "x"}, "/metadata"),
        ({"ttl_seconds": 59}, "/ttl_seconds"),
        ({"ttl_seconds": 86401}, "/ttl_seconds"),
        ({"ttl_seconds": "600"}, "/ttl_seconds"),
        ({"ttl_seconds": True}, "/ttl_seconds"),
        ({"ttl_seconds": 60.5}, "/ttl_seconds"),
        ({"session_id": 5}, "/session_id"),
        ({"session_id": "abc\n"}, "/session_id"),
        ({"session_id": " abc"}, "/session_id"),
        ({"session_id": "_abc"}, "/session_id"),
        ({"session_id": "a" * 129}, "/session_id"),
        ({"session_id": "a.b"}, "/session_id"),
        ([], ""),
        ("text", ""),
        (None, ""),
    ],
)
def test_invalid_create_bodies_are_422(client: Client, body: Any, path: str) -> None:
    response = client.post(
        "/users/alice/sessions",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert error_of(response) == (422, "VALIDATION_ERROR")
    assert path in paths_of(response)
    assert client.get("/users/alice/sessions").json()["sessions"] == []


def _run_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "user_id": "alice",
        "session_id": "s1",
        "new_message": user_message("x"),
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (_run_body(session_id=...), "/session_id"),
        (_run_body(session_id=5), "/session_id"),
        (_run_body(session_id=["s1"]), "/session_id"),
        (_run_body(session_id="s1\n"), "/session_id"),
        (_run_body(user_id=...), "/user_id"),
        (_run_body(user_id="a b"), "/user_id"),
        (_run_body(user_id=None), "/user_id"),
        (_run_body(new_message=...), "/new_message"),
        (_run_body(new_message="hi"), "/new_message"),
        (_run_body(new_message={"role": "model", "parts": [{"text": "x"}]}), "/new_message/role"),
        (_run_body(new_message={"parts": [{"text": "x"}]}), "/new_message/role"),
        (_run_body(new_message={"role": "user"}), "/new_message/parts"),
        (_run_body(new_message={"role": "user", "parts": []}), "/new_message/parts"),
        (_run_body(new_message={"role": "user", "parts": {}}), "/new_message/parts"),
        (_run_body(new_message={"role": "user", "parts": ["x"]}), "/new_message/parts/0"),
        (_run_body(new_message={"role": "user", "parts": [{}]}), "/new_message/parts/0/text"),
        (
            _run_body(new_message={"role": "user", "parts": [{"text": "a"}, {"text": 1}]}),
            "/new_message/parts/1/text",
        ),
        (_run_body(extra=1), "/extra"),
        (_run_body(new_message={**user_message("x"), "extra": 1}), "/new_message/extra"),
        (
            _run_body(new_message={"role": "user", "parts": [{"text": "x", "extra": 1}]}),
            "/new_message/parts/0/extra",
        ),
        ([], ""),
        (None, ""),
    ],
)
def test_invalid_run_bodies_are_422(client: Client, body: Any, path: str) -> None:
    client.new("alice", session_id="s1")
    for route in ("/run", "/run_sse"):
        response = client.post(route, content=json.dumps(body), headers=JSON_TYPE)
        assert error_of(response) == (422, "VALIDATION_ERROR")
        assert path in paths_of(response)
        assert all(isinstance(e["message"], str) for e in response.json()["details"]["errors"])
    assert client.get("/users/alice/sessions/s1").json()["session"]["turns"] == 0


# -- sentinels ------------------------------------------------------------------------------


@pytest.mark.parametrize("sentinel", [*SENTINELS, " ", "%20"])
def test_sentinel_in_the_path_is_400(client: Client, sentinel: str) -> None:
    client.new("alice", session_id="real")
    for method, suffix in [("GET", ""), ("GET", "/status"), ("DELETE", "")]:
        path = f"/users/alice/sessions/{quote(sentinel, safe='%')}{suffix}"
        assert error_of(client.request(method, path)) == (400, "SESSION_ID_MISSING"), path


def test_empty_path_session_id_is_400(client: Client) -> None:
    assert error_of(client.get("/users/alice/sessions/")) == (400, "SESSION_ID_MISSING")
    assert error_of(client.get("/users/alice/sessions//status")) == (400, "SESSION_ID_MISSING")


@pytest.mark.parametrize("sid", [*SENTINELS, *BLANKS, None])
def test_sentinel_in_a_run_body_is_400(client: Client, sid: Any) -> None:
    client.new("alice", session_id="real")
    assert error_of(client.run("alice", sid)) == (400, "SESSION_ID_MISSING")
    assert error_of(client.run("alice", sid, sse=True)) == (400, "SESSION_ID_MISSING")


@pytest.mark.parametrize("sid", [*SENTINELS, *BLANKS, None])
def test_sentinel_client_id_at_create_is_400_and_creates_nothing(client: Client, sid: Any) -> None:
    response = client.create("alice", {"session_id": sid})
    assert error_of(response) == (400, "SESSION_ID_MISSING")
    assert client.get("/users/alice/sessions").json()["sessions"] == []


def test_is_sentinel_and_pointer() -> None:
    assert all(is_sentinel(s) for s in [*SENTINELS, *BLANKS, "[OBJECT OBJECT]"])
    assert not any(is_sentinel(s) for s in ["undefined1", "nulls", "abc", "0"])
    assert pointer("new_message", "parts", 0, "text") == "/new_message/parts/0/text"
    assert pointer("a/b", "~") == "/a~1b/~0"


# -- transport-level errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/"), ("GET", "/nope"), ("POST", "/run/"), ("GET", "/users"), ("PUT", "/x/y")],
)
def test_unknown_routes_are_404_envelopes(client: Client, method: str, path: str) -> None:
    assert error_of(client.request(method, path)) == (404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/users/alice/sessions", {"GET", "POST"}),
        ("PUT", "/users/alice/sessions/abc", {"GET", "DELETE"}),
        ("POST", "/users/alice/sessions/abc/status", {"GET"}),
        ("GET", "/run", {"POST"}),
        ("PATCH", "/run_sse", {"POST"}),
    ],
)
def test_wrong_methods_are_405_with_allow(
    client: Client, method: str, path: str, allowed: set[str]
) -> None:
    response = client.request(method, path)
    assert error_of(response) == (405, "METHOD_NOT_ALLOWED")
    listed = {m.strip() for m in response.headers["allow"].split(",")}
    assert allowed <= listed <= allowed | {"HEAD", "OPTIONS"}


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/merge-patch+json", "application/jsonx"]
)
def test_wrong_media_type_is_415(client: Client, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    for path in ("/users/alice/sessions", "/run", "/run_sse"):
        response = client.post(path, content=b"{}", headers=headers)
        assert error_of(response) == (415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize("content_type", ["APPLICATION/JSON", "application/json; charset=utf-8"])
def test_json_media_type_is_matched_loosely(client: Client, content_type: str) -> None:
    response = client.post(
        "/users/alice/sessions", content=b"{}", headers={"Content-Type": content_type}
    )
    assert response.status_code == 201


def test_body_limit_is_inclusive(make_client: MakeClient) -> None:
    client = make_client(ReferenceConfig(provision_seconds=0, max_body_bytes=100))
    base = b'{"metadata":{"p":""}}'
    exact = base[:-3] + b"x" * (100 - len(base)) + base[-3:]
    assert len(exact) == 100
    assert (
        client.post(
            "/users/alice/sessions", content=exact, headers={"Content-Type": "application/json"}
        ).status_code
        == 201
    )
    over = base[:-3] + b"x" * (101 - len(base)) + base[-3:]
    response = client.post(
        "/users/alice/sessions", content=over, headers={"Content-Type": "application/json"}
    )
    assert error_of(response) == (413, "PAYLOAD_TOO_LARGE")


def test_body_limit_holds_without_content_length(make_client: MakeClient) -> None:
    client = make_client(ReferenceConfig(provision_seconds=0, max_body_bytes=100))

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 50

    response = client.post("/run", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert error_of(response) == (413, "PAYLOAD_TOO_LARGE")


def test_default_body_limit_is_one_mebibyte(client: Client) -> None:
    base = b'{"metadata":{"p":""}}'
    limit = 1_048_576
    exact = base[:-3] + b"x" * (limit - len(base)) + base[-3:]
    headers = {"Content-Type": "application/json"}
    assert client.post("/users/alice/sessions", content=exact, headers=headers).status_code == 201
    too_big = exact + b" "
    response = client.post("/users/alice/sessions", content=too_big, headers=headers)
    assert error_of(response) == (413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b'{"metadata": NaN}',
        b'{"ttl_seconds": Infinity}',
        b'{"ttl_seconds": -Infinity}',
        b'{"metadata": {"x": 1e400}}',
        b'{"metadata": {"x": "\xff"}}',
        b"\xef\xbb\xbf{}",
        b"{} x",
        b"{}{}",
        b"'{}'",
        b"[" * 100_000,
        b"   ",
    ],
)
def test_malformed_json_is_400(client: Client, raw: bytes) -> None:
    headers = {"Content-Type": "application/json"}
    for path in ("/users/alice/sessions", "/run", "/run_sse"):
        response = client.post(path, content=raw, headers=headers)
        assert error_of(response) == (400, "MALFORMED_JSON"), path


def test_empty_run_body_is_400(client: Client) -> None:
    response = client.post("/run", content=b"", headers={"Content-Type": "application/json"})
    assert error_of(response) == (400, "MALFORMED_JSON")


class Crashing(ReferenceApp):
    def run(self, session: Session, message: Message) -> list[Any]:
        raise RuntimeError("/srv/app/agent.py: boom in SELECT * FROM sessions")


class CrashingEverywhere(ReferenceApp):
    async def dispatch(self, request: Any) -> Any:
        raise KeyError("/etc/passwd")


@pytest.mark.parametrize("app_class", [Crashing, CrashingEverywhere])
def test_unexpected_failures_are_sanitised_500s(
    make_client: MakeClient, app_class: type[ReferenceApp], caplog: pytest.LogCaptureFixture
) -> None:
    app = app_class(ReferenceConfig(provision_seconds=0))
    app.store.insert("alice", "s", {}, 60)
    response = make_client(app=app).run("alice", "s")
    assert error_of(response) == (500, "INTERNAL_ERROR")
    for leak in ("boom", "RuntimeError", "KeyError", "/srv", "/etc", "SELECT"):
        assert leak not in response.text
    assert any(record.exc_info for record in caplog.records)


# -- precedence -----------------------------------------------------------------------------


def test_precedence(make_client: MakeClient, clock: FakeClock) -> None:
    client = make_client(
        ReferenceConfig(provision_seconds=5, token=TOKEN, max_body_bytes=200), clock=clock
    )
    json_type = {"Content-Type": "application/json"}
    # 404 and 405 come before auth.
    assert error_of(client.get("/nope")) == (404, "NOT_FOUND")
    assert error_of(client.get("/run")) == (405, "METHOD_NOT_ALLOWED")
    # 401 before 415, 413 and 400.
    assert error_of(client.post("/run", content=b"x" * 300)) == (401, "UNAUTHORIZED")
    client.headers["Authorization"] = f"Bearer {TOKEN}"
    # 415 before 413; 413 before 400.
    big = b"{" * 201
    assert error_of(client.post("/run", content=big, headers={"Content-Type": "text/plain"})) == (
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    assert error_of(client.post("/run", content=big, headers=json_type)) == (
        413,
        "PAYLOAD_TOO_LARGE",
    )
    # sentinel 400 before 422, in the body and in the path.
    bad_user = {"user_id": "bad user", "session_id": "null", "new_message": {}}
    assert error_of(client.post("/run", json=bad_user)) == (400, "SESSION_ID_MISSING")
    assert error_of(client.get("/users/bad%20user/sessions/undefined")) == (
        400,
        "SESSION_ID_MISSING",
    )
    assert error_of(client.create("bad user", {"session_id": "nil"})) == (
        400,
        "SESSION_ID_MISSING",
    )
    # 422 before 404.
    assert error_of(client.run("bad user", "ghost")) == (422, "VALIDATION_ERROR")
    # 404 before 409: another user's session that is not ready yet.
    sid = client.new("alice")
    assert error_of(client.run("bob", sid)) == (404, "SESSION_NOT_FOUND")
    assert error_of(client.run("alice", sid)) == (409, "SESSION_NOT_READY")


# -- auth -----------------------------------------------------------------------------------


ROUTE_PROBES = [
    ("POST", "/users/alice/sessions"),
    ("GET", "/users/alice/sessions"),
    ("GET", "/users/alice/sessions/s1"),
    ("DELETE", "/users/alice/sessions/s1"),
    ("GET", "/users/alice/sessions/s1/status"),
    ("POST", "/run"),
    ("POST", "/run_sse"),
]


@pytest.mark.parametrize(("method", "path"), ROUTE_PROBES)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN, "Bearer", f"Bearer {TOKEN}x"]
)
def test_auth_refuses_every_route_without_the_token(
    make_client: MakeClient, method: str, path: str, authorization: str | None
) -> None:
    client = make_client(ReferenceConfig(provision_seconds=0, token=TOKEN))
    headers = {"Authorization": authorization} if authorization else {}
    response = client.request(method, path, headers=headers, json={})
    assert error_of(response) == (401, "UNAUTHORIZED")
    assert response.headers["www-authenticate"].split()[0] == "Bearer"


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_bearer_scheme_is_case_insensitive(make_client: MakeClient, scheme: str) -> None:
    client = make_client(ReferenceConfig(provision_seconds=0, token=TOKEN))
    client.headers["Authorization"] = f"{scheme} {TOKEN}"
    sid = client.new("alice")
    assert client.run("alice", sid).status_code == 200


def test_auth_401_is_the_same_for_existing_and_missing_sessions(make_client: MakeClient) -> None:
    client = make_client(ReferenceConfig(provision_seconds=0, token=TOKEN))
    client.headers["Authorization"] = f"Bearer {TOKEN}"
    sid = client.new("alice")
    client.headers.clear()
    existing = client.get(f"/users/alice/sessions/{sid}")
    missing = client.get("/users/alice/sessions/ghost")
    assert existing.status_code == missing.status_code == 401
    assert existing.json() == missing.json()


def test_auth_off_needs_no_header(client: Client) -> None:
    response = client.create("alice", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 201


# -- CORS -----------------------------------------------------------------------------------


def _cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def test_cors_off_sends_no_cors_headers(client: Client) -> None:
    origin = {"Origin": ORIGIN}
    for response in [
        client.create("alice", headers=origin),
        client.get("/nope", headers=origin),
        client.request(
            "OPTIONS", "/run", headers={**origin, "Access-Control-Request-Method": "POST"}
        ),
    ]:
        assert _cors_headers(response) == {}
        assert "origin" not in response.headers.get("vary", "").lower()


@pytest.mark.parametrize(("method", "path"), ROUTE_PROBES)
def test_cors_preflight_from_the_allowed_origin(
    make_client: MakeClient, method: str, path: str
) -> None:
    client = make_client(ReferenceConfig(provision_seconds=0, token=TOKEN, cors_origin=ORIGIN))
    headers = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    response = client.request("OPTIONS", path, headers=headers)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert method in response.headers["access-control-allow-methods"]
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed_headers
    assert "content-type" in allowed_headers
    assert "Origin" in response.headers["vary"]


def test_cors_headers_on_every_response_to_the_allowed_origin(make_client: MakeClient) -> None:
    client = make_client(ReferenceConfig(provision_seconds=0, token=TOKEN, cors_origin=ORIGIN))
    client.headers["Origin"] = ORIGIN
    responses = [
        client.get("/nope"),
        client.get("/run"),
        client.create("alice"),  # 401
        client.create("alice", headers={"Authorization": f"Bearer {TOKEN}"}),
        client.post("/run", json={}, headers={"Authorization": f"Bearer {TOKEN}"}),
    ]
    assert [r.status_code for r in responses] == [404, 405, 401, 201, 422]
    for response in responses:
        assert response.headers["access-control-allow-origin"] == ORIGIN
        assert "Origin" in response.headers["vary"]
        assert response.headers.get("access-control-allow-credentials") is None


def test_cors_ignores_other_origins(make_client: MakeClient) -> None:
    client = make_client(ReferenceConfig(provision_seconds=0, cors_origin=ORIGIN))
    for origin in ["https://evil.example", "https://app.example.evil", "null"]:
        preflight = client.request(
            "OPTIONS", "/run", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
        )
        assert preflight.status_code == 204
        assert _cors_headers(preflight) == {}
        response = client.create("alice", headers={"Origin": origin})
        assert response.status_code == 201
        assert _cors_headers(response) == {}
    assert _cors_headers(client.create("alice")) == {}


def test_options_on_an_unknown_route_is_404(make_client: MakeClient) -> None:
    client = make_client(ReferenceConfig(provision_seconds=0, cors_origin=ORIGIN))
    response = client.request("OPTIONS", "/nope", headers={"Origin": ORIGIN})
    assert error_of(response) == (404, "NOT_FOUND")
    assert response.headers["access-control-allow-origin"] == ORIGIN


# -- odds and ends --------------------------------------------------------------------------


def test_head_is_get_without_a_body(client: Client) -> None:
    response = client.request("HEAD", "/users/alice/sessions")
    assert response.status_code == 200
    assert response.content == b""


def test_concurrent_creates_get_distinct_ids_usable_at_once(
    portal: BlockingPortal, make_client: MakeClient
) -> None:
    client = make_client()

    async def create_and_read(ids: list[str]) -> None:
        response = await client._client.post("/users/alice/sessions", json={})
        sid = response.json()["session_id"]
        got = await client._client.get(f"/users/alice/sessions/{sid}/status")
        assert got.status_code == 200
        ids.append(sid)

    async def main() -> list[str]:
        ids: list[str] = []
        async with anyio.create_task_group() as group:
            for _ in range(64):
                group.start_soon(create_and_read, ids)
        return ids

    ids = portal.call(main)
    assert len(ids) == len(set(ids)) == 64
    assert len(client.get("/users/alice/sessions").json()["sessions"]) == 64


def test_store_is_thread_safe() -> None:
    store = SessionStore(provision_seconds=0)
    barrier = threading.Barrier(8)

    def insert(n: int) -> int:
        barrier.wait()
        made = 0
        for i in range(200):
            made += store.insert("u", f"s{i}", {}, 60) is not None
            store.record_turn("u", f"s{i}")
        return made

    with ThreadPoolExecutor(8) as pool:
        made = sum(pool.map(insert, range(8)))
    assert made == 200 == len(store)
    assert sum(s.turns for s in store.list("u")) == 200 * 8


@pytest.mark.parametrize(
    "kwargs",
    [
        {"provision_seconds": -1},
        {"provision_seconds": float("nan")},
        {"cors_origin": "*"},
        {"token": ""},
        {"max_body_bytes": -1},
        {"default_ttl_seconds": 0},
    ],
)
def test_config_refuses_nonsense(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        ReferenceConfig(**kwargs)


def test_lifespan_and_websocket_scopes() -> None:
    app = create_app()
    sent: list[dict[str, Any]] = []
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    async def main() -> None:
        await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
        await app({"type": "websocket", "path": "/run", "headers": []}, receive, send)

    anyio.run(main)
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
        "websocket.close",
    ]
