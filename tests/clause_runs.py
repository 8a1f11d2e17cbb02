"""Runs of one clause as the per-family test modules make them: each module has its own
token, and the targets it builds and the settings it runs with carry that same token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from conformance.client import ContractClient
from conformance.context import Settings
from conformance.profile import CANONICAL, Profile
from conformance.records import ClauseResult
from conformance.reference import ReferenceConfig, create_app
from conformance.runner import run_clause, select
from conformance.target import Target
from conformance.transport import ASGIApp
from fixtures.servers.stdlib_server import start

ORIGIN = "https://app.example"


@dataclass(frozen=True)
class ClauseRuns:
    """One test module's token and CORS origin, given alike to its targets and its runs."""

    token: str
    origin: str = ORIGIN

    def settings(self, seed: int, **overrides: object) -> Settings:
        """Settings with this token and origin; ``overrides`` may set either, to None too."""
        fields: dict[str, object] = {"token": self.token, "cors_origin": self.origin}
        return Settings(seed=seed, **{**fields, **overrides})  # type: ignore[arg-type]

    def run(
        self,
        target: Target,
        clause_id: str,
        seed: int,
        *,
        profile: Profile = CANONICAL,
        **overrides: object,
    ) -> ClauseResult:
        """Run the one clause ``clause_id`` on ``target`` with :meth:`settings`."""
        (clause,) = select([clause_id])
        return run_clause(clause, ContractClient(target, profile), self.settings(seed, **overrides))

    def config(self, provision_seconds: float = 0.1) -> ReferenceConfig:
        """The reference's configuration: auth with this token, CORS for this origin."""
        return ReferenceConfig(
            provision_seconds=provision_seconds, token=self.token, cors_origin=self.origin
        )

    def in_process(self, app: ASGIApp) -> Target:
        """``app`` as an in-process target that sends this token."""
        return Target(app=app, token=self.token)

    def reference(self, provision_seconds: float = 0.1) -> Target:
        """The reference built from :meth:`config`, in process."""
        return self.in_process(create_app(self.config(provision_seconds)))

    @contextmanager
    def stdlib_server(
        self, provision_seconds: float = 0.1, base_path: str = "/api/v1"
    ) -> Iterator[Target]:
        """The stdlib server on a random port, configured as :meth:`config` is."""
        server = start(
            provision_seconds=provision_seconds,
            token=self.token,
            cors_origin=self.origin,
            base_path=base_path,
        )
        try:
            with Target(server.url, token=self.token) as target:
                yield target
        finally:
            server.stop()

    def reference_fixture(self) -> Callable[[], Iterator[Target]]:
        """A module-scoped fixture of :meth:`reference`: ``reference = RUNS.reference_fixture()``."""

        @pytest.fixture(scope="module")
        def reference() -> Iterator[Target]:
            with self.reference() as target:
                yield target

        return reference

    def stdlib_server_fixture(self) -> Callable[[], Iterator[Target]]:
        """A module-scoped fixture of :meth:`stdlib_server`:
        ``stdlib_server = RUNS.stdlib_server_fixture()``."""

        @pytest.fixture(scope="module")
        def stdlib_server() -> Iterator[Target]:
            with self.stdlib_server() as target:
                yield target

        return stdlib_server
