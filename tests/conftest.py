"""Shared fixtures: real servers on 127.0.0.1 (random ports), started and stopped here."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from conformance.reference import ReferenceConfig, create_app
from conformance.serving import RunningServer, serve_in_thread

TOKEN = "test-token-8c1f0e"
ORIGIN = "https://app.example"


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
