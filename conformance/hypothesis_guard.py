"""Two things about hypothesis that the harness must hold fixed: what it draws, and that it
may run in several threads at once.

**What it draws.** Since 6.131, hypothesis sometimes (5 % of draws) draws a constant it
found in the source of the *local* modules imported so far — modules outside
site-packages and the standard library. Which modules those are depends on what the
process imported before, and on how the harness was installed (editable or not): the
same seed then sent other requests (measured: one mutant of the stateful family escaped
at seed 2 after ``import conformance.commands.check``, and was caught without it). The
harness's draws must depend on the seed alone, so hypothesis is given no local constant.

**Threads.** Clauses run at once in lanes. Hypothesis reads the source of the functions
it runs (``ast.parse``), and on CPython before 3.13 ``ast.parse`` keeps its recursion
count in state shared by every thread, so two parses at once may fail with
``SystemError: AST constructor recursion depth mismatch`` (python/cpython#106905). Every
``ast.parse`` is made one at a time there.

:func:`guard` does both, once; it reaches into hypothesis's internals by name and does
nothing where a name is not there (another version), which tests/test_determinism.py
would show.
"""

from __future__ import annotations

import ast
import functools
import importlib
import sys
import threading
from typing import Any

_done = threading.Lock()
_guarded = False


def guard() -> None:
    """Give hypothesis no local constants, and make ``ast.parse`` thread-safe (once)."""
    global _guarded
    with _done:
        if _guarded:
            return
        _guarded = True
        _no_local_constants()
        if sys.version_info < (3, 13):
            _one_parse_at_a_time()


def _no_local_constants() -> None:
    try:
        providers = importlib.import_module("hypothesis.internal.conjecture.providers")
        constants = importlib.import_module("hypothesis.internal.constants_ast")
    except ImportError:
        return
    if hasattr(providers, "_get_local_constants") and hasattr(constants, "Constants"):
        empty = constants.Constants()
        setattr(providers, "_get_local_constants", lambda: empty)  # noqa: B010


def _one_parse_at_a_time() -> None:
    parse = ast.parse
    lock = threading.RLock()

    @functools.wraps(parse)
    def serial(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return parse(*args, **kwargs)

    ast.parse = serial
