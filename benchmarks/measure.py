"""Measurements: the machine, a served reference, a timed CLI run and the bare replay.

The harness always runs as the real CLI in a subprocess (its peak RSS comes from
``wait4``); the reference is served by ``session-conformance serve`` in a process of its
own, so that neither the harness nor the bare replay loop shares an interpreter (or a GIL)
with the server.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.metadata
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from conformance.exchange_log import read_log
from conformance.redaction import MARK
from fixtures.broken import ORIGIN, TOKEN
from fixtures.score import TOKEN_ENV, cli_command

#: Packages whose versions the results name.
PACKAGES = (
    "session-conformance",
    "schemathesis",
    "hypothesis",
    "httpx",
    "httpcore",
    "uvicorn",
    "starlette",
)


@dataclass(frozen=True, slots=True)
class Machine:
    cores: int
    ram_gib: float
    python: str
    system: str
    cpu: str
    versions: tuple[tuple[str, str], ...]


def machine() -> Machine:
    ram = 0.0
    with contextlib.suppress(OSError), open("/proc/meminfo", encoding="ascii") as info:
        for line in info:
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) / 1024 / 1024
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = []
    for name in PACKAGES:
        try:
            versions.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            versions.append((name, "not installed"))
    return Machine(
        cores=os.cpu_count() or 1,
        ram_gib=round(ram, 1),
        python=platform.python_version(),
        system=f"{platform.system()} {platform.release()}",
        cpu=cpu,
        versions=tuple(versions),
    )


# -- the reference, served in a process of its own ------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def served_reference(provision_seconds: float = 0.0) -> Iterator[str]:
    """``session-conformance serve`` on a free port of 127.0.0.1, with the zoo's bearer
    token and CORS origin; yields its URL."""
    port = free_port()
    argv = [*cli_command(), "serve", "--port", str(port), "--cors-origin", ORIGIN]
    argv += ["--provision-seconds", f"{provision_seconds:g}"]
    server = subprocess.Popen(  # quiet: schemathesis sends it requests that are not HTTP
        argv,
        env={**os.environ, TOKEN_ENV: TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_for_port(port: int, server: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the reference exited {server.returncode} before serving")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


# -- a timed run of the CLI -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HarnessRun:
    """One ``session-conformance check URL`` run."""

    argv: tuple[str, ...]
    exit_code: int
    wall_seconds: float
    #: The run itself, as its report says (no interpreter start-up, no imports).
    run_seconds: float
    requests: int
    peak_rss_mib: float
    verdicts: tuple[tuple[str, str], ...]
    log: Path
    report: Path

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.run_seconds if self.run_seconds else 0.0


def time_check(
    url: str, flags: Sequence[str], workdir: Path, name: str, timeout: float = 600.0
) -> HarnessRun:
    """Run the CLI against ``url`` with ``flags``, recording every exchange."""
    report, log = workdir / f"{name}.json", workdir / f"{name}.jsonl"
    argv = [*cli_command(), "check", url, "--cors-origin", ORIGIN, "-q", *flags]
    argv += ["--report-json", str(report), "--record-exchanges", str(log)]
    env = {**os.environ, TOKEN_ENV: TOKEN}
    started = time.perf_counter()
    child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
    code, rss = waited(child, timeout)
    wall = time.perf_counter() - started
    document = json.loads(report.read_text(encoding="utf-8"))
    clauses = document.get("clauses", [])
    with log.open(encoding="utf-8") as lines:
        requests = sum(1 for line in lines if line.strip())
    return HarnessRun(
        argv=tuple(argv),
        exit_code=code,
        wall_seconds=wall,
        run_seconds=float(document["duration_ms"]) / 1000,
        requests=requests,
        peak_rss_mib=rss,
        verdicts=tuple((str(c["id"]), str(c["verdict"])) for c in clauses),
        log=log,
        report=report,
    )


@dataclass(frozen=True, slots=True)
class SplitRun:
    """The clauses split by family across CLI processes run at once (what ``--workers``
    in threads could at best reach: processes share no GIL)."""

    processes: int
    wall_seconds: float
    requests: int
    slowest_run_seconds: float


def time_split(
    url: str, groups: Sequence[Sequence[str]], flags: Sequence[str], workdir: Path, name: str
) -> SplitRun:
    """Run one CLI process per group of clause ids, all at once, against ``url``."""
    env = {**os.environ, TOKEN_ENV: TOKEN}
    children = []
    started = time.perf_counter()
    for i, group in enumerate(groups):
        report, log = workdir / f"{name}-{i}.json", workdir / f"{name}-{i}.jsonl"
        argv = [*cli_command(), "check", url, "--cors-origin", ORIGIN, "-q", *flags]
        argv += ["--report-json", str(report), "--record-exchanges", str(log), "--clause", *group]
        children.append((subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL), report, log))
    for child, _, _ in children:
        waited(child, 600.0)
    wall = time.perf_counter() - started
    requests, slowest = 0, 0.0
    for _, report, log in children:
        with log.open(encoding="utf-8") as lines:
            requests += sum(1 for line in lines if line.strip())
        document = json.loads(report.read_text(encoding="utf-8"))
        slowest = max(slowest, float(document["duration_ms"]) / 1000)
    return SplitRun(len(groups), wall, requests, slowest)


def clause_seconds(report: Path) -> tuple[tuple[str, str, float], ...]:
    """(clause id, family, seconds) of each clause of a saved JSON report, in run order."""
    document = json.loads(report.read_text(encoding="utf-8"))
    return tuple(
        (str(c["id"]), str(c["family"]), float(c["duration_ms"]) / 1000)
        for c in document["clauses"]
    )


def waited(child: subprocess.Popen[bytes], timeout: float) -> tuple[int, float]:
    """Wait for ``child`` (killed past ``timeout``): its exit code and peak RSS in MiB."""
    timer = threading.Timer(timeout, child.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(child.pid, 0)
    finally:
        timer.cancel()
    child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, usage.ru_maxrss / 1024  # ru_maxrss: kilobytes on Linux


# -- the bare replay ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Replay:
    requests: int
    seconds: float
    #: Replayed answers whose status differs from the recorded one (state, ids, timing).
    status_changed: int

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def replay(log: Path, base_url: str, token: str = TOKEN) -> Replay:
    """Send the logged requests again, one after another, with a bare ``httpx.Client``
    (connection reuse, no bounds, no records) to ``base_url`` (a server as fresh as the
    one the log was recorded against): the floor for this stack."""
    entries = list(read_log(log))
    if entries:
        recorded = httpx.URL(entries[0].url)
        origin = f"{recorded.scheme}://{recorded.netloc.decode('ascii')}"
        entries = [
            dataclasses.replace(
                e,
                url=base_url + e.url.removeprefix(origin),
                headers=tuple((k, v) for k, v in e.headers if k.lower() != "host"),
            )
            for e in entries
        ]
    secret, auth = MARK.encode(), token.encode()
    with httpx.Client(timeout=30.0) as client:
        started = time.perf_counter()
        statuses: list[int | None] = []
        for entry in entries:  # building each request is part of any client's cost
            headers = [(k, v.replace(MARK, token)) for k, v in entry.headers]
            content = entry.body.replace(secret, auth)
            try:
                response = client.request(entry.method, entry.url, headers=headers, content=content)
                statuses.append(response.status_code)
            except httpx.HTTPError:
                statuses.append(None)
        seconds = time.perf_counter() - started
    changed = sum(1 for entry, got in zip(entries, statuses, strict=True) if entry.status != got)
    return Replay(requests=len(entries), seconds=seconds, status_changed=changed)


# -- schemathesis's own CLI ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SchemathesisRun:
    exit_code: int
    wall_seconds: float
    requests: int
    test_cases: int
    #: What it reported: (failure code, operation) pairs.
    failures: frozenset[tuple[str, str]]
    peak_rss_mib: float


def st_command() -> list[str]:
    script = Path(sys.executable).with_name("st")
    return [str(script)] if script.exists() else [sys.executable, "-m", "schemathesis.cli"]


def run_schemathesis(
    spec: Path,
    url: str,
    *,
    max_examples: int,
    seed: int,
    workers: int = 1,
    timeout: float = 600.0,
) -> SchemathesisRun:
    """``st run`` with all its checks, ``max_examples`` per operation, the example database
    off and ``workers`` workers (one: deterministic for a seed); requests counted from its
    HAR report."""
    with tempfile.TemporaryDirectory(prefix="sc-bench-st-") as tmp:
        har, report = Path(tmp) / "run.har", Path(tmp) / "run.json"
        argv = [*st_command(), "run", str(spec), "--url", url, "--checks", "all"]
        argv += ["--max-examples", str(max_examples), "--seed", str(seed)]
        argv += ["--generation-database", "none", "--workers", str(workers), "--no-color"]
        argv += ["-H", f"Authorization: Bearer {TOKEN}", "--report", "har,json"]
        argv += ["--report-har-path", str(har), "--report-json-path", str(report)]
        started = time.perf_counter()
        child = subprocess.Popen(
            argv, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        code, rss = waited(child, timeout)
        wall = time.perf_counter() - started
        requests = 0
        if har.exists():
            requests = len(json.loads(har.read_text(encoding="utf-8"))["log"]["entries"])
        failures: set[tuple[str, str]] = set()
        cases = 0
        if report.exists():
            document = json.loads(report.read_text(encoding="utf-8"))
            cases = int(document.get("test_cases", {}).get("generated", 0))
            for failure in document.get("failures", []):
                for operation in failure.get("operations", []):
                    failures.add((str(failure.get("code")), str(operation)))
    return SchemathesisRun(code, wall, requests, cases, frozenset(failures), rss)
