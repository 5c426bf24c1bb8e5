"""Settings for a database behind a transaction pooler (PgBouncer): the options each engine
connects with, and LISTEN on a direct URL of its own (run for real in
tests/pos/test_subscription_two_servers.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.db.engine import Database
from app.db.pooler import connect_args, statement_name
from app.settings import Settings

POOLED = "postgresql://petpos@pgbouncer.internal:6432/petpos"
DIRECT = "postgresql://petpos@db.internal:5432/petpos"


def test_behind_a_transaction_pooler_statements_are_never_cached_and_names_never_repeat(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", POOLED)
    monkeypatch.setenv("DATABASE_LISTEN_URL", DIRECT)
    monkeypatch.setenv("DATABASE_TRANSACTION_POOLER", "true")
    settings = Settings()
    args = connect_args(settings)
    assert (args["statement_cache_size"], args["prepared_statement_cache_size"]) == (0, 0)
    assert args["prepared_statement_name_func"]() != args["prepared_statement_name_func"]()
    assert Database(settings).listen_url == DIRECT


def test_straight_to_postgresql_nothing_changes_and_listen_uses_the_database_url(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://petpos@db.internal/petpos")
    assert connect_args(Settings()) == {}
    assert Database(Settings()).listen_url == "postgresql://petpos@db.internal/petpos"
    assert statement_name().startswith("__petpos_")


def test_a_transaction_pooler_without_a_direct_listen_url_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", POOLED)
    monkeypatch.setenv("DATABASE_TRANSACTION_POOLER", "true")
    with pytest.raises(ValidationError, match="DATABASE_LISTEN_URL is required"):
        Settings()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PETPOS_TOKEN_TTL_MINUTES", "9999999999"),
        ("PETPOS_PASSWORD_RESET_TTL_MINUTES", "9999999999"),
        ("PETPOS_LOGIN_WINDOW_MINUTES", "9999999999"),
        ("PETPOS_PASSWORD_RESET_WINDOW_MINUTES", "9999999999"),
        ("PETPOS_LOGIN_MAX_FAILURES_PER_ACCOUNT", str(2**64)),
        ("PETPOS_MAX_BODY_BYTES", "0"),
        ("DATABASE_READ_URL", "postgresql://replica:port/petpos"),
    ],
)
def test_a_setting_out_of_its_range_is_refused_at_start(monkeypatch, variable, value):
    """Past these, token expiry dates or the database's integers would overflow at the first request."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=f"(?i){variable.removeprefix('PETPOS_')}"):
        Settings()


def test_a_database_name_with_an_encoded_at_sign_is_taken(monkeypatch):
    """Only an @ left unencoded (the password spilling past the host) is refused."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://petpos:pw@db.internal/shop%40main")
    assert Settings().database_url == "postgresql://petpos:pw@db.internal/shop%40main"
