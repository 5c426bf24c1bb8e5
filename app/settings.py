"""Settings from the environment (pydantic-settings), each checked as the server starts: the SMTP
URL parsed and the trusted documents read here, so a mistake is a clear error at start-up rather
than at the first email or request. Imports nothing of the app: every room may import it."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import tempfile
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit
from zoneinfo import available_timezones

import phonenumbers
from pydantic import AliasChoices, Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# HS256 keys shorter than the hash output (32 bytes) can be brute-forced offline from one token.
MIN_SECRET_KEY_BYTES = 32
# Upper bounds of the time and count settings: past them dates and database integers overflow.
MINUTES_A_WEEK = 7 * 24 * 60
MINUTES_A_YEAR = 366 * 24 * 60
MAX_COUNT = 1_000_000


# PETPOS_SMTP_URL, parsed (app/mail.py sends through it).
@dataclass(frozen=True)
class SmtpServer:
    """Where and how to send: the fields are aiosmtplib.SMTP's own arguments."""

    hostname: str
    port: int
    use_tls: bool  # implicit TLS (smtps)
    start_tls: bool  # STARTTLS required (smtp)
    username: str | None = None
    password: str | None = field(default=None, repr=False)


SCHEMES = {  # scheme: (default port, implicit TLS, STARTTLS)
    "smtp": (587, False, True),
    "smtps": (465, True, False),
    "smtp+insecure": (25, False, False),
}


def web_origin(text: str) -> str:
    """An origin as a browser sends it (scheme://host[:port], lower case, no path): CORS compares
    the Origin header with each allowed one as written, so "https://pos.example/" would match none."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"PETPOS_ALLOWED_ORIGINS holds {text!r}, not an origin like https://pos.example.com")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"PETPOS_ALLOWED_ORIGINS holds {text!r}: an origin has no path, query or user")
    scheme = parts.scheme.lower()
    try:  # a browser sends a host name in its ASCII form (IDNA): "café.example" as "xn--caf-dma.example"
        name = parts.hostname if parts.hostname.isascii() else parts.hostname.encode("idna").decode()
    except UnicodeError:
        name = ""
    if not re.fullmatch(r"[a-z0-9.-]+|[0-9a-f:.]+", name):  # no "*.example.com", no spaces
        raise ValueError(f"PETPOS_ALLOWED_ORIGINS holds {text!r}, not an origin like https://pos.example.com")
    host = f"[{name}]" if ":" in name else name
    default = {"http": 80, "https": 443}[scheme]  # a browser leaves it out
    return f"{scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def parse_smtp_url(url: str) -> SmtpServer:
    """The server a PETPOS_SMTP_URL names. Errors never repeat the URL (it may hold a password)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in SCHEMES:
        raise ValueError("PETPOS_SMTP_URL must start with smtp://, smtps:// or smtp+insecure://")
    default_port, use_tls, start_tls = SCHEMES[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError:
        raise ValueError("PETPOS_SMTP_URL has an invalid port") from None
    if not parts.hostname:
        raise ValueError("PETPOS_SMTP_URL names no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("PETPOS_SMTP_URL takes no path or query")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    if (username is None) != (password is None):
        raise ValueError("PETPOS_SMTP_URL needs both a user and a password, or neither")
    if username is not None and not (use_tls or start_tls):
        raise ValueError("smtp+insecure:// would send the password in clear: use smtp:// or smtps://")
    return SmtpServer(parts.hostname, port, use_tls, start_tls, username, password)


def load_trusted_documents(path: Path) -> dict[str, str]:
    """The file's hash -> document map, each hash checked against its document (ValueError if not)."""
    try:
        documents = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"PETPOS_TRUSTED_DOCUMENTS: cannot read {path} as JSON ({error})") from None
    if not isinstance(documents, dict) or not all(isinstance(d, str) for d in documents.values()):
        raise ValueError("PETPOS_TRUSTED_DOCUMENTS must be a JSON object of sha256 hash -> document")
    wrong = [h for h, document in documents.items() if hashlib.sha256(document.encode()).hexdigest() != h]
    if wrong:
        raise ValueError(f"PETPOS_TRUSTED_DOCUMENTS: the hash does not match its document for {wrong[:3]}")
    return documents


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    """The IANA zones a receipt may name: not the host's `localtime`, nor `Factory` (no zone at all)."""
    return frozenset(available_timezones() - {"localtime", "Factory"})


class Settings(BaseSettings):
    # Errors never repeat a value: PETPOS_SMTP_URL and PETPOS_SECRET_KEY hold secrets.
    model_config = SettingsConfigDict(
        env_prefix="PETPOS_", extra="ignore", hide_input_in_errors=True, env_ignore_empty=True
    )

    env: Literal["development", "production"] = "development"
    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL"))
    database_read_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_READ_URL"))
    # LISTEN needs a session of its own: a direct URL when DATABASE_URL goes through a transaction pooler.
    database_listen_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_LISTEN_URL")
    )
    # DATABASE_URL/DATABASE_READ_URL go through a transaction pooler (PgBouncer pool_mode=transaction): a
    # client cannot tell from the connection, so it is said here; prepared statements then never outlive one.
    database_transaction_pooler: bool = Field(
        default=False, validation_alias=AliasChoices("DATABASE_TRANSACTION_POOLER")
    )
    secret_key: str | None = None
    data_dir: Path = Path(".petpos")
    lock_timeout_ms: int = Field(default=5000, ge=1, le=600_000)
    # What a statement of the server may take beyond a lock wait: the database cancels one that runs
    # longer than lock_timeout_ms + this, and the server gives up on one whose answer (or cancel)
    # has not come this much later still, taking the database for gone silent (app/db/connectivity.py).
    database_timeout_ms: int = Field(default=5000, ge=100, le=600_000)
    token_ttl_minutes: int = Field(default=60 * 24, ge=1, le=MINUTES_A_YEAR)
    password_reset_ttl_minutes: int = Field(default=30, ge=1, le=MINUTES_A_WEEK)
    # Reset emails per account per window; more requests answer ok and send nothing.
    password_reset_max_emails: int = Field(default=3, ge=1, le=MAX_COUNT)
    password_reset_window_minutes: int = Field(default=60, ge=1, le=MINUTES_A_WEEK)
    # Failed sign-ins per account and per client address per window; past them login is RATE_LIMITED.
    login_max_failures_per_account: int = Field(default=10, ge=1, le=MAX_COUNT)
    login_max_failures_per_address: int = Field(default=50, ge=1, le=MAX_COUNT)
    login_window_minutes: int = Field(default=15, ge=1, le=MINUTES_A_WEEK)
    # New accounts asked for from one client address per window; past them register is RATE_LIMITED.
    register_max_per_address: int = Field(default=20, ge=1, le=MAX_COUNT)
    register_window_minutes: int = Field(default=60, ge=1, le=MINUTES_A_WEEK)
    currency: str = "USD"
    # Printed at the top of every receipt.
    store_name: str = "petpos pet store"
    # The time zone receipts give the sale's time in: an IANA name (America/New_York).
    store_timezone: str = "UTC"
    default_phone_region: str = "US"
    pool_size: int = Field(default=10, ge=1, le=200)
    # Origins of the React POS (CORS and WebSocket Origin check); comma-separated in the environment.
    # Unset: the POS's development servers in development, no other origin in production.
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://localhost:5173", "http://localhost:3000"]
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    # Outbox delivery (app/mail.py). Without an SMTP URL: printed in development, kept in production.
    smtp_url: str | None = None
    mail_from: str = "petpos <no-reply@localhost>"
    # At least a second: new email wakes the senders at once; polling is for retries.
    outbox_poll_seconds: float = Field(default=5.0, ge=1, le=3600)
    # PENDING adoption requests one customer may hold at once.
    max_open_adoption_requests: int = Field(default=3, ge=1, le=MAX_COUNT)
    # Sales tax: false, prices exclude it and it comes on top; true, prices include it.
    prices_include_tax: bool = False
    # The share of a POS order's lines STAFF may take off by hand (setSaleOrderDiscount); ADMIN any.
    staff_max_discount_percent: Decimal = Field(default=Decimal(20), ge=0, le=100, decimal_places=3)
    # Automatic persisted queries: each process keeps documents up to this many characters (LRU).
    persisted_queries_max_bytes: int = Field(default=4 * 1024 * 1024, ge=1)
    # A JSON file of sha256 -> document: when set, only those documents run (app/persisted_queries.py).
    trusted_documents: Path | None = None

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        return [origin if origin == "*" else web_origin(origin) for origin in value]

    @field_validator("database_url", "database_read_url", "database_listen_url")
    @classmethod
    def _check_database_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value or not value.strip():
            return None
        variable = info.field_name.upper() if info.field_name else "The database URL"
        try:
            url = make_url(async_url(value.strip()))
            if url.port is not None and not 0 < url.port < 65536:
                raise ValueError(url.port)
        except (ValueError, ArgumentError):
            raise ValueError(
                f"{variable} must be a postgresql:// URL, like postgresql://user:password@host:5432/petpos"
            ) from None
        if "@" in (url.host or "") or "@" in urlsplit(value.strip()).path:
            # The rest of the password would be taken for the host or the database, and shown.
            raise ValueError(f"{variable}: write an @ in the user name or password as %40, a / as %2F")
        modes = [url.query[name] for name in ("ssl", "sslmode") if name in url.query]
        if any(mode not in SSL_MODES for mode in modes):
            raise ValueError(f"{variable}'s sslmode is one of {', '.join(SSL_MODES)}")
        if unknown := sorted(set(url.query) - URL_PARAMETERS):
            raise ValueError(
                f"{variable} takes no parameter {', '.join(unknown)} (it may carry "
                f"{', '.join(sorted(URL_PARAMETERS))})"
            )
        return value.strip()

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        parse_smtp_url(value)  # a clear error at start-up, not at the first email
        return value.strip()

    @field_validator("trusted_documents")
    @classmethod
    def _check_trusted_documents(cls, value: Path | None) -> Path | None:
        if value is not None:
            load_trusted_documents(value)  # a clear error at start-up, not at the first request
        return value

    @field_validator("store_name")
    @classmethod
    def _check_store_name(cls, value: str) -> str:
        value = value.strip()  # the top line of every receipt
        if not value or any(unicodedata.category(c) == "Cc" for c in value):
            raise ValueError("PETPOS_STORE_NAME must hold a visible name on one line, no control characters")
        if len(value) > 200:
            raise ValueError("PETPOS_STORE_NAME must be at most 200 characters")
        return value

    @field_validator("store_timezone")
    @classmethod
    def _check_store_timezone(cls, value: str) -> str:
        value = value.strip()
        if value not in _time_zones():
            raise ValueError(
                "PETPOS_STORE_TIMEZONE must be an IANA time zone, like America/New_York or Europe/Paris"
            )
        return value

    @field_validator("secret_key", "trusted_documents", "data_dir", "store_timezone", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object, info: ValidationInfo) -> object:
        """An empty (or blank) variable is an unset one, as for the URLs."""
        if isinstance(value, str) and not value.strip():
            return Settings.model_fields[str(info.field_name)].get_default()
        return value

    @field_validator("currency")
    @classmethod
    def _check_currency(cls, value: str) -> str:
        value = value.strip().upper()
        if not (len(value) == 3 and value.isascii() and value.isalpha()):
            raise ValueError("PETPOS_CURRENCY must be an ISO 4217 code of three letters, like USD or EUR")
        return value

    @field_validator("default_phone_region")
    @classmethod
    def _check_phone_region(cls, value: str) -> str:
        # Unknown, it would make every phone number written without its country code invalid.
        value = value.strip().upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError("PETPOS_DEFAULT_PHONE_REGION must be a region code, like US or GB")
        return value

    @field_validator("mail_from")
    @classmethod
    def _check_mail_from(cls, value: str) -> str:
        if "@" not in parseaddr(value)[1] or "\r" in value or "\n" in value:
            raise ValueError("PETPOS_MAIL_FROM must be an address, like: petpos <no-reply@example.com>")
        return value

    @model_validator(mode="after")
    def _secret_in_production(self) -> Settings:
        if not self.production:
            return self
        if not self.secret_key:
            raise ValueError("PETPOS_SECRET_KEY is required when PETPOS_ENV=production")
        size = len(self.secret_key.encode())
        if size < MIN_SECRET_KEY_BYTES:
            raise ValueError(
                f"PETPOS_SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes when PETPOS_ENV=production "
                f"(it has {size}); make one with "
                "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        return self

    @model_validator(mode="after")
    def _no_development_origins_in_production(self) -> Settings:
        # Any page served on a staff member's localhost could otherwise call the live API.
        if self.production and "allowed_origins" not in self.model_fields_set:
            self.allowed_origins = []
        return self

    @model_validator(mode="after")
    def _pooler_needs_a_database_url(self) -> Settings:
        if self.database_transaction_pooler and not self.database_url:
            raise ValueError(
                "DATABASE_TRANSACTION_POOLER is for a DATABASE_URL that goes through a pooler: the embedded "
                "PostgreSQL (DATABASE_URL unset) is reached directly"
            )
        return self

    @model_validator(mode="after")
    def _listen_beside_a_pooler(self) -> Settings:
        if self.database_transaction_pooler and self.database_url and not self.database_listen_url:
            raise ValueError(
                "DATABASE_LISTEN_URL is required when DATABASE_TRANSACTION_POOLER is on: LISTEN through a "
                "transaction pooler hears nothing; give a direct URL to the primary"
            )
        return self

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def statement_timeout_ms(self) -> int:
        """The database's statement_timeout (and idle_in_transaction_session_timeout) for the server's
        connections: a lock wait and then some."""
        return self.lock_timeout_ms + self.database_timeout_ms

    @property
    def answer_timeout_seconds(self) -> float:
        """How long the server waits for any answer to a statement: past the statement timeout, by
        which the database answers even a statement it had to cancel, by the database timeout."""
        return (self.statement_timeout_ms + self.database_timeout_ms) / 1000

    def signing_key(self) -> str:
        """The JWT key; in development generated once and kept in the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written private from the start (mkstemp opens O_CREAT|O_EXCL, mode 0600) and linked into
            # place whole, so no worker ever reads a half-written key; when another worker linked its
            # key first, that one is the key everybody uses.
            fd, draft = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
            try:
                with os.fdopen(fd, "w") as file:
                    file.write(secrets.token_urlsafe(48))
                os.link(draft, path)
            except FileExistsError:
                pass
            finally:
                os.unlink(draft)
        self.secret_key = path.read_text().strip()
        return self.secret_key


# The query parameters a database URL may carry: SQLAlchemy hands them to asyncpg.connect as
# arguments, where any other is a TypeError at the first connection. `sslmode` is libpq's name
# (hosted databases' URLs carry it) for asyncpg's `ssl`, which takes the same modes.
URL_PARAMETERS = frozenset(
    {"host", "port", "ssl", "sslmode", "passfile", "target_session_attrs", "prepared_statement_cache_size"}
)
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _renamed(url: str, old: str, new: str) -> str:
    """`url` with its query parameter `old` named `new`, read and written as SQLAlchemy does (a
    password may hold a "#" or a "?" that a plain URL parser takes for the end of it)."""
    parsed = make_url(url)
    if old in parsed.query:
        value = parsed.query[old]
        parsed = parsed.difference_update_query([old])
        if new not in parsed.query:
            parsed = parsed.update_query_dict({new: value})
    return parsed.render_as_string(hide_password=False)


def async_url(url: str) -> str:
    """Accept a plain postgresql:// URL and point it at the asyncpg driver (`sslmode` as `ssl`)."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return _renamed("postgresql+asyncpg://" + url[len(prefix) :], "sslmode", "ssl")
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


def plain_url(url: str) -> str:
    """The postgresql:// URL asyncpg itself takes (LISTEN connections): libpq's `sslmode`, and not
    SQLAlchemy's own `prepared_statement_cache_size`, which asyncpg would send as a server setting."""
    plain = make_url(
        _renamed("postgresql://" + async_url(url)[len("postgresql+asyncpg://") :], "ssl", "sslmode")
    )
    return plain.difference_update_query(["prepared_statement_cache_size"]).render_as_string(
        hide_password=False
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
