"""A pytest plugin for client test suites: the ``session_mock`` fixture.

Installed with the package (entry point ``pytest11: session_conformance_mock``), so a
client team only asks for the fixture::

    def test_my_client_talks_to_a_session_backend(session_mock):
        client = MyClient(base_url=session_mock.url)
        client.chat("hello")

    @pytest.mark.session_mock(modes=["slow", "status-503"], deadline_ms=10_000)
    def test_my_client_survives_a_bad_day(session_mock): ...

    @pytest.mark.session_mock(profile="adk")  # a built-in, a profile file, or a Profile
    def test_my_adk_front_end(session_mock): ...

The fixture starts the recording mock on 127.0.0.1 (a free port) for the test, and when
the test body has passed it verifies the trace against the client clauses: a failed
MUST clause (any failed clause with ``strict=True``), or a clause the harness could not
decide (for instance: the client never reached the mock), fails the test with the
findings: clause id, what the client sent, what was expected, the exchanges. The trace
is kept in the test's ``tmp_path`` (``session_mock.trace_path``).

Marker options: ``profile`` (the layout the mock serves and the trace is judged in:
a built-in's name, a profile file's path or a :class:`~conformance.profile.Profile`;
the contract's own by default), ``profile_vars`` (the profile's variables, a mapping),
``modes``, ``provision_seconds``, ``retry_after_seconds``, ``latency_seconds``,
``token``, ``cors_origin`` (the mock); ``deadline_ms``, ``min_poll_interval_ms``,
``clauses``, ``strict`` (the verification).
"""

from __future__ import annotations

import dataclasses
import io
import shlex
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conformance.client_checks.context import ClientSettings
    from conformance.mock.server import RunningMock
    from conformance.mock.trace import Trace
    from conformance.profile import Profile
    from conformance.records import RunReport

MARKER = "session_mock"
MOCK_OPTIONS = frozenset(
    {"modes", "provision_seconds", "retry_after_seconds", "latency_seconds", "token", "cors_origin"}
)
LAYOUT_OPTIONS = frozenset({"profile", "profile_vars"})
VERIFY_OPTIONS = frozenset({"deadline_ms", "min_poll_interval_ms", "clauses", "strict"})


@dataclass
class SessionMock:
    """The running mock of one test: where it serves and what it recorded."""

    running: RunningMock
    settings: ClientSettings
    profile: Profile
    clauses: tuple[str, ...] = ()
    strict: bool = False
    verified: bool = field(default=False, init=False)

    @property
    def url(self) -> str:
        """The mock's base URL, e.g. ``http://127.0.0.1:40321``."""
        return self.running.url

    @property
    def trace_path(self) -> Path:
        return self.running.trace_path

    def trace(self) -> Trace:
        return self.running.trace()

    def report(self) -> RunReport:
        """Verify the trace recorded so far and return the report (no assertion)."""
        from conformance.client_checks.verifier import verify
        from conformance.runner import RunFinished

        events = verify(self.trace(), self.settings, clause_ids=self.clauses, profile=self.profile)
        for event in events:
            if isinstance(event, RunFinished):
                command = ["session-conformance", "verify-client", str(self.trace_path)]
                origin = self.profile.origin
                if not self.profile.canonical:
                    builtin = origin.startswith("built-in")
                    command += ["--profile", self.profile.name if builtin else origin]
                replay = shlex.join(command)
                return dataclasses.replace(event.report, replay=replay)
        raise AssertionError("the verifier ended without a report")

    def assert_clean(self) -> None:
        """Fail the test if the client broke a clause (or the trace decides nothing)."""
        __tracebackhide__ = True
        from conformance.reporting.console import ConsoleReporter
        from conformance.runner import RunFinished, exit_code

        self.verified = True
        report = self.report()
        if exit_code(report, strict=self.strict) == 0:
            return
        text = io.StringIO()
        ConsoleReporter(text, quiet=True).handle(RunFinished(report))
        pytest.fail(
            f"the client broke the session contract (trace: {self.trace_path})\n{text.getvalue()}",
            pytrace=False,
        )


_KEY = pytest.StashKey[SessionMock]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): configure the session_mock fixture "
        f"({', '.join(sorted(MOCK_OPTIONS | LAYOUT_OPTIONS | VERIFY_OPTIONS))})",
    )


@pytest.fixture
def session_mock(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionMock]:
    """The recording mock of the session contract, verified when the test passes."""
    from conformance.client_checks.context import ClientSettings
    from conformance.mock.app import plan_in_layout
    from conformance.mock.modes import MockPlan, ModeError, parse_modes
    from conformance.mock.server import start_mock

    marker = request.node.get_closest_marker(MARKER)
    options: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    known = MOCK_OPTIONS | LAYOUT_OPTIONS | VERIFY_OPTIONS
    unknown = set(options) - known
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.{MARKER}: unknown option(s) {', '.join(sorted(unknown))}; "
            f"the options are {', '.join(sorted(known))}"
        )
    profile = _profile(options.get("profile"), options.get("profile_vars") or {})
    mock = {k: v for k, v in options.items() if k in MOCK_OPTIONS}
    modes = mock.pop("modes", ())
    try:
        plan = MockPlan(modes=parse_modes([modes] if isinstance(modes, str) else modes), **mock)
        plan = plan_in_layout(plan, profile)
    except (ModeError, TypeError) as exc:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}: {exc}") from exc
    interval = options.get("min_poll_interval_ms", 100)
    settings = ClientSettings(
        min_poll_interval=interval / 1000, deadline_ms=options.get("deadline_ms")
    )
    running = start_mock(tmp_path / "session-mock-trace.jsonl", plan, profile=profile)
    handle = SessionMock(
        running,
        settings,
        profile,
        clauses=tuple(options.get("clauses", ())),
        strict=bool(options.get("strict", False)),
    )
    request.node.stash[_KEY] = handle
    try:
        yield handle
    finally:
        running.stop()


def _profile(spec: object, variables: object) -> Profile:
    """The marker's ``profile`` as a :class:`Profile` (a usage error if it is none)."""
    from conformance.profile import CANONICAL, Profile, ProfileError, load_profile

    if isinstance(spec, Profile):
        return spec
    if spec is None:
        return CANONICAL
    if not isinstance(spec, str | Path) or not isinstance(variables, dict):
        raise pytest.UsageError(
            f"@pytest.mark.{MARKER}: profile is a built-in's name, a file or a Profile, and "
            "profile_vars a mapping"
        )
    try:
        return load_profile(str(spec), {str(k): str(v) for k, v in variables.items()})
    except ProfileError as exc:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}: {exc}") from exc


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """After a passing test body, verify its mock's trace (the test fails with the
    findings). A test that failed on its own is left to its own failure."""
    __tracebackhide__ = True
    result = yield
    handle = item.stash.get(_KEY, None)
    if handle is not None and not handle.verified:
        handle.assert_clean()
    return result
