"""The last run: ``check --seed last`` replays the seed of the previous ``check``.

Every ``check`` remembers its seed and its replay command in ``last-run.json``, in the
folder named by ``SESSION_CONFORMANCE_STATE_DIR``, else ``$XDG_CACHE_HOME/session-conformance``,
else ``~/.cache/session-conformance`` (as pytest-randomly's ``-p randomly --randomly-seed=last``
reads its cache). A run that cannot write the file says so on stderr and goes on: the seed
is printed in every header anyway.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from conformance.commands.arguments import UsageError

STATE_DIR_ENV = "SESSION_CONFORMANCE_STATE_DIR"
FILE_NAME = "last-run.json"
#: What ``--seed`` accepts besides a number.
LAST = "last"


def state_file() -> Path:
    """Where the last run is remembered (see the module docstring)."""
    explicit = os.environ.get(STATE_DIR_ENV)
    if explicit:
        return Path(explicit) / FILE_NAME
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "session-conformance" / FILE_NAME


def remember(seed: int, replay: str) -> None:
    """Record this run's seed; raises OSError when the file cannot be written."""
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"seed": seed, "replay": replay}) + "\n", encoding="utf-8")


def last_seed() -> int:
    """The seed of the previous run, or a usage error that says why there is none."""
    path = state_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"--seed last: no earlier run is recorded ({path} does not exist); give --seed N"
        ) from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"--seed last: cannot read {path}: {exc}") from None
    seed = data.get("seed") if isinstance(data, dict) else None
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise UsageError(f"--seed last: {path} holds no seed; give --seed N")
    return seed
