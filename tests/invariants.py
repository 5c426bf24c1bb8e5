"""`petpos check` in-process, for the end of race tests: every invariant holds after the race."""

from __future__ import annotations

import io

from app.check import report, run_checks


async def assert_invariants(db) -> None:
    out = io.StringIO()
    if report(await run_checks(db.engine), out):
        raise AssertionError("petpos check found violations:\n" + out.getvalue())
