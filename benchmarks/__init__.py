"""Benchmarks of session-conformance: ``python -m benchmarks`` (see :mod:`benchmarks.run`)."""
