"""A short soak: bench/soak.py for 20 seconds from 32 clients, with a PostgreSQL restart and a worker
kill in the middle; it exits 0 only when nothing was answered INTERNAL or 5xx (but 503 UNAVAILABLE),
no error came once each fault settled, the database holds exactly the acknowledged sales and
adoptions, and `petpos check` is clean."""

import subprocess
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"


def test_a_short_soak_with_a_postgres_restart_and_a_worker_kill_loses_nothing():
    result = subprocess.run(
        [sys.executable, str(SOAK), "--duration", "20", "--clients", "32"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "PostgreSQL restart: healthy again after" in output
    assert "worker SIGKILL: healthy again after" in output
    assert "petpos check: all" in output and "invariants hold" in output, output
