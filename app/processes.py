"""Whether a process still runs, by pid: for the embedded PostgreSQL's users and for the metrics of
workers that have exited."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process is there
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
