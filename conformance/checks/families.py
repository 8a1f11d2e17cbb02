"""Imports every clause family module, so each registers its checks."""

from __future__ import annotations

from conformance.checks import (  # noqa: F401
    auth,
    concurrency,
    cors,
    errors,
    identity,
    isolation,
    lifecycle,
    polling,
    schema,
    sentinels,
    stateful,
    streaming,
    target_schema,
    validation,
)
