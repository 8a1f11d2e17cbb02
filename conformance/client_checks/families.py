"""Imports every client check module, so each registers its checks."""

from __future__ import annotations

from conformance.client_checks import ids, lifecycle, polling, timing  # noqa: F401
