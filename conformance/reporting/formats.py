"""The report formats rendered from a saved report, and how a rendered report is written.

Each format is a function ``(SavedReport) -> str``; ``check --report-<format> PATH`` and
``session-conformance report REPORT.json --format <format>`` use the same table, so a
format rendered again from a saved run is identical to the one the run wrote.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from conformance.reporting.badge import render_badge
from conformance.reporting.html import render_html
from conformance.reporting.junit import render_junit
from conformance.reporting.markdown import render_markdown
from conformance.reporting.saved import SavedReport

Renderer = Callable[[SavedReport], str]

#: Format name -> renderer, in the order ``--help`` lists them.
FORMATS: dict[str, Renderer] = {
    "html": render_html,
    "markdown": render_markdown,
    "junit": render_junit,
    "badge": render_badge,
}


def render(report: SavedReport, format_name: str) -> str:
    return FORMATS[format_name](report)


def write_text(path: Path, text: str) -> None:
    """Write atomically (a reader never sees half a report), creating parent folders.

    A path that exists and is not a regular file (``/dev/stdout``, a pipe) is written
    in place."""
    if path.exists() and not path.is_file():
        with path.open("w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
