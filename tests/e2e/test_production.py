"""Production never has known credentials: no demo data, a first admin made with
`petpos create-user`, and a signing key long enough that one token cannot give it away."""

import os
import subprocess

import pytest
from pydantic import ValidationError

from app.seed import DEMO_USERS, production_check, seed_demo
from app.settings import Settings
from tests.conftest import TEST_SECRET
from tests.e2e.test_serve import PETPOS, free_port, graphql, start, stop, wait_ready

ADMIN_LOGIN = (
    'mutation { login(email: "admin@petpos.example", password: "petpos-admin") { token errors { code } } }'
)
BOSS_LOGIN = 'mutation { login(email: "boss@example.com", password: "a strong password") { user { role } } }'


def production_env(data_dir, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PETPOS_SECRET_KEY")}
    return {
        **env,
        "PETPOS_ENV": "production",
        "PETPOS_SECRET_KEY": TEST_SECRET,
        "PETPOS_DATA_DIR": str(data_dir),
        **extra,
    }


def test_a_fresh_production_server_has_no_accounts_and_says_how_to_make_the_first_admin(tmp_path):
    data_dir = tmp_path / "petpos-data"
    port = free_port()
    server = start(data_dir, port, PETPOS_ENV="production", PETPOS_SECRET_KEY=TEST_SECRET)
    try:
        wait_ready(server, port)
        refused = graphql(port, ADMIN_LOGIN)["data"]["login"]
        assert refused == {"token": None, "errors": [{"code": "INVALID_CREDENTIALS"}]}
        products = graphql(port, "{ products(first: 5) { edges { node { sku } } } }")["data"]["products"]
        assert products["edges"] == []  # no demo catalogue either

        # The printed command works against the running server's own database.
        created = subprocess.run(
            [
                str(PETPOS),
                "create-user",
                "--email",
                "boss@example.com",
                "--phone",
                "+1 202 555 0170",
                "--name",
                "The Boss",
                "--role",
                "ADMIN",
            ],
            env=production_env(data_dir),
            input="a strong password\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert created.returncode == 0, created.stderr
        assert graphql(port, BOSS_LOGIN)["data"]["login"]["user"]["role"] == "ADMIN"
    finally:
        output = stop(server)
    assert "petpos create-user" in output and "--role ADMIN" in output
    assert "Demo accounts" not in output and "petpos-admin" not in output
    assert server.returncode == 0, output

    again = start(data_dir, port, PETPOS_ENV="production", PETPOS_SECRET_KEY=TEST_SECRET)
    try:
        wait_ready(again, port)
    finally:
        output = stop(again)
    assert "petpos create-user" not in output  # an ADMIN exists now


@pytest.mark.parametrize("key", ["x" * 31, "short"])
def test_production_refuses_a_short_secret_key_with_a_clear_message_and_no_traceback(tmp_path, key):
    result = subprocess.run(
        [str(PETPOS), "serve", "--port", str(free_port())],
        env=production_env(tmp_path / "data", PETPOS_SECRET_KEY=key),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "PETPOS_SECRET_KEY must be at least 32 bytes" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert key not in result.stderr.replace("PETPOS_SECRET_KEY", "")  # the key itself is never echoed
    assert not (tmp_path / "data" / "pgdata").exists()  # refused before anything started


def test_the_key_length_is_counted_in_utf8_bytes():
    def production(key: str) -> Settings:
        return Settings(env="production", secret_key=key, database_url="postgresql://localhost/petpos")

    assert production("é" * 16).secret_key == "é" * 16  # 16 characters, 32 bytes
    assert production("k" * 32).secret_key == "k" * 32
    with pytest.raises(ValidationError, match="at least 32 bytes .*it has 31"):
        production("k" * 31)
    development = Settings(env="development", secret_key="short", database_url="postgresql://localhost/x")
    assert development.secret_key == "short"


async def test_demo_seed_refuses_in_production(database_url, db):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PETPOS_SECRET_KEY": TEST_SECRET,
        "PETPOS_ENV": "production",
    }
    result = subprocess.run(
        [str(PETPOS), "seed", "--demo"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "development only" in result.stderr and "Traceback" not in result.stderr


async def test_production_check_names_demo_accounts_that_still_have_their_public_password(
    settings, database_url, db
):
    assert await production_check(settings, database_url) == (False, [])
    await seed_demo(settings, database_url)  # say the database was first started in development
    has_admin, exposed = await production_check(settings, database_url)
    assert has_admin and sorted(exposed) == sorted(email for email, *_ in DEMO_USERS)
