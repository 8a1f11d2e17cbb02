"""The peak resident memory of a child process, measured right on Linux.

``wait4``'s ``ru_maxrss`` is not the child's own: Linux starts a forked child's high-water
mark at its parent's, and ``execve`` keeps it. Under a long pytest session the parent
holds hundreds of MiB, so every child "peaked" at the parent's size. What is measured:
``ru_maxrss`` when it exceeds the parent's own high-water mark at the fork (then it can
only be the child's), else the child's ``VmHWM`` (its own image's high-water mark, read
from ``/proc`` while it runs).
"""

from __future__ import annotations

import os
import re
import subprocess
import time

VM_HWM = re.compile(r"^VmHWM:\s+(\d+) kB$", re.M)


def high_water_kib(pid: int | str = "self") -> int | None:
    """``VmHWM`` of a process (KiB), or None where ``/proc`` cannot tell."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            found = VM_HWM.search(status.read())
    except OSError:
        return None
    return None if found is None else int(found.group(1))


def parent_high_water_kib() -> int:
    """Read before starting a child: the floor its ``ru_maxrss`` inherits."""
    return high_water_kib() or 0


def wait_measured(
    process: subprocess.Popen[bytes] | subprocess.Popen[str],
    inherited_kib: int,
    *,
    give_up_after: float,
) -> tuple[int, int]:
    """Wait for ``process`` (polling, never past ``give_up_after`` seconds: then it is
    killed and this raises ``TimeoutError``); return its exit code and peak RSS in KiB."""
    started = time.monotonic()
    seen = 0
    while True:
        seen = max(seen, high_water_kib(process.pid) or 0)
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - started > give_up_after:
            process.kill()
            process.wait()
            raise TimeoutError(f"the process did not end within {give_up_after:g} s")
        time.sleep(0.02)
    process.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss if usage.ru_maxrss > inherited_kib else seen
    return process.returncode, peak
