"""The whole gate: `nox` runs every session, the tests marked slow included.

`nox -s tests -- -k LIFE-001` is the inner loop."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import nox

nox.options.sessions = ["lint", "typing", "tests", "slow", "cli", "mutants", "adk"]
nox.options.reuse_existing_virtualenvs = True
PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The test suite but the tests marked slow, as a plain `pytest` runs it (real servers
    on 127.0.0.1, in-process ASGI). Everything: `nox -s tests -- -m 'slow or not slow'`."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def slow(session: nox.Session) -> None:
    """The tests marked slow, that a plain `pytest` leaves out: the zoo's full runs, hostile
    targets, the independent servers, the signal sweep, the benchmarks."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "slow", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check, and lint-imports (the layers of docs/architecture.md,
    [tool.importlinter] in pyproject.toml)."""
    session.install("ruff>=0.8", "import-linter>=2.1")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports", "--no-cache")


@nox.session(python=PYTHON)
def typing(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "conformance")


@nox.session(python=PYTHON)
def cli(session: nox.Session) -> None:
    """The real CLI over a real socket: `serve` the reference, `check` its URL, expect 0."""
    session.install("-e", ".")
    port = _free_port()
    token, origin = "nox-cli-token", "https://app.example"
    serve = [
        "session-conformance",
        "serve",
        "--port",
        str(port),
        "--cors-origin",
        origin,
        "--provision-seconds",
        "0.5",
    ]
    env = {**os.environ, "SESSION_CONFORMANCE_TOKEN": token}
    server = subprocess.Popen(serve, env={**env, "PATH": _bin_path(session)})
    try:
        _wait_for_port(port)
        session.run(
            "session-conformance",
            "check",
            f"http://127.0.0.1:{port}",
            "--cors-origin",
            origin,
            "--report-json",
            "reports/cli.json",
            *session.posargs,
            env={"SESSION_CONFORMANCE_TOKEN": token},
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


#: The reports `gate` writes, as in examples/ (format -> file under reports/gate/).
GATE_REPORTS = {"json": "json", "junit": "xml", "html": "html", "markdown": "md", "badge": "svg"}


@nox.session(python=PYTHON)
def gate(session: nox.Session) -> None:
    """The CI gate, locally: `nox -s gate -- URL [check flags]` checks URL and writes every
    report to reports/gate/ (the token from SESSION_CONFORMANCE_TOKEN). With no URL it
    serves the reference on a free port and gates that, as examples/ do in CI."""
    session.install("-e", ".")
    args = list(session.posargs)
    url = args.pop(0) if args and args[0].startswith(("http://", "https://")) else None
    reports = [f"--report-{kind}=reports/gate/session-contract.{ext}"
               for kind, ext in GATE_REPORTS.items()]  # fmt: skip
    if url is not None:
        session.run("session-conformance", "check", url, *reports, *args)
        session.log("reports: reports/gate/ (open session-contract.html)")
        return
    port, origin = _free_port(), "https://app.example"
    env = {**os.environ, "SESSION_CONFORMANCE_TOKEN": os.environ.get(
        "SESSION_CONFORMANCE_TOKEN", "nox-gate-token")}  # fmt: skip
    serve = ["session-conformance", "serve", "--port", str(port), "--cors-origin", origin]
    server = subprocess.Popen(serve, env={**env, "PATH": _bin_path(session)})
    try:
        _wait_for_port(port)
        session.run("session-conformance", "check", f"http://127.0.0.1:{port}",
                    "--cors-origin", origin, *reports, *args,
                    env={"SESSION_CONFORMANCE_TOKEN": env["SESSION_CONFORMANCE_TOKEN"]})  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=10)
    session.log("reports: reports/gate/ (open session-contract.html)")


@nox.session(python=PYTHON)
def mutants(session: nox.Session) -> None:
    """The mutation score: every mutant of the zoo (fixtures/broken/) served on 127.0.0.1
    and checked by the real CLI; writes docs/mutation-score.md. Fails if one escapes."""
    session.install("-e", ".")
    session.run("python", "-m", "fixtures.score", "--markdown", "docs/mutation-score.md",
                *session.posargs)  # fmt: skip


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """The benchmarks (not part of the gate): the full check against the reference, the bare
    httpx replay of its requests, schemathesis side by side on the zoo; writes
    benchmarks/RESULTS.md. `nox -s bench -- --quick` for a short try."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session(python=PYTHON)
def adk(session: nox.Session) -> None:
    """A real Google ADK `adk api_server` (pinned, from the `adk` extra) checked with the
    `adk` profile, its verdicts held to fixtures/adk_agents/expected.json. With
    `-- --update`: run it, rewrite that expectation and docs/reports/google-adk.md."""
    session.install("-e", ".[test,adk]")
    if "--update" in session.posargs:
        session.run("python", "-m", "fixtures.adk_agents.report", "--update")
    else:
        # Every test of the file, those marked slow too (a plain `pytest` leaves them out).
        session.run("pytest", "tests/test_adk.py", "-v", "-m", "slow or not slow", *session.posargs)


@nox.session(python=PYTHON)
def langgraph(session: nox.Session) -> None:
    """A real LangGraph `langgraph dev` (pinned, fixtures/langgraph_app/requirements.txt, in a
    venv of its own: its jsonschema-rs pin conflicts with schemathesis) checked with the
    `langgraph` profile, its verdicts held to fixtures/langgraph_app/expected.json
    (tests/test_langgraph.py). With `-- --update`: run it, rewrite that expectation and
    docs/reports/langgraph.md."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "venv", ".venv-langgraph", external=True)
    session.run(
        ".venv-langgraph/bin/python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "-r",
        "fixtures/langgraph_app/requirements.txt",
        external=True,
    )
    if "--update" in session.posargs:
        session.run("python", "-m", "fixtures.langgraph_app.report", "--update")
        return
    session.run(
        "pytest",
        "tests/test_langgraph.py",
        "-v",
        *session.posargs,
        env={"SESSION_CONFORMANCE_REQUIRE_LANGGRAPH": "1"},
    )


def _bin_path(session: nox.Session) -> str:
    return f"{session.bin}{os.pathsep}{os.environ.get('PATH', '')}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")
