"""The CLI end to end: exit codes, messages, the JSON report, the same verdicts over a
real socket as in-process, and bad input that ends in one readable line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import jsonschema
import pytest

from conformance.cli import main
from conformance.commands.last_run import STATE_DIR_ENV
from conformance.contract import report_schema
from conformance.serving import RunningServer
from tests.conftest import ORIGIN, TOKEN

SEED = "20261121"


def _report(path: Path) -> dict[str, object]:
    data = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(report_schema()).validate(data)
    assert isinstance(data, dict)
    return data


def _verdicts(report: dict[str, object]) -> dict[str, str]:
    clauses = report["clauses"]
    assert isinstance(clauses, list)
    return {c["id"]: c["verdict"] for c in clauses}


@pytest.fixture(scope="module")
def in_process_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    path = tmp_path_factory.mktemp("inproc") / "report.json"
    code = main(["check", "--seed", SEED, "--report-json", str(path), "-q"])
    report = _report(path)
    assert code == 0, report["totals"]
    return report


@pytest.mark.slow  # a full run of every clause (CI also runs it as the README's first command)
def test_bundled_reference_passes_every_clause(in_process_report: dict[str, object]) -> None:
    verdicts = _verdicts(in_process_report)
    not_passed = {cid: v for cid, v in verdicts.items() if v != "passed"}
    assert not_passed == {}
    totals = in_process_report["totals"]
    assert isinstance(totals, dict)
    assert totals["passed"] == totals["total"] >= 40


@pytest.mark.socket
@pytest.mark.slow  # a second full run, over a socket
def test_same_verdicts_over_a_real_socket(
    in_process_report: dict[str, object],
    reference_server: Callable[..., RunningServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = reference_server(token=TOKEN, cors_origin=ORIGIN, provision_seconds=0.5)
    monkeypatch.setenv("SESSION_CONFORMANCE_TOKEN", TOKEN)
    path = tmp_path / "socket.json"
    code = main(
        [
            "check",
            server.url,
            "--cors-origin",
            ORIGIN,
            "--seed",
            SEED,
            "--report-json",
            str(path),
            "-q",
        ]
    )
    report = _report(path)
    assert code == 0, report["totals"]
    over_socket, in_process = _verdicts(report), _verdicts(in_process_report)
    # In-process, the bundled reference's own OpenAPI document is known (the contract's);
    # a URL's is not, unless a profile names it: the TSCHEMA clauses do not apply there.
    own_schema = {cid for cid in in_process if cid.startswith("TSCHEMA-")}
    assert own_schema
    assert all(in_process[cid] == "passed" for cid in own_schema)
    assert all(over_socket[cid] == "not_applicable" for cid in own_schema)
    assert {c: v for c, v in over_socket.items() if c not in own_schema} == {
        c: v for c, v in in_process.items() if c not in own_schema
    }


@pytest.mark.socket
def test_console_script_serve_then_check(tmp_path: Path) -> None:
    """The installed console script, two processes, a real socket: what a user types."""
    exe = Path(sys.executable).with_name("session-conformance")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "conformance.cli"]
    port = _free_port()
    env = {**os.environ, "SESSION_CONFORMANCE_TOKEN": TOKEN}
    server = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--cors-origin", ORIGIN], env=env
    )
    try:
        _wait_for(port)
        result = subprocess.run(
            [*command, "check", f"http://127.0.0.1:{port}", "--cors-origin", ORIGIN,
             "--seed", SEED, "--clause", "LIFE-001", "LIFE-007", "AUTH-001", "CORS-001",
             "--report-json", str(tmp_path / "r.json")],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"seed: {SEED}" in result.stdout
    assert "4 passed, 0 failed" in result.stdout
    assert TOKEN not in result.stdout + result.stderr
    assert TOKEN not in (tmp_path / "r.json").read_text(encoding="utf-8")


def test_unreachable_target_is_exit_3_with_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "r.json"
    url = f"http://127.0.0.1:{_free_port()}"
    code = main(["check", url, "--seed", "1", "--report-json", str(path), "--connect-timeout", "2"])
    out, err = capsys.readouterr()
    assert code == 3
    assert "target unreachable" in err
    assert "Traceback" not in out + err
    assert err.count("\n") == 1
    report = _report(path)
    assert len(_verdicts(report)) == 76
    assert set(_verdicts(report).values()) == {"error"}  # every clause stays error
    # The console says it once: one clause line, one reason, one replay.
    assert out.count("target unreachable") == 2  # the first clause's line, the Undecided one
    assert "… and 75 more clause(s) undecided for the same reason" in out
    assert out.count("Replay:") == 1
    assert len(out.splitlines()) < 35


def test_a_url_after_clause_is_the_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    path = tmp_path / "r.json"
    code = main(["check", "--clause", "LIFE-001", "LIFE-002", url, "--seed", "1",
                 "--connect-timeout", "2", "--report-json", str(path)])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 3, err  # the target was tried, not taken for a clause id
    assert f"checking {url}" in out
    assert _verdicts(_report(path)) == {"LIFE-001": "error", "LIFE-002": "error"}
    assert main(["check", url, "--clause", "LIFE-001", url]) == 2
    assert "is a URL, not a clause id" in capsys.readouterr().err


def test_serve_on_a_port_in_use_says_so_and_nothing_else(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        code = main(["serve", "--port", str(taken.getsockname()[1])])
    out, err = capsys.readouterr()
    assert code == 3
    assert out == ""  # no "serving the reference on ..." before the error
    assert err.startswith("session-conformance: cannot serve on 127.0.0.1:")
    assert len(err.splitlines()) == 1


def test_serve_answers_without_nagle() -> None:
    """The socket ``serve`` binds is one asyncio sets TCP_NODELAY on for every connection:
    else a response written in two pieces (head, body) waits on the client's delayed ACK."""
    import asyncio

    from conformance.commands.serve import _bound

    async def nodelay() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def on_connection(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        listener = _bound("127.0.0.1", 0)
        server = await asyncio.start_server(on_connection, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
            flag = await asyncio.wait_for(accepted, timeout=30)
            writer.close()
        return flag

    assert asyncio.run(nodelay()) != 0


def test_every_flag_has_help_and_check_groups_its_flags(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from conformance.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    for name, sub in commands.choices.items():  # type: ignore[union-attr]
        for action in sub._actions:
            assert action.help, (name, action.option_strings or action.dest)
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    out = capsys.readouterr().out
    titles = [line[:-1] for line in out.splitlines() if line.endswith(":") and line[0] != " "]
    assert titles[1:] == ["target", "selection", "budget", "bounds", "reports", "output"]


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["check", "--max-examples", "0"], "--max-examples"),
        (["check", "--seed", "-3"], "--seed"),
        (["check", "ftp://example.org"], "not an http(s) URL"),
        (["check", "http://127.0.0.1:99999"], "invalid port"),
        (["check", "--clause", "NOPE-001"], "unknown clause"),
        (["check", "--frobnicate"], "unrecognized arguments"),
        (["serve", "--port", "70000"], "port"),
        ([], "required"),
    ],
)
def test_bad_usage_is_exit_2_with_one_line(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2
    assert fragment in err
    assert "Traceback" not in out + err
    assert err.startswith("session-conformance: usage error:")


@pytest.fixture
def garbage_server() -> Iterator[str]:
    """A TCP server that answers every connection with bytes that are not HTTP."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"\x00\x01garbage, not HTTP\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    listener.close()


def test_a_target_answering_garbage_is_exit_3(
    garbage_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "r.json"
    code = main(["check", garbage_server, "--seed", "1", "--report-json", str(path)])
    out, err = capsys.readouterr()
    assert code == 3
    assert "Traceback" not in out + err
    assert set(_verdicts(_report(path)).values()) == {"error"}
    # One reason for every clause: said once, with one replay, not once per clause.
    assert "Undecided (error: the harness could not decide)" in out
    assert out.count("Replay:") == 1
    assert f"Replay:  session-conformance check {garbage_server} --seed 1\n" in out
    assert "all 76 clauses: " in out


def test_report_is_written_where_asked_even_in_a_new_folder(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "report.json"
    code = main(["check", "--seed", "7", "--clause", "LIFE-001", "--report-json", str(path), "-q"])
    assert code == 0
    assert _verdicts(_report(path)) == {"LIFE-001": "passed"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, timeout: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def test_ctrl_c_still_writes_the_report(tmp_path: Path) -> None:
    """SIGINT mid-run: exit 130, one line, and a valid report of what was decided."""
    import signal
    import time

    path = tmp_path / "r.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "check", "--seed", "1",
         "--provision-seconds", "2", "--report-json", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:  # wait until the run is under way
        if "PASS" in line:
            break
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, out + err
    assert "Traceback" not in out + err
    report = _report(path)
    assert any(note.startswith("interrupted") for note in report["notes"])  # type: ignore[attr-defined]
    assert 0 < len(report["clauses"]) < 63  # type: ignore[arg-type]


def test_seed_last_replays_the_previous_runs_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, again = tmp_path / "first.json", tmp_path / "again.json"
    assert (
        main(["check", "--seed", "4242", "--clause", "LIFE-001", "-q", "--report-json", str(first)])
        == 0
    )
    capsys.readouterr()
    assert (
        main(["check", "--seed", "last", "--clause", "LIFE-001", "-q", "--report-json", str(again)])
        == 0
    )
    out = capsys.readouterr().out
    assert "seed: 4242" in out
    assert _report(again)["seed"] == 4242
    assert _report(again)["clauses"][0]["seed"] == _report(first)["clauses"][0]["seed"]


def test_seed_last_without_an_earlier_run_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "never-used"))
    code = main(["check", "--seed", "last", "--clause", "LIFE-001"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--seed last: no earlier run is recorded" in err
    assert "Traceback" not in err
