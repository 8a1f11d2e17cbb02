"""The reference implementation of Session Contract v1, an ASGI app on Starlette.

It conforms exactly to ``CONTRACT.md`` and follows ``docs/decisions.md`` where the
contract is silent. Modules, lower ones never importing higher ones:

- ``config`` (:class:`ReferenceConfig`), ``models`` (frozen records), ``errors`` (codes,
  :class:`~conformance.reference.errors.Rejection`);
- ``validation`` (ids, sentinels, bodies -> ``{path, message}`` errors), ``body`` (media
  type, size, strict JSON), ``routing`` (routes, raw-path matching), ``store`` (sessions,
  phases, progress and expiry from a clock, behind a lock);
- ``base`` (:class:`~conformance.reference.base.BaseApp`: the HTTP layer, precedence,
  auth, CORS, envelopes), ``app`` (:class:`ReferenceApp`: the session routes).

It imports nothing from the harness around it. Mutants subclass :class:`ReferenceApp`
and override one method each.
"""

from __future__ import annotations

from conformance.reference.app import ReferenceApp, create_app
from conformance.reference.config import ReferenceConfig

__all__ = ["ReferenceApp", "ReferenceConfig", "create_app"]
