"""The pytest plugin's options (``--session-contract-*``, what ``check`` takes), and
reading the two that need more than a value: the profile and the in-process app.

Imports only pytest and the standard library at the top: a test run that does not ask
for the contract does not pay for the harness.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conformance.profile import Profile

TOKEN_ENV = "SESSION_CONFORMANCE_TOKEN"
DEFAULT_MAX_EXAMPLES = 25


def add_options(parser: pytest.Parser) -> None:
    """The ``--session-contract-*`` options, in one group of pytest's help."""
    group = parser.getgroup("session-contract", "session contract conformance")
    group.addoption(
        "--session-contract-url",
        metavar="URL",
        help="check the backend at URL against every clause, one test item per clause",
    )
    group.addoption(
        "--session-contract-app",
        metavar="MODULE:APP",
        help="check this ASGI app in-process against every clause",
    )
    group.addoption(
        "--session-contract-token", metavar="TOKEN", help=f"bearer token (or set {TOKEN_ENV})"
    )
    group.addoption("--session-contract-cors-origin", metavar="ORIGIN", help="allowed origin")
    group.addoption(
        "--session-contract-seed", type=int, metavar="N", help="seed (default: random, shown)"
    )
    group.addoption(
        "--session-contract-max-examples",
        type=int,
        default=DEFAULT_MAX_EXAMPLES,
        metavar="N",
        help=f"examples per property (default {DEFAULT_MAX_EXAMPLES})",
    )
    group.addoption(
        "--session-contract-no-client-ids",
        action="store_true",
        help="the backend does not accept client-chosen session ids",
    )
    group.addoption(
        "--session-contract-strict",
        action="store_true",
        help="a failed SHOULD clause fails too (default: xfail)",
    )
    group.addoption(
        "--session-contract-profile",
        default="canonical",
        metavar="NAME|PATH",
        help="the target's layout: a built-in profile or a profile file (default canonical)",
    )
    group.addoption(
        "--session-contract-profile-var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a value for a variable of the profile (repeatable)",
    )
    group.addoption(
        "--session-contract-workers",
        type=int,
        metavar="N",
        help="clauses checked at once (default: chosen for the target)",
    )
    group.addoption(
        "--session-contract-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds to wait for each read from the target (default 30)",
    )
    group.addoption(
        "--session-contract-request-deadline",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds for one whole exchange (default 60)",
    )
    group.addoption(
        "--session-contract-max-response-bytes",
        type=int,
        default=4 * 1024 * 1024,
        metavar="N",
        help="bytes read of one response (default 4 MiB)",
    )
    group.addoption(
        "--session-contract-redact-header",
        action="append",
        default=[],
        metavar="NAME",
        help="a header to hide in every output (repeatable)",
    )
    group.addoption(
        "--session-contract-redact-field",
        action="append",
        default=[],
        metavar="NAME",
        help="a JSON field to hide in every output (repeatable)",
    )


def profile_option(config: pytest.Config) -> Profile:
    """The ``--session-contract-profile``, or a usage error (one line)."""
    from conformance.profile import ProfileError, load_profile

    variables: dict[str, str] = {}
    for assignment in config.getoption("session_contract_profile_var"):
        name, equals, value = assignment.partition("=")
        if not equals or not name:
            raise pytest.UsageError(
                f"--session-contract-profile-var {assignment!r}: write NAME=VALUE"
            )
        variables[name] = value
    try:
        return load_profile(config.getoption("session_contract_profile"), variables)
    except ProfileError as exc:
        raise pytest.UsageError(f"--session-contract-profile: {exc}") from exc


def load_app(spec: str, config: pytest.Config) -> Any:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise pytest.UsageError(
            f"--session-contract-app {spec!r}: expected MODULE:APP, e.g. myservice.main:app"
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not module_name.startswith(exc.name):
            raise
        here = str(config.invocation_params.dir)
        if here in sys.path:
            raise pytest.UsageError(f"--session-contract-app: cannot import {module_name}") from exc
        sys.path.insert(0, here)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            raise pytest.UsageError(
                f"--session-contract-app: cannot import {module_name} (from {here})"
            ) from exc
    app = module
    for part in attribute.split("."):
        try:
            app = getattr(app, part)
        except AttributeError:
            raise pytest.UsageError(
                f"--session-contract-app: {module_name} has no attribute {attribute!r}"
            ) from None
    if not callable(app):
        raise pytest.UsageError(f"--session-contract-app: {spec} is not an ASGI app")
    return app
