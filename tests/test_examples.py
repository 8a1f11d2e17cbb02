"""The CI examples work: both files are valid against their CI system's schema, and their
scripts, run as the CI would (the install step aside), start a backend, gate it, and
leave every report where the upload steps look for them."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / "examples" / "github-actions" / "session-contract.yml"
GITLAB = ROOT / "examples" / "gitlab-ci" / ".gitlab-ci.yml"
REPORTS = ["session-contract.json", "session-contract.xml", "session-contract.html",
           "session-contract.md", "session-contract.svg"]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "schema"),
    [(GITHUB, "vendor.github-workflows"), (GITLAB, "vendor.gitlab-ci")],
    ids=["github", "gitlab"],
)
def test_the_examples_are_valid_ci_files(path: Path, schema: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def _commands(script: str) -> list[list[str]]:
    """Every ``session-conformance`` command line of a shell script, as argv."""
    joined = script.replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        if line.strip().startswith("session-conformance "):
            words = shlex.split(line.strip())[1:]
            shell = [i for i, w in enumerate(words) if w[:1] in "<>&|;" or w.startswith("2>")]
            commands.append(words[: shell[0]] if shell else words)
    return commands


def _expand(argv: list[str], env: dict[str, str]) -> list[str]:
    return [re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), "x"), a) for a in argv]


def test_every_command_in_the_examples_parses() -> None:
    github = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    gitlab = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    scripts = [step.get("run", "") for job in github["jobs"].values() for step in job["steps"]]
    job = gitlab["session-contract"]
    scripts += [*job["before_script"], *job["script"]]
    commands = [c for script in scripts for c in _commands(script)]
    assert len(commands) == 5  # serve and check, twice; the smoke check
    env = {"BACKEND_PORT": "8000", "BACKEND_URL": "http://127.0.0.1:8000",
           "CORS_ORIGIN": "https://app.example"}  # fmt: skip
    for argv in commands:
        argv = [a.replace("${{ vars.STAGING_URL }}", "https://staging.example") for a in argv]
        build_parser().parse_args(_expand(argv, env))
    checks = [" ".join(c) for c in commands if c[0] == "check"]
    gates = [c for c in checks if "--smoke" not in c]
    assert len(gates) == 2
    assert len(checks) == 3
    for flag in ("--report-json", "--report-junit", "--report-html", "--report-markdown",
                 "--report-badge"):  # fmt: skip
        assert all(flag in c for c in gates), flag


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as_ci(script: str, env: dict[str, str], folder: Path) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in bash the way a CI runner would, then stop what it left running."""
    bin_dir = str(Path(sys.executable).parent)
    full_env = {**os.environ, **env, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    full_env.pop("CI", None)
    wrapped = f"set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{script}"
    return subprocess.run(
        ["bash", "-c", wrapped], cwd=folder, env=full_env, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip


def _job_env(raw: dict[str, Any], port: int, folder: Path) -> dict[str, str]:
    env = {k: re.sub(r"\$\{\{[^}]*\}\}|\$CI_\w+", "42", str(v)) for k, v in raw.items()}
    env.update(BACKEND_PORT=str(port), BACKEND_URL=f"http://127.0.0.1:{port}")
    env["GITHUB_STEP_SUMMARY"] = str(folder / "step-summary.md")
    return env


def _not_install(line: str) -> bool:
    return "pip install" not in line


@pytest.mark.socket
@pytest.mark.slow  # the job's full check and smoke run
def test_the_github_job_gates_a_backend_and_leaves_the_reports(tmp_path: Path) -> None:
    job = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))["jobs"]["conformance"]
    runs = [step["run"] for step in job["steps"] if "run" in step and _not_install(step["run"])]
    result = _run_as_ci("\n".join(runs), _job_env(job["env"], _free_port(), tmp_path), tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for name in REPORTS:
        assert (tmp_path / "reports" / name).stat().st_size > 0, name
    summary = (tmp_path / "step-summary.md").read_text(encoding="utf-8")
    assert summary.startswith("## ✅ Session contract: every applicable clause passed")
    assert "ci-token-42" not in result.stdout + result.stderr + summary


@pytest.mark.socket
@pytest.mark.slow  # the job's full check
def test_the_gitlab_job_gates_a_backend_and_leaves_the_reports(tmp_path: Path) -> None:
    job = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))["session-contract"]
    lines = [line for line in [*job["before_script"], *job["script"]] if _not_install(line)]
    result = _run_as_ci("\n".join(lines), _job_env(job["variables"], _free_port(), tmp_path),
                        tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    kept = [*job["artifacts"]["paths"], job["artifacts"]["reports"]["junit"]]
    for path in kept:
        assert (tmp_path / path).is_file(), path
    badge = (tmp_path / "reports" / "session-contract.svg").read_text(encoding="utf-8")
    assert re.search(r">(\d+)/\1 passed<", badge), badge


def test_nox_has_the_gate_session() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nox", "-l"], cwd=ROOT, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    listed = set(re.findall(r"^[*-] (\w+)", result.stdout, flags=re.MULTILINE))
    # `nox` runs the whole gate: every test, the slow ones included.
    assert {"gate", "tests", "slow", "lint", "typing", "cli", "mutants", "adk"} <= listed
    assert re.search(r"^- gate -> The CI gate, locally", result.stdout, re.MULTILINE)
