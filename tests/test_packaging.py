"""The wheel carries the contract files and the console script, so an installed harness
finds its specs without the repository around it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_specs_and_entry_point(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("session_conformance-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for spec in ("clauses.yaml", "clauses.schema.json", "report.schema.json",
                 "session-contract.openapi.yaml"):  # fmt: skip
        assert f"conformance/specs/{spec}" in names
    assert "conformance/reference/app.py" in names
    assert "conformance/profile/loading.py" in names  # the profile package
    assert "conformance/profiles/adk.toml" in names  # and its built-in files (package data)
    assert not any(name.startswith(("tests/", "fixtures/")) for name in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "session-conformance = conformance.cli:main" in text
    assert "session_conformance = conformance.pytest_plugin" in text  # the pytest11 plugin
