"""`python3 tasks.py run` becomes the server: a signal to it reaches `petpos serve`."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil

from tests.e2e.test_serve import free_port, postgres_running, wait_ready

ROOT = Path(__file__).resolve().parents[2]


def test_sigterm_to_tasks_run_stops_the_server_and_its_embedded_postgres(tmp_path):
    data_dir, port = tmp_path / "petpos-data", free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PETPOS_SECRET_KEY", "PETPOS_ENV")
    }
    env["PETPOS_DATA_DIR"] = str(data_dir)
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tasks.py"), "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_ready(process, port)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        for orphan in psutil.process_iter(attrs=["cmdline"]):  # don't leave a failed run's servers behind
            if str(data_dir) in " ".join(orphan.info["cmdline"] or []):
                orphan.kill()
    assert process.returncode == 0, output
    assert not postgres_running(data_dir), "SIGTERM to tasks.py orphaned the embedded PostgreSQL"
