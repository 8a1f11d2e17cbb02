"""The recording mock of the contract, for testing *clients* (CLIENT-* clauses).

A client team points its front end or SDK at the mock instead of a backend; the mock
answers exactly as the reference implementation does (strict: a sentinel id is a 400, a
run before ready a 409) and records every exchange, with timestamps, to a trace
(JSONL, ``specs/trace.schema.json``). ``session-conformance verify-client TRACE`` then
judges the client's traffic against the client clauses. Adversarial modes make the mock
behave as real backends do on a bad day. Modules, lower ones never importing higher:

- ``trace`` (records, writing and validated reading of traces), ``modes``
  (:class:`~conformance.mock.modes.MockPlan`), ``layout`` (a profile seen from the
  client checks: its roles, the id segments of a path);
- ``inbound`` (a request in a profile's layout -> the contract's, read by
  :mod:`conformance.profile.reading`), ``translation`` (around the reference's
  dispatch: its answer written in the layout by :mod:`conformance.profile.writing`);
- ``app`` (:class:`~conformance.mock.app.MockApp`: the reference plus recording, modes
  and the layout);
- ``server`` (serve it in a thread or in the foreground), ``pytest_fixture`` (the
  ``session_mock`` fixture, a pytest plugin).

The mock serves the contract's canonical layout or any profile's (``--profile``); every
difference between layouts comes from the :class:`~conformance.profile.Profile`.
"""

from __future__ import annotations
