"""The benchmark runs end to end on a tiny scope and writes well-formed results;
``check --record-exchanges`` writes every exchange of a run, replayable; the delaying proxy
of the remote cases forwards requests, keep-alive and streams intact. No timing is
asserted: figures are the benchmark's to print, not the tests' to judge."""

from __future__ import annotations

import base64
import http.client
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from benchmarks.latency import CHUNK, delaying
from benchmarks.remote import SERIAL, variants
from benchmarks.render import LATENCY_HEADING, splice
from benchmarks.run import balance, main
from conformance.cli import main as cli_main
from conformance.exchange_log import read_log

pytestmark = [pytest.mark.socket, pytest.mark.slow]


def test_record_exchanges_writes_every_exchange(tmp_path: Path) -> None:
    log, report = tmp_path / "exchanges.jsonl", tmp_path / "report.json"
    code = cli_main(
        ["check", "--seed", "3", "--clause", "LIFE-001", "LIFE-007", "-q",
         "--provision-seconds", "0", "--report-json", str(report),
         "--record-exchanges", str(log)]
    )  # fmt: skip
    assert code == 0
    entries = list(read_log(log))
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [e.index for e in entries] == list(range(len(entries)))
    assert len(entries) > 5
    assert set(lines[0]) == {
        "index", "method", "url", "headers", "body_base64", "status", "error", "elapsed_ms"
    }  # fmt: skip
    assert {e.method for e in entries} >= {"POST", "DELETE"}
    assert all(e.status is not None and e.error is None for e in entries)
    posted = [e for e in entries if e.method == "POST" and e.body]
    assert posted
    assert base64.b64decode(lines[posted[0].index]["body_base64"]) == posted[0].body
    # the token never appears in clear; the replay puts it back
    text = log.read_text(encoding="utf-8")
    assert "sc-reference-" not in text
    assert any(
        v == "Bearer [REDACTED]" for e in entries for k, v in e.headers if k == "authorization"
    )


def test_a_bad_log_line_names_its_place(tmp_path: Path) -> None:
    log = tmp_path / "bad.jsonl"
    log.write_text('{"index": 0}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:1: not an exchange log line"):
        list(read_log(log))


def test_families_are_shared_out_whole_and_in_order() -> None:
    measured = [("A-1", "a", 3.0), ("B-1", "b", 1.0), ("A-2", "a", 1.0), ("C-1", "c", 2.0)]
    groups = balance(measured, 2)
    assert sorted(map(tuple, groups)) == [("A-1", "A-2"), ("B-1", "C-1")]
    assert balance(measured, 1) == [["A-1", "B-1", "A-2", "C-1"]]


@pytest.mark.timeout(300)
def test_quick_benchmark_writes_well_formed_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "RESULTS.md"
    code = main(
        ["--quick", "--clause", "LIFE-001", "--examples", "2", "--examples", "3",
         "--examples", "5", "--workers", "1", "--st-examples", "2",
         "--mutant", "HtmlErrorPages", "--mutant-scope", "trips", "--latency", "5",
         "--latency-clause", "LIFE-001", "--st-workers", "2", "--output", str(out), "-q"]
    )  # fmt: skip
    assert code == 0
    text = out.read_text(encoding="utf-8")
    for heading in (
        "# Benchmarks",
        "## Summary",
        "## The full default check",
        "## The floor: a bare httpx replay",
        "## Scaling",
        "## schemathesis against the reference",
        LATENCY_HEADING,
        "## Side by side on the zoo",
    ):
        assert f"\n{heading}\n" in f"\n{text}", heading
    assert "python -m benchmarks --quick" in text
    assert re.search(r"\| harness / bare, per request \| \d+\.\d\dx \|", text)
    assert re.search(r"\| requests sent \| [1-9]\d* \|", text)
    assert "| `ReferenceApp` | clean |" in text
    assert re.search(r"\| `HtmlErrorPages` \| caught \|", text)
    assert re.search(r"\n\| 5 \| default \| \d+\.\d \| [1-9]\d* \|", text)
    for size in ("2", "3", "5"):
        assert re.search(rf"\n\| {size} \| \d+\.\d\d \|", text), size
    # every table row has as many cells as its header
    for table in re.findall(r"((?:^\|.*\|\n)+)", text, flags=re.M):
        rows = table.strip().splitlines()
        widths = {row.count(" | ") for row in rows if not row.startswith("|---")}
        assert len(widths) == 1, rows[0]
    assert "wrote" in capsys.readouterr().out


def test_a_rerun_section_replaces_the_old_one_in_place() -> None:
    text = "# B\n\n## A\n\na\n\n## Side by side on the zoo\n\nz\n"
    once = splice(text, f"{LATENCY_HEADING}\n\nfirst\n")
    assert once == (
        f"# B\n\n## A\n\na\n\n{LATENCY_HEADING}\n\nfirst\n\n## Side by side on the zoo\n\nz\n"
    )
    assert splice(once, f"{LATENCY_HEADING}\n\nsecond\n") == once.replace("first", "second")
    assert splice("# B\n", f"{LATENCY_HEADING}\n\nx\n") == f"# B\n\n{LATENCY_HEADING}\n\nx\n"


def test_the_serial_variant_comes_with_a_concurrent_engine_only() -> None:
    assert variants([], concurrent_engine=False) == ("",)
    assert variants([], concurrent_engine=True) == ("", SERIAL)
    assert variants(["--workers 8", " --workers 8 "], concurrent_engine=True) == (
        "",
        "--workers 8",
    )


# -- the delaying proxy, over real sockets -------------------------------------------------


class _Upstream(ThreadingHTTPServer):
    daemon_threads = True
    #: (client host, port) of each request: one connection of the proxy, one address.
    peers: list[tuple[str, int]]
    release: threading.Event


class _Echo(BaseHTTPRequestHandler):
    """POST echoes its body (and path); GET /events streams two frames, the second only once
    the test saw the first (so a proxy that buffered the stream would not deliver it)."""

    protocol_version = "HTTP/1.1"
    server: _Upstream

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.peers.append(self.client_address[:2])
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Path", self.path)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"data: one\n\n")
        self.wfile.flush()
        second = b"two" if self.server.release.wait(timeout=60) else b"never released"
        self.wfile.write(b"data: " + second + b"\n\n")
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet


@pytest.fixture
def upstream() -> Iterator[_Upstream]:
    server = _Upstream(("127.0.0.1", 0), _Echo)
    server.peers, server.release = [], threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)


def _url(server: _Upstream) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"


def test_a_request_through_the_proxy_comes_back_intact(upstream: _Upstream) -> None:
    body = bytes(range(256)) * (3 * CHUNK // 256 + 7)  # every byte value, several chunks
    with delaying(_url(upstream), 5) as proxied:
        answer = httpx.post(f"{proxied}/echo?x=1", content=body, timeout=60)
    assert answer.status_code == 200
    assert answer.headers["x-path"] == "/echo?x=1"
    assert answer.content == body


def test_two_requests_on_one_kept_alive_connection(upstream: _Upstream) -> None:
    with delaying(_url(upstream), 5) as proxied:
        host, port = proxied.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            answers = []
            for body in (b"first", b"second" * 1000):
                connection.request("POST", "/echo", body=body)
                response = connection.getresponse()
                answers.append((response.status, response.read()))
        finally:
            connection.close()
    assert answers == [(200, b"first"), (200, b"second" * 1000)]
    assert len(upstream.peers) == 2
    assert upstream.peers[0] == upstream.peers[1]  # one upstream connection for both


def test_a_stream_passes_through_unbuffered(upstream: _Upstream) -> None:
    frames = []
    with (
        delaying(_url(upstream), 5) as proxied,
        httpx.stream("GET", f"{proxied}/events", timeout=60) as stream,
    ):
        assert stream.headers["content-type"] == "text/event-stream"
        for line in stream.iter_lines():
            if line.startswith("data: "):
                frames.append(line.removeprefix("data: "))
                upstream.release.set()  # the second frame is sent only after the first came
    assert frames == ["one", "two"]
