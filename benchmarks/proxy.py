"""``python -m benchmarks.proxy``: what the validation proxy adds per request on loopback.

The reference (``session-conformance serve``, instant provisioning) and the proxy in front
of it (``session-conformance proxy``, recording) run as processes of their own on
127.0.0.1; one httpx client with keep-alive sends the same requests straight to the
reference and through the proxy, interleaved (so both see the same machine load), and
prints the median and the 90th percentile of each, and the proxy's added median (target:
at most 2 ms). Figures only: nothing here asserts a time.

The request mix is a session's life: create, status, run, get, and a get of an unknown
session (a 404 JSON error), each pair timed from the request to the last byte.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROUNDS = 400


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.proxy")
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, help=f"sessions per side (default {ROUNDS})"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        port = _free_port()
        upstream = f"http://127.0.0.1:{port}"
        serve = _start(["serve", "--port", str(port), "--provision-seconds", "0"])
        proxy = _start(
            ["proxy", "--upstream", upstream, "--port", "0", "--record", f"{folder}/trace.jsonl"]
        )
        try:
            assert proxy.stdout is not None
            proxied = proxy.stdout.readline().decode().split()[2]
            _wait(upstream)
            direct_ms, proxy_ms = _measure(upstream, proxied, args.rounds)
            lines = len(Path(folder, "trace.jsonl").read_text().splitlines()) - 1
        finally:
            for process in (proxy, serve):
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
    added = statistics.median(proxy_ms) - statistics.median(direct_ms)
    print(f"requests per side: {len(direct_ms)} (trace: {lines} exchanges)")
    for name, values in (("direct", direct_ms), ("through the proxy", proxy_ms)):
        q = statistics.quantiles(values, n=10)
        print(f"{name:>18}: median {statistics.median(values):.3f} ms, p90 {q[-1]:.3f} ms")
    print(f"added by the proxy, median per request: {added:.3f} ms (target <= 2 ms)")
    return 0


def _measure(direct: str, proxied: str, rounds: int) -> tuple[list[float], list[float]]:
    """Each round runs one session's requests direct, then through the proxy."""
    timings: dict[str, list[float]] = {direct: [], proxied: []}
    with httpx.Client(timeout=30) as client:
        for base in (direct, proxied):  # warm up both connections
            client.get(f"{base}/users/bench/sessions")
        for number in range(rounds):
            for base in (direct, proxied):
                _session(client, base, f"bench-{number}", timings[base].append)
    return timings[direct], timings[proxied]


def _session(client: httpx.Client, base: str, user: str, note: Callable[[float], None]) -> None:
    def timed(method: str, path: str, body: object = None) -> httpx.Response:
        started = time.perf_counter()
        response = client.request(method, base + path, json=body)
        note((time.perf_counter() - started) * 1000)
        return response

    sid = timed("POST", f"/users/{user}/sessions", {}).json()["session_id"]
    timed("GET", f"/users/{user}/sessions/{sid}/status")
    message = {"role": "user", "parts": [{"text": "hi"}]}
    timed("POST", "/run", {"user_id": user, "session_id": sid, "new_message": message})
    timed("GET", f"/users/{user}/sessions/{sid}")
    timed("GET", f"/users/{user}/sessions/never-created")


def _start(arguments: list[str]) -> subprocess.Popen[bytes]:
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    command = [sys.executable, "-m", "conformance.cli", *arguments]
    return subprocess.Popen(command, stdout=subprocess.PIPE, env=env)


def _wait(url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/users/bench/sessions")
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


if __name__ == "__main__":
    sys.exit(main())
