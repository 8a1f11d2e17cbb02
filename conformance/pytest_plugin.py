"""A pytest plugin: the session contract as test items in a backend team's own suite.

Installed with the package (entry point ``pytest11: session_conformance``). It does
nothing unless asked; one line adds the contract to a suite::

    pytest --session-contract-url http://127.0.0.1:8000     # a running backend
    pytest --session-contract-app myservice.main:app        # an ASGI app, in-process

(or the same in ``addopts``). Each clause becomes one test item whose id is the clause id
(``session-contract::LIFE-001``, so ``pytest -k LIFE-001`` runs one clause). Verdicts
map onto pytest outcomes: ``passed`` passes; ``failed`` fails with the console's failure
block (sent, expected, received, curl, and the pytest command that replays the clause);
``not_applicable`` is skipped with the reason; ``error`` (the harness could not decide)
is a pytest ERROR, as the clause runs in the item's setup. A failed SHOULD or
MAY clause is an expected failure (``xfail``) unless ``--session-contract-strict``.

Options: ``--session-contract-token`` (or ``SESSION_CONFORMANCE_TOKEN``),
``--session-contract-cors-origin``, ``--session-contract-seed`` (default random, shown
in the header), ``--session-contract-max-examples``, ``--session-contract-no-client-ids``,
``--session-contract-strict``, ``--session-contract-profile`` (and
``--session-contract-profile-var NAME=VALUE``), ``--session-contract-workers``,
``--session-contract-timeout``, ``--session-contract-request-deadline``,
``--session-contract-max-response-bytes``, ``--session-contract-redact-header`` and
``--session-contract-redact-field``: what ``check`` takes, with the same meaning.

The items run through ``check``'s own engine (:func:`conformance.runner.execute`): the
first item selected runs every selected clause at once, in lanes, and each item then
reports its clause's result, with the failure block of the run's real report. A URL may carry ``user:password@`` (sent as Basic
credentials, never with a token); every output shows it as
``${SESSION_CONFORMANCE_USERINFO}``, as ``check`` does. The plugin imports the harness only when asked, so an
unrelated test run does not pay for it.
"""

from __future__ import annotations

import dataclasses
import os
import random
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.pytest_options import (
    DEFAULT_MAX_EXAMPLES,
    TOKEN_ENV,
    add_options,
    load_app,
    profile_option,
)

if TYPE_CHECKING:
    from conformance.plan import RunPlan
    from conformance.records import ClauseResult, RunReport
    from conformance.registry import Clause

COLLECTOR = "session-contract"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    url = config.getoption("session_contract_url")
    app = config.getoption("session_contract_app")
    if not url and not app:
        return  # inert: nothing asked for
    if url and app:
        raise pytest.UsageError("give --session-contract-url or --session-contract-app, not both")
    seed = config.getoption("session_contract_seed")
    if seed is not None and seed < 0:
        raise pytest.UsageError("--session-contract-seed must be 0 or more")
    if config.getoption("session_contract_max_examples") < 1:
        raise pytest.UsageError("--session-contract-max-examples must be at least 1")
    config.addinivalue_line("markers", "session_contract: a clause of the session contract")
    config.pluginmanager.register(ContractRun(config), "session-contract-run")


class ContractRun:
    """The plugin's state for one pytest session: the target, shared by every item."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.url: str | None = config.getoption("session_contract_url")
        # What every output shows of the URL: its credentials as a variable, never in clear.
        self.shown_url: str | None = None
        self.app_path: str | None = config.getoption("session_contract_app")
        self.token: str | None = (
            config.getoption("session_contract_token") or os.environ.get(TOKEN_ENV) or None
        )
        self.cors_origin: str | None = config.getoption("session_contract_cors_origin")
        if self.url:
            from conformance.redaction import public_url, userinfo_of
            from conformance.target import CONFLICTING_CREDENTIALS

            self.shown_url = public_url(self.url)
            if self.token and userinfo_of(self.url) is not None:
                raise pytest.UsageError(f"--session-contract-url: {CONFLICTING_CREDENTIALS}")
        given = config.getoption("session_contract_seed")
        self.seed: int = given if given is not None else random.SystemRandom().randrange(2**32)
        self.max_examples: int = config.getoption("session_contract_max_examples")
        self.no_client_ids: bool = config.getoption("session_contract_no_client_ids")
        self.strict: bool = config.getoption("session_contract_strict")
        self.workers: int | None = config.getoption("session_contract_workers")
        if self.workers is not None:
            from conformance.plan import MAX_WORKERS

            if not 1 <= self.workers <= MAX_WORKERS:
                raise pytest.UsageError(
                    f"--session-contract-workers: 1 to {MAX_WORKERS}, not {self.workers}"
                )
        from conformance.redaction import redactor_for

        try:  # now, so a bad name is one usage error, not an error per item
            self.redactor = redactor_for(
                config.getoption("session_contract_redact_header"),
                config.getoption("session_contract_redact_field"),
            )
        except ValueError as exc:
            raise pytest.UsageError(f"--session-contract-redact-*: {exc}") from exc
        # Imported now, so a bad MODULE:APP is one usage error, not an error per item.
        self.app: Any = load_app(self.app_path, config) if self.app_path else None
        self.profile = profile_option(config)
        #: The run's report, once the first clause item is set up (every selected clause).
        self.report: RunReport | None = None
        self._results: dict[str, ClauseResult] = {}

    # -- hooks ----------------------------------------------------------------------------

    def pytest_report_header(self) -> list[str]:
        where = self.shown_url or f"{self.app_path} (in-process)"
        return [
            f"session contract: {where}, seed {self.seed} "
            f"(replay with --session-contract-seed {self.seed})"
        ]

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        from conformance.contract import ContractFileError
        from conformance.runner import select

        try:
            clauses = select(None)
        except ContractFileError as exc:
            raise pytest.UsageError(f"session contract: {exc}") from exc
        collector = ContractCollector.from_parent(
            session, name=COLLECTOR, nodeid=COLLECTOR, clauses=clauses, run=self
        )
        # Collected the way pytest collects a file, so the "collected N items" count,
        # -k/-m selection and other plugins see the clause items like any others.
        report = collector.ihook.pytest_make_collect_report(collector=collector)
        collector.ihook.pytest_collectreport(report=report)
        if report.failed:
            raise pytest.UsageError(f"session contract: {report.longrepr}")
        items.extend(item for item in report.result if isinstance(item, pytest.Item))

    # -- running --------------------------------------------------------------------------

    def result(self, session: pytest.Session, clause_id: str) -> ClauseResult:
        """The clause's result: the first call runs every selected clause, through the
        engine ``check`` runs (lanes, profile, bounds, redaction), then each reads its own."""
        if self.report is None:
            from conformance.events import RunFinished
            from conformance.runner import execute

            selected = [item.clause.id for item in session.items if isinstance(item, ClauseItem)]
            for event in execute(self.plan(selected)):
                if isinstance(event, RunFinished):
                    self.report = event.report
            assert self.report is not None
            self._results = {r.clause_id: r for r in self.report.results}
        return self._results[clause_id]

    def plan(self, clause_ids: list[str]) -> RunPlan:
        """The run's plan, from the plugin's options, as ``check`` makes one from its flags."""
        from conformance.context import Settings
        from conformance.plan import RunPlan
        from conformance.runner import select
        from conformance.target import Limits, Target

        config = self.config
        limits = Limits(
            read_timeout=config.getoption("session_contract_timeout"),
            request_deadline=config.getoption("session_contract_request_deadline"),
            max_response_bytes=config.getoption("session_contract_max_response_bytes"),
        )
        redactor = self.redactor
        if self.url is not None:
            target = Target(self.url, token=self.token, limits=limits, redactor=redactor)
        else:
            target = Target(app=self.app, token=self.token, limits=limits, redactor=redactor)
        settings = Settings(
            seed=self.seed,
            max_examples=self.max_examples,
            token=self.token,
            cors_origin=self.cors_origin,
            features=frozenset() if self.no_client_ids else frozenset({"client_ids"}),
        )
        self.config.add_cleanup(target.close)
        return RunPlan(target, settings, select(clause_ids), self.profile, workers=self.workers)

    def replay(self, clause_id: str) -> str:
        from conformance.reporting.curl import url_word

        if self.shown_url:  # the credentials, if any, read from the environment
            parts = [
                "pytest",
                "--session-contract-url",
                url_word(self.shown_url, plain=shlex.quote),
            ]
        else:
            parts = ["pytest", "--session-contract-app", shlex.quote(self.app_path or "")]
        options = ["--session-contract-seed", str(self.seed)]
        if self.cors_origin:
            options += ["--session-contract-cors-origin", self.cors_origin]
        if self.max_examples != DEFAULT_MAX_EXAMPLES:
            options += ["--session-contract-max-examples", str(self.max_examples)]
        if self.no_client_ids:
            options.append("--session-contract-no-client-ids")
        profile = self.config.getoption("session_contract_profile")
        if profile != "canonical":
            options += ["--session-contract-profile", profile]
        for assignment in self.config.getoption("session_contract_profile_var"):
            options += ["--session-contract-profile-var", assignment]
        options += ["-k", clause_id]
        command = " ".join([*parts, shlex.join(options)])
        if self.token:
            command += f' --session-contract-token "${TOKEN_ENV}"'
        return command


class ContractCollector(pytest.Collector):
    """The parent of the clause items: one item per clause of the registry."""

    def __init__(self, *, clauses: tuple[Clause, ...], run: ContractRun, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clauses = clauses
        self.run = run

    def collect(self) -> Iterator[pytest.Item]:
        for clause in self.clauses:
            yield ClauseItem.from_parent(self, name=clause.id, clause=clause, run=self.run)


class ClauseItem(pytest.Item):
    def __init__(self, *, clause: Clause, run: ContractRun, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clause = clause
        self.run = run
        self.result: ClauseResult | None = None
        self.add_marker(pytest.mark.session_contract)
        self.user_properties.append(("clause", clause.id))

    def setup(self) -> None:
        """Run the clause here: an undecided clause is then a pytest ERROR, not a FAILURE."""
        from conformance.records import Verdict

        self.result = self.run.result(self.session, self.clause.id)
        self.user_properties.append(("verdict", self.result.verdict.value))
        if self.result.verdict is Verdict.NOT_APPLICABLE:
            reason = self.result.summary.replace("(give --", "(give --session-contract-")
            pytest.skip(f"{self.clause.id} not applicable: {reason}")
        if self.result.verdict is Verdict.ERROR:
            pytest.fail(self._block(), pytrace=False)

    def runtest(self) -> None:
        from conformance.records import Verdict

        if self.result is None or self.result.verdict is not Verdict.FAILED:
            return
        if self.clause.level != "MUST" and not self.run.strict:
            pytest.xfail(
                f"{self.clause.id} [{self.clause.level}] failed (not fatal without "
                f"--session-contract-strict): {self.result.summary}"
            )
        pytest.fail(self._block(), pytrace=False)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"session contract {self.clause.id} [{self.clause.level}]"

    def _block(self) -> str:
        from conformance.reporting.curl import SERVE_IT
        from conformance.reporting.failure_block import failure_block
        from conformance.reporting.saved import saved

        assert self.result is not None
        assert self.run.report is not None
        mine = dataclasses.replace(self.run.report, results=(self.result,))
        clause = saved(mine).clauses[0]
        clause = dataclasses.replace(clause, replay=self.run.replay(self.clause.id))
        lines = failure_block(clause)
        if self.run.app_path:  # in-process: the curl lines need the app served somewhere
            serve = f"uvicorn {shlex.quote(self.run.app_path)} --port 8000 &"
            lines.append(f"  Serve it:  {SERVE_IT.format(serve=serve)}")
        return "\n".join(lines)
