"""Shared fixtures: real servers on 127.0.0.1 (random ports), started and stopped here."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from conformance.commands.last_run import STATE_DIR_ENV
from conformance.reference import ReferenceConfig, create_app
from conformance.serving import RunningServer, serve_in_thread

TOKEN = "test-token-8c1f0e"
ORIGIN = "https://app.example"


@pytest.fixture(scope="session", autouse=True)
def _state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The tests' `check` runs remember their seed (--seed last) in a folder of their own,
    never in the user's cache; subprocesses inherit it through the environment. Session
    scope: module-scoped fixtures that run `check` come after it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(STATE_DIR_ENV, str(tmp_path_factory.mktemp("state")))
        yield


@pytest.fixture
def reference_server() -> Iterator[Callable[..., RunningServer]]:
    """Start the reference under uvicorn on a random port: ``reference_server(**config)``."""
    started: list[RunningServer] = []

    def start(**config: object) -> RunningServer:
        server = serve_in_thread(create_app(ReferenceConfig(**config)))  # type: ignore[arg-type]
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
