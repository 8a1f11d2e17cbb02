"""Reports: one run writes every format; each is read back by a real consumer (a JUnit
parser, a Markdown renderer, headless Chromium, a JSON Schema validator), and
``session-conformance report`` renders the same bytes again from the saved JSON."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped
from markdown_it import MarkdownIt
from starlette.requests import Request
from starlette.responses import Response

from conformance.cli import main
from conformance.contract import report_schema
from conformance.records import ClauseResult, Finding, RunReport, Verdict
from conformance.reference import ReferenceConfig
from conformance.reference.models import Session
from conformance.reporting.badge import GREEN, GREY, ORANGE, RED, YELLOW, badge_message
from conformance.reporting.failure_block import failure_block
from conformance.reporting.formats import FORMATS
from conformance.reporting.markdown import MAX_CHARS, render_markdown
from conformance.reporting.saved import read_report, saved
from conformance.serving import RunningServer, serve_in_thread
from fixtures.broken import Mutant

SECRET = "tok-reports-5d1c9a7e"
ORIGIN = "https://app.example"
#: What a hostile target answers: markup, script, Markdown, a backtick fence, a NUL byte.
EVIL = (
    "<script>document.title='pwned'</script><img src=x onerror=alert(1)>"
    " ``` | pipe **bold** [link](http://evil.example) \x00nul"
)
FAILED = ("LIFE-001", "ERR-001", "ERR-006")
PASSED = ("LIFE-003", "ID-001")
NOT_APPLICABLE = ("LIFE-010",)  # --no-client-ids
UNDECIDED = ("LIFE-005",)  # never Ready within --ready-timeout
CLAUSES = (*FAILED, *PASSED, *NOT_APPLICABLE, *UNDECIDED)
FILES = {"json": "run.json", "html": "run.html", "markdown": "run.md", "junit": "run.xml",
         "badge": "run.svg"}  # fmt: skip


class HostileBackend(Mutant):
    """Answers unknown routes with hostile HTML, and a run on an unknown id creates it."""

    def not_found_response(self, request: Request) -> Response:
        return Response(EVIL.encode(), 404, media_type="text/html")

    def require_session(self, user_id: str, session_id: str) -> Session:
        found = self.lookup(user_id, session_id)
        return found if found is not None else self.create(user_id, session_id, {}, 3600)


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str
    folder: Path

    def path(self, kind: str) -> Path:
        return self.folder / FILES[kind]

    def text(self, kind: str) -> str:
        return self.path(kind).read_text(encoding="utf-8")


def _check(folder: Path, *argv: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    flags = [f"--report-{kind}={folder / name}" for kind, name in FILES.items()]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", *argv, *flags])
    return Run(code, out.getvalue(), err.getvalue(), folder)


@pytest.fixture(scope="module")
def hostile() -> Iterator[RunningServer]:
    app = HostileBackend(ReferenceConfig(provision_seconds=3, token=SECRET, cors_origin=ORIGIN))
    server = serve_in_thread(app)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def run(hostile: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One run over a real socket with every verdict: failed, passed, n/a and error."""
    folder = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SESSION_CONFORMANCE_TOKEN", SECRET)
        result = _check(folder, hostile.url, "--seed", "11", "--cors-origin", ORIGIN,
                        "--no-client-ids", "--ready-timeout", "0.3", "--clause", *CLAUSES)  # fmt: skip
    assert result.code == 1, result.out + result.err
    return result


def test_one_run_writes_every_format_and_the_json_is_valid(run: Run) -> None:
    for kind in FILES:
        assert run.path(kind).stat().st_size > 0, kind
    data = json.loads(run.text("json"))
    jsonschema.Draft202012Validator(report_schema()).validate(data)
    verdicts = {c["id"]: c["verdict"] for c in data["clauses"]}
    assert verdicts == {
        **dict.fromkeys(FAILED, "failed"),
        **dict.fromkeys(PASSED, "passed"),
        **dict.fromkeys(NOT_APPLICABLE, "not_applicable"),
        **dict.fromkeys(UNDECIDED, "error"),
    }


def test_no_output_holds_the_token(run: Run) -> None:
    assert SECRET not in run.out + run.err
    for kind in FILES:
        assert SECRET not in run.text(kind), kind


# -- JUnit ----------------------------------------------------------------------------------


def test_junit_has_one_case_per_clause_with_the_evidence(run: Run) -> None:
    xml = JUnitXml.fromfile(str(run.path("junit")))
    cases = {case.name: (suite.name, case) for suite in xml for case in suite}
    assert set(cases) == set(CLAUSES)
    for suite_name, case in cases.values():
        assert case.classname == suite_name  # classname is the family
    assert cases["LIFE-001"][0] == "lifecycle"
    assert cases["ERR-001"][0] == "errors"
    for clause_id in FAILED:
        (failure,) = cases[clause_id][1].result
        assert isinstance(failure, Failure)
        assert failure.type == "MUST clause"
        text = failure.text or ""
        for needle in (f"{clause_id} [MUST]", "Problem:", "Sent:", "Expected:", "Received:",
                       "Reproduce: curl ", "--seed 11 ", "--ready-timeout 0.3",
                       f"--no-client-ids --clause {clause_id}"):  # fmt: skip
            assert needle in text, (clause_id, needle)
        assert "${SESSION_CONFORMANCE_TOKEN}" in text
    (skipped,) = cases["LIFE-010"][1].result
    assert isinstance(skipped, Skipped)
    assert "client-chosen" in (skipped.message or "")
    (error,) = cases["LIFE-005"][1].result
    assert isinstance(error, Error)
    assert "did not become Ready" in (error.message or "")
    for clause_id in PASSED:
        assert cases[clause_id][1].is_passed


def test_junit_counts_and_hostile_bytes(run: Run) -> None:
    xml = JUnitXml.fromfile(str(run.path("junit")))
    xml.update_statistics()
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (len(CLAUSES), 3, 1, 1)
    text = run.text("junit")
    assert "\\x00nul" in text  # the NUL byte XML cannot hold, written visibly
    root = ET.fromstring(text.encode())
    assert root.tag == "testsuites"


def test_junit_failure_text_is_the_console_failure_block(run: Run) -> None:
    report = read_report(run.path("json"))
    clause = next(c for c in report.clauses if c.id == "LIFE-001")
    block = failure_block(clause)
    console = run.out.splitlines()
    start = console.index(block[0], console.index("Failures"))
    assert console[start : start + len(block)] == block
    xml = JUnitXml.fromfile(str(run.path("junit")))
    case = next(case for suite in xml for case in suite if case.name == "LIFE-001")
    assert case.result[0].text == "\n".join(block)


# -- Markdown -------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _rendered(markdown: str) -> _Tags:
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    tags = _Tags()
    tags.feed(html)
    return tags


def test_markdown_renders_to_tables_and_failure_blocks(run: Run) -> None:
    markdown = run.text("markdown")
    assert markdown.startswith("## ❌ Session contract: 3 MUST clause(s) failed")
    tags = _rendered(markdown)
    assert tags.tags.count("table") == 2  # totals, families
    assert tags.tags.count("details") == len(FAILED) + 1  # failures, not-applicable list
    text = "".join(tags.text)
    for clause_id in FAILED:
        assert f"{clause_id} [MUST]" in text
    assert "Reproduce: curl " in text
    assert "LIFE-005" in text
    assert "did not become Ready" in text
    assert "LIFE-010" in text  # not applicable, with its reason
    assert len(markdown) < MAX_CHARS


def test_markdown_lets_no_markup_of_the_target_through(run: Run) -> None:
    tags = _rendered(run.text("markdown"))
    assert "script" not in tags.tags
    assert "img" not in tags.tags
    assert "a" not in tags.tags  # the target's [link](...) stays text
    assert "<script>document.title='pwned'</script>" in "".join(tags.text)  # shown as text


def test_markdown_stays_under_its_budget_with_many_failures() -> None:
    finding = Finding(message="x" * 3000, expected="y" * 3000)
    results = tuple(
        ClauseResult(
            f"LIFE-{n:03d}",
            "lifecycle",
            "MUST",
            "A statement of the clause.",
            Verdict.FAILED,
            "broken",
            n,
            1.0,
            (finding,) * 5,
        )
        for n in range(1, 60)
    )
    markdown = render_markdown(saved(_report(results)))
    assert len(markdown) < MAX_CHARS
    assert "more failure(s), left out to keep this summary short" in markdown
    assert "- `LIFE-059` [MUST]: broken" in markdown


# -- HTML in headless Chromium ----------------------------------------------------------------

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]  # fmt: skip


def _chromium(tmp_path: Path, *args: str) -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium)")
    profile = tmp_path / f"chromium-profile-{len(list(tmp_path.iterdir()))}"
    result = subprocess.run(
        [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


class _Dom(HTMLParser):
    """The elements of a dumped DOM, with their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""
        self._in_title = False
        self.shown = ""
        self._in_shown = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in_title = tag == "title"
        self._in_shown = dict(attrs).get("id") == "shown"

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._in_shown:
            self.shown += data

    def handle_endtag(self, tag: str) -> None:
        self._in_title = self._in_shown = False

    def rows(self) -> dict[str, bool]:
        """Clause id -> visible, for the table rows."""
        return {
            (attrs.get("id") or "").removeprefix("row-"): "hidden" not in attrs
            for tag, attrs in self.elements
            if tag == "tr" and "data-verdict" in attrs
        }


def _dom(tmp_path: Path, page: Path, fragment: str = "") -> _Dom:
    dom = _Dom()
    dom.feed(_chromium(tmp_path, "--dump-dom", page.as_uri() + fragment))
    return dom


def test_html_filters_by_verdict_and_family_in_chromium(run: Run, tmp_path: Path) -> None:
    page = run.path("html")
    everything = _dom(tmp_path, page)
    assert ("html", {"lang": "en", "data-ready": "true"}) in everything.elements  # the JS ran
    assert set(everything.rows()) == set(CLAUSES)
    assert all(everything.rows().values())
    assert everything.shown == str(len(CLAUSES))

    failed = _dom(tmp_path, page, "#verdict=failed")
    assert {cid for cid, visible in failed.rows().items() if visible} == set(FAILED)
    assert failed.shown == str(len(FAILED))
    details = [a for t, a in failed.elements if t == "details" and "data-verdict" in a]
    assert {a["id"] for a in details if "hidden" not in a} == {f"clause-{c}" for c in FAILED}

    errors = _dom(tmp_path, page, "#verdict=passed,failed,not_applicable,error&family=errors")
    assert {cid for cid, visible in errors.rows().items() if visible} == {"ERR-001", "ERR-006"}
    boxes = {a["value"]: "checked" in a for t, a in errors.elements if a.get("name") == "verdict"}
    assert boxes == dict.fromkeys(["passed", "failed", "not_applicable", "error"], True)


def test_html_runs_nothing_of_the_target_and_loads_nothing(run: Run, tmp_path: Path) -> None:
    dom = _dom(tmp_path, run.path("html"))
    assert dom.title.startswith("Session contract: 3 MUST clause(s) failed")  # not 'pwned'
    assert not [a for t, a in dom.elements if t == "img"]
    assert [t for t, _ in dom.elements].count("script") == 1  # ours, and only ours
    for _, attrs in dom.elements:
        for name in ("src", "href"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (name, value)
    html = run.text("html")
    assert "default-src 'none'" in html
    assert html.count("<script>") == 1
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in html


def test_html_shows_exchanges_curl_and_replay_for_failures(run: Run) -> None:
    html = run.text("html")
    for clause_id in FAILED:
        section = html[html.index(f'id="clause-{clause_id}"') :]
        section = section[: section.index("</details>")]
        for needle in ("Problem", "Expected", "Sent: ", "Received: ", "Reproduce",
                       "curl -sS -i -X ", f"--clause {clause_id}"):  # fmt: skip
            assert needle in section, (clause_id, needle)
        assert " open>" in section[:300]  # failures are unfolded


def test_html_screenshot(run: Run, tmp_path: Path) -> None:
    """A real render: a PNG of the report, filtered to its failures (looked at by eye while
    building the report; here we check Chromium produced the picture)."""
    shot = tmp_path / "report.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,1600",
              run.path("html").as_uri() + "#verdict=failed,error")  # fmt: skip
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 20_000  # a page with text, not a blank canvas


# -- badge ----------------------------------------------------------------------------------


def test_badge_from_the_run_is_svg(run: Run) -> None:
    root = ET.fromstring(run.text("badge"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["session contract", "session contract", "3 MUST failed", "3 MUST failed"]
    fills = {r.get("fill") for r in root.iter("{http://www.w3.org/2000/svg}rect")}
    assert RED in fills


def _result(clause_id: str, verdict: Verdict, level: str = "MUST") -> ClauseResult:
    findings = (Finding("broken", "not broken"),) if verdict is Verdict.FAILED else ()
    summary = "" if verdict is Verdict.PASSED else "why"
    return ClauseResult(clause_id, "lifecycle", level, "A statement of the clause.", verdict,
                        summary, 1, 1.0, findings)  # fmt: skip


def _report(
    results: tuple[ClauseResult, ...], notes: tuple[str, ...] = (), interrupted: bool = False
) -> RunReport:
    return RunReport("session-conformance", "0.1.0", "http://t.example", "canonical", 1,
                     "2026-01-01T00:00:00+00:00", 10.0, results, notes=notes,
                     interrupted=interrupted)  # fmt: skip


@pytest.mark.parametrize(
    ("verdicts", "notes", "expected"),
    [
        ([Verdict.PASSED] * 3 + [Verdict.NOT_APPLICABLE], (), ("3/3 passed", GREEN)),
        ([Verdict.PASSED, Verdict.FAILED], (), ("1 MUST failed", RED)),
        ([Verdict.PASSED, Verdict.ERROR], (), ("1 undecided", ORANGE)),
        ([Verdict.PASSED], ("interrupted: 1 of 9 clauses decided",), ("interrupted", GREY)),
        ([Verdict.NOT_APPLICABLE], (), ("nothing checked", GREY)),
    ],
)
def test_badge_message(
    verdicts: list[Verdict], notes: tuple[str, ...], expected: tuple[str, str]
) -> None:
    results = tuple(_result(f"LIFE-{n:03d}", v) for n, v in enumerate(verdicts, 1))
    report = _report(results, notes, interrupted=bool(notes))  # the note of an interrupted run
    assert badge_message(saved(report)) == expected


def test_badge_should_failure_is_yellow() -> None:
    results = (_result("LIFE-001", Verdict.PASSED), _result("LIFE-011", Verdict.FAILED, "SHOULD"))
    assert badge_message(saved(_report(results))) == ("1/2 passed", YELLOW)


# -- `session-conformance report` ----------------------------------------------------------


@pytest.mark.parametrize("kind", list(FORMATS))
def test_report_renders_the_same_bytes_from_the_saved_json(
    run: Run, kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"again.{kind}"
    assert main(["report", str(run.path("json")), "--format", kind, "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == run.text(kind)
    assert main(["report", str(run.path("json")), "--format", kind]) == 0
    assert capsys.readouterr().out == run.text(kind)


def _broken(data: dict[str, object]) -> dict[str, object]:
    clauses = data["clauses"]
    assert isinstance(clauses, list)
    clauses[0]["verdict"] = "maybe"
    return data


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "no such file"),
        ("{not json", "is not JSON"),
        ("[]", "not a session-conformance JSON report"),
        ("broken", "at clauses/0/verdict"),
        ("totals", "inconsistent"),
        ("version", "schema_version 99"),
    ],
)
def test_report_refuses_a_bad_file_in_one_line(
    run: Run, tmp_path: Path, content: str | None, fragment: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    path = tmp_path / "bad.json"
    data = json.loads(run.text("json"))
    if content == "broken":
        path.write_text(json.dumps(_broken(data)))
    elif content == "totals":
        data["totals"]["passed"] += 1
        path.write_text(json.dumps(data))
    elif content == "version":
        data["schema_version"] = 99
        path.write_text(json.dumps(data))
    elif content is not None:
        path.write_text(content)
    code = main(["report", str(path), "--format", "html"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.startswith("session-conformance: invalid report: ")
    assert fragment in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_report_to_an_unwritable_path_is_exit_3(
    run: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = main(["report", str(run.path("json")), "--format", "junit", "-o", str(blocker / "x")])
    _, err = capsys.readouterr()
    assert code == 3
    assert "cannot write the junit report" in err
    assert "Traceback" not in err


def test_report_usage_errors_are_exit_2(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(run.path("json")), "--format", "pdf"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert main(["report", str(run.path("json"))]) == 2
    assert "--format" in capsys.readouterr().err


# -- every case -----------------------------------------------------------------------------


def test_every_report_is_written_when_the_target_is_unreachable(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = _check(tmp_path, f"http://127.0.0.1:{port}", "--seed", "1", "--connect-timeout", "1",
                    "--clause", "LIFE-001", "ID-001")  # fmt: skip
    assert result.code == 3
    for kind in FILES:
        assert result.path(kind).is_file(), kind
    xml = JUnitXml.fromfile(str(result.path("junit")))
    assert [type(case.result[0]) for suite in xml for case in suite] == [Error, Error]
    assert badge_message(read_report(result.path("json")))[0] == "2 undecided"
    assert "2 clause(s) undecided" in result.text("markdown")
    assert re.search(r"target unreachable", result.text("html"))


def test_a_report_that_cannot_be_written_is_exit_3_and_the_others_are_written(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", "--seed", "2", "--clause", "LIFE-001", "-q",
                     f"--report-html={blocker / 'x.html'}", f"--report-junit={tmp_path / 'j.xml'}"])  # fmt: skip
    assert code == 3
    assert "cannot write the html report" in err.getvalue()
    assert (tmp_path / "j.xml").is_file()
