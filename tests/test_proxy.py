"""The validation proxy on real sockets: what passes is unchanged, streams are not
buffered, and a client or an upstream that hangs up costs one exchange, never the proxy.

Upstreams: the reference under uvicorn, a small ASGI app whose SSE stream waits for the
test to release each frame, and raw sockets that hang up on purpose."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from conformance.mock.trace import Trace, read_trace
from conformance.proxy import HOP_BY_HOP, start_proxy
from conformance.reference import ReferenceConfig, create_app
from conformance.serving import serve_in_thread

#: Bound on every wait for something the test made happen (never a timed assertion).
WAIT = 20.0


def wait_for(trace_path: Path, count: int) -> Trace:
    """The trace once it holds ``count`` exchanges (they are written as they end)."""
    deadline = time.monotonic() + WAIT
    while True:
        trace = read_trace(trace_path)
        if len(trace.exchanges) >= count or time.monotonic() > deadline:
            return trace
        time.sleep(0.01)


class Frames:
    """An ASGI upstream: GET /stream sends an SSE frame each time the test releases one,
    forever; GET /gzip a gzip body with headers of its own; anything else echoes the
    request (method, path, query, headers, body) as JSON."""

    def __init__(self) -> None:
        self.release = threading.Semaphore(0)
        self.gone = threading.Event()

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        if scope["path"] == "/stream":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"text/event-stream")]})  # fmt: skip
            async with anyio.create_task_group() as group:

                async def watch() -> None:  # the proxy hanging up on us
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    self.gone.set()
                    group.cancel_scope.cancel()

                group.start_soon(watch)
                n = 0
                while True:
                    while not self.release.acquire(blocking=False):
                        await anyio.sleep(0.005)
                    n += 1
                    frame = f"data: {json.dumps({'n': n})}\n\n".encode()
                    await send({"type": "http.response.body", "body": frame, "more_body": True})
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if scope["path"] == "/gzip":
            payload = gzip.compress(b'{"ok":true,"compressed":1}', mtime=0)
            headers = [(b"content-type", b"application/json"), (b"content-encoding", b"gzip"),
                       (b"x-upstream", b"kept"), (b"set-cookie", b"sid=s3cr3t-cookie")]  # fmt: skip
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            return
        echo = {
            "method": scope["method"],
            "path": scope["raw_path"].decode(),
            "query": scope["query_string"].decode(),
            "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
            "body": body.decode("latin-1"),
        }
        await send({"type": "http.response.start", "status": 207,
                    "headers": [(b"content-type", b"application/json"), (b"x-echo", b"1")]})  # fmt: skip
        await send({"type": "http.response.body", "body": json.dumps(echo).encode()})


@pytest.fixture
def frames() -> Iterator[tuple[Frames, str]]:
    app = Frames()
    with serve_in_thread(app) as server:  # type: ignore[arg-type]
        yield app, server.url


def test_answers_pass_byte_for_byte(tmp_path: Path) -> None:
    """The same requests, direct and through the proxy: the same status, headers (but
    Date, which is the clock's) and body bytes."""
    app = create_app(ReferenceConfig(token="tok-0123456789"))
    with serve_in_thread(app) as upstream, start_proxy(upstream.url, tmp_path / "t.jsonl") as proxy:
        requests = [
            ("GET", "/users/u1/sessions/never", None, {}),
            ("POST", "/run", b"{not json", {"content-type": "application/json"}),
            ("POST", "/run", b'{"user_id":"u1"}', {"content-type": "application/json"}),
            ("GET", "/users/u1/sessions?limit=3", None, {}),
            ("PATCH", "/users/u1/sessions", b"x", {}),
            ("GET", "/users/u1/sessions", None, {"authorization": "Bearer wrong-token"}),
        ]
        for method, path, body, headers in requests:
            auth = {"authorization": "Bearer tok-0123456789", **headers}
            direct = _raw(upstream.url, method, path, body, auth)
            proxied = _raw(proxy.url, method, path, body, auth)
            assert proxied == direct, (method, path)
        assert len(wait_for(proxy.trace_path, len(requests)).exchanges) == len(requests)


def test_an_exchange_ends_in_the_trace_before_the_client_had_the_answer(tmp_path: Path) -> None:
    """``ended`` is when the proxy handed the answer's last bytes to the client, so a
    client that sends its next request as soon as it has an answer is never seen sending
    it before the last one ended (a false CLIENT-008 overlap, a CLIENT-004 interval cut
    short). It was stamped when the proxy had finished with the upstream, which under
    load came after the client's next request. Each time is compared on the proxy's own
    clock: the client's is read after it has the whole answer."""
    app = create_app(ReferenceConfig(provision_seconds=0))
    with serve_in_thread(app) as upstream, start_proxy(upstream.url, tmp_path / "t.jsonl") as proxy:
        received: list[float] = []
        with httpx.Client(base_url=proxy.url, timeout=WAIT) as client:
            for n in range(40):
                client.get(f"/users/u1/sessions/s{n}/status").read()
                received.append(time.monotonic() - proxy.app.origin)
        trace = wait_for(proxy.trace_path, len(received))
    assert len(trace.exchanges) == len(received)
    for item, had in zip(trace.exchanges, received, strict=True):
        assert item.started <= item.ended <= had, item.seq
    for before, after in itertools.pairwise(trace.exchanges):
        assert after.started >= before.ended, after.seq


def _raw(base: str, method: str, path: str, body: bytes | None, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=base) as client:
        with client.stream(method, path, content=body, headers=headers) as response:
            raw = b"".join(response.iter_raw())
        kept = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "date"]
        return response.status_code, kept, raw


def test_requests_reach_the_upstream_unchanged(frames: tuple[Frames, str], tmp_path: Path) -> None:
    _, url = frames
    with start_proxy(url + "/base", tmp_path / "t.jsonl") as proxy:
        sent = {"x-custom": "a", "connection": "keep-alive, x-hop", "x-hop": "dropped",
                "content-type": "text/plain"}  # fmt: skip
        with httpx.Client(base_url=proxy.url) as client:
            answer = client.request(
                "PUT", "/p%2Fq/r?a=1&a=2&b=%20", content=b"\x00body", headers=sent
            )
            chunked = client.post("/chunked", content=iter([b"one-", b"two"]))
    assert answer.status_code == 207
    echo = answer.json()
    assert echo["method"] == "PUT"
    assert echo["path"] == "/base/p%2Fq/r"
    assert echo["query"] == "a=1&a=2&b=%20"
    assert echo["body"] == "\x00body"
    names = {name for name, _ in echo["headers"]}
    assert ("x-custom", "a") in {tuple(pair) for pair in echo["headers"]}
    assert not names & (HOP_BY_HOP | {"x-hop"})
    assert dict(echo["headers"])["host"] == url.removeprefix("http://")
    assert chunked.json()["body"] == "one-two"


def test_a_compressed_answer_passes_compressed_and_is_recorded_decoded(
    frames: tuple[Frames, str], tmp_path: Path
) -> None:
    _, url = frames
    with start_proxy(url, tmp_path / "t.jsonl") as proxy:
        direct = _raw(url, "GET", "/gzip", None, {})
        proxied = _raw(proxy.url, "GET", "/gzip", None, {})
        trace = wait_for(proxy.trace_path, 1)
    assert proxied == direct
    response = trace.exchanges[0].response
    assert response is not None
    assert response.body == b'{"ok":true,"compressed":1}'
    assert response.header("set-cookie") == "[REDACTED]"
    assert "s3cr3t" not in (tmp_path / "t.jsonl").read_text()


def test_sse_frames_arrive_before_the_stream_ends(
    frames: tuple[Frames, str], tmp_path: Path
) -> None:
    """The upstream sends frame n+1 only after the client has read frame n through the
    proxy: a proxy that buffered would deliver nothing (the read times out)."""
    app, url = frames
    with start_proxy(url, tmp_path / "t.jsonl") as proxy:
        timeout = httpx.Timeout(WAIT)
        with (
            httpx.Client(base_url=proxy.url, timeout=timeout) as client,
            client.stream("GET", "/stream") as stream,
        ):
            lines = stream.iter_lines()
            for n in (1, 2, 3):
                app.release.release()
                assert next(lines) == f'data: {{"n": {n}}}'
                assert next(lines) == ""
        # the client hung up on a stream that never ends: recorded, upstream released
        trace = wait_for(proxy.trace_path, 1)
        assert app.gone.wait(WAIT)
        item = trace.exchanges[0]
        assert item.error is not None
        assert item.error.startswith("the client went away after")
        assert item.response is not None
        assert item.response.body.count(b"data: ") == 3
        # and the proxy still serves
        assert httpx.get(proxy.url + "/echo").status_code == 207


def test_a_client_that_hangs_up_mid_request_is_recorded(
    frames: tuple[Frames, str], tmp_path: Path
) -> None:
    _, url = frames
    with start_proxy(url, tmp_path / "t.jsonl") as proxy:
        host, port = proxy.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(b"POST /run HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf")
        trace = wait_for(proxy.trace_path, 1)
        assert trace.exchanges[0].error == "the client went away while sending its request"
        assert httpx.get(proxy.url + "/echo").status_code == 207


class HangingUp:
    """A raw upstream on 127.0.0.1 that reads a request, sends ``answer`` and closes."""

    def __init__(self, answer: bytes) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.answer = answer
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(self.answer)

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize(
    ("answer", "status", "error"),
    [
        (b"", 502, "the upstream closed the connection without answering"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc", 200, "the upstream hung up after"),
    ],
)
def test_an_upstream_that_hangs_up_costs_one_exchange(
    answer: bytes, status: int, error: str, tmp_path: Path
) -> None:
    upstream = HangingUp(answer)
    try:
        with start_proxy(upstream.url, tmp_path / "t.jsonl") as proxy:
            with (
                httpx.Client(base_url=proxy.url) as client,
                client.stream("GET", "/x") as response,
            ):
                assert response.status_code == status
                if status == 200:
                    with pytest.raises(httpx.RemoteProtocolError):
                        response.read()
            item = wait_for(proxy.trace_path, 1).exchanges[0]
            assert item.error is not None
            assert item.error.startswith(error)
            assert (item.response is None) == (status == 502)
            # the proxy still serves
            with (
                httpx.Client(base_url=proxy.url) as client,
                client.stream("GET", "/again") as again,
            ):
                assert again.status_code == status
    finally:
        upstream.close()


def test_an_unreachable_upstream_is_502(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    with start_proxy(f"http://127.0.0.1:{port}", tmp_path / "t.jsonl") as proxy:
        answer = httpx.get(proxy.url + "/users/u/sessions")
        item = wait_for(proxy.trace_path, 1).exchanges[0]
    assert answer.status_code == 502
    assert item.response is None
    assert item.error is not None
    assert item.error.startswith("the upstream could not be reached")


def test_credentials_never_reach_the_trace(frames: tuple[Frames, str], tmp_path: Path) -> None:
    _, url = frames
    upstream = url.replace("http://", "http://gateway:pa55-w0rd-x@")
    trace_path = tmp_path / "t.jsonl"
    with start_proxy(upstream, trace_path) as proxy:
        with httpx.Client(base_url=proxy.url) as client:
            bearer = client.post(
                "/echo",
                content=b"echo bearer-secret-123456",
                headers={"authorization": "Bearer bearer-secret-123456"},
            )
            # a credential once seen is a secret in every later record too
            plain = client.post("/echo", content=b"token=bearer-secret-123456")
        wait_for(trace_path, 2)
    # the gateway's credentials go upstream when the client sends none
    assert dict(plain.json()["headers"])["authorization"].startswith("Basic ")
    assert dict(bearer.json()["headers"])["authorization"] == "Bearer bearer-secret-123456"
    text = trace_path.read_text()
    assert "pa55-w0rd-x" not in text
    assert "bearer-secret-123456" not in text
    assert "${SESSION_CONFORMANCE_USERINFO}" in text


def test_the_command_announces_itself_and_stops_on_sigterm(
    frames: tuple[Frames, str], tmp_path: Path
) -> None:
    _, url = frames
    trace_path = tmp_path / "t.jsonl"
    command = [sys.executable, "-m", "conformance.cli", "proxy", "--upstream", url,
               "--record", str(trace_path), "--port", "0"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        assert line.startswith("proxy on http://127.0.0.1:")
        assert line.rstrip().endswith(f"-> {url}")
        proxy_url = line.split()[2]
        assert httpx.get(proxy_url + "/echo").status_code == 207
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=WAIT)
    assert process.returncode == 0, err
    assert b"Traceback" not in err
    assert len(read_trace(trace_path).exchanges) == 1


def test_a_bad_upstream_is_one_line_and_exit_2(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "conformance.cli", "proxy", "--upstream",
               "ftp://user:hunter22@x", "--record", str(tmp_path / "t.jsonl")]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    done = subprocess.run(command, capture_output=True, env=env, timeout=WAIT, check=False)
    assert done.returncode == 2
    assert len(done.stderr.decode().strip().splitlines()) == 1
    assert b"hunter22" not in done.stderr
