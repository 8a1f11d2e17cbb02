"""session-conformance: contract tests for the session APIs of agent and chat backends.

Architecture (nouns, and which layer may import which; lower layers never import higher):

1. ``records`` (exchange, finding, verdict, result, report), ``redaction``, ``contract``
   (the files in ``specs/``), ``registry`` (clauses), ``schemas``, ``profile``,
   ``interruption`` (Ctrl-C and SIGTERM; standard library only).
2. ``transport`` and ``target``: where requests leave the harness; every exchange is
   recorded and redacted there. ``client``: the contract's roles over a target.
3. ``context`` (what a check gets), ``expectations`` (judgements on one exchange),
   ``properties`` (hypothesis, seeded, shrinking), ``generation`` (strategies from the
   spec's schemas).
4. ``checks`` (one module per clause family, one function per clause, all with the
   signature ``check(ctx) -> Iterator[Finding]``).
5. ``runner``: runs clauses, emits events. ``reporting``: console, JSON, curl; the
   JSON report read back as a saved report (``reporting.saved``), which the JUnit,
   Markdown, HTML and badge reporters render. ``progress`` (the live display),
   ``smoke`` (the pre-deploy subset and its clean-up).
6. ``cli`` and ``pytest_plugin``: thin shells over the runner.

``reference`` is the conformant implementation that ships with the harness; it imports
nothing from the layers above.
"""

from __future__ import annotations

__version__ = "0.1.0"
