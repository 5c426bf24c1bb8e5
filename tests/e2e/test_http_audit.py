"""graphql-http's server audit (the npm package `graphql-http`: the GraphQL-over-HTTP spec's own checks)
against a real `petpos serve`: every audit passes, with no warning and no error."""

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.required import npm_packages
from tests.e2e.test_serve import free_port, start, stop, wait_ready

AUDIT = Path(__file__).resolve().parents[1] / "http_audit"


@pytest.fixture(scope="session")
def node() -> str:
    """node, with the pinned graphql-http installed into tests/http_audit."""
    return npm_packages(AUDIT)


async def test_graphql_http_audit_reports_no_error_and_no_warning(node, tmp_path, database_url, db):
    port = free_port()
    server = start(tmp_path / "data", port, DATABASE_URL=database_url)
    try:
        wait_ready(server, port)
        audit = subprocess.run(
            [node, "audit.js", f"http://127.0.0.1:{port}/graphql"],
            cwd=AUDIT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        output = stop(server)
    assert audit.returncode == 0, audit.stderr
    results = json.loads(audit.stdout)
    assert len(results) > 50  # the whole audit ran
    assert [r for r in results if r["status"] != "ok"] == []
    assert server.returncode == 0, output
    assert "Traceback" not in output, output
