"""The recording mock of the contract, for testing *clients* (CLIENT-* clauses).

A client team points its front end or SDK at the mock instead of a backend; the mock
answers exactly as the reference implementation does (strict: a sentinel id is a 400, a
run before ready a 409) and records every exchange, with timestamps, to a trace
(JSONL, ``specs/trace.schema.json``). ``session-conformance verify-client TRACE`` then
judges the client's traffic against the client clauses. Adversarial modes make the mock
behave as real backends do on a bad day. Modules, lower ones never importing higher:

- ``trace`` (records, writing and validated reading of traces), ``modes``
  (:class:`~conformance.mock.modes.MockPlan`), ``layout`` (where each role lives;
  request -> :class:`~conformance.mock.layout.Call`);
- ``app`` (:class:`~conformance.mock.app.MockApp`: the reference plus recording and modes);
- ``server`` (serve it in a thread or in the foreground), ``pytest_fixture`` (the
  ``session_mock`` fixture, a pytest plugin).

Only the contract's canonical layout is served today; the layout is the seam where other
profiles plug in.
"""

from __future__ import annotations
