"""Accounts: users, password reset tokens, failed sign-in counters and the outbox of emails to send."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, created_at, uuid_pk
from app.domain.constraints import nonneg, one_of, positive, trigram_indexes
from app.domain.errors import Code, ConstraintErrors

ROLES = ("CUSTOMER", "STAFF", "ADMIN")
STAFF_ROLES = ("STAFF", "ADMIN")  # who works the counter: POS orders, catalogue, refunds, shifts
CUSTOMERS = "role = 'CUSTOMER'"


def is_staff(user: User | None) -> bool:
    return user is not None and user.role in STAFF_ROLES


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        nonneg("loyalty_points"),
        one_of("role", ROLES),
        # Customer lookup at the counter (app/domain/accounts/search.py).
        *trigram_indexes("ix_users_customer", ("email", "phone", "name"), where=CUSTOMERS),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="CUSTOMER")
    password_hash: Mapped[str] = mapped_column(Text)
    # Bumped by a password reset and by signing out everywhere: every token signed with an older
    # version stops working.
    token_version: Mapped[int] = mapped_column(default=1)
    loyalty_points: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    created_at: Mapped[datetime] = created_at()


class PasswordResetToken(Base):
    __tablename__ = "password_reset_tokens"
    __table_args__ = (Index("ix_password_reset_tokens_user_id", "user_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Only the SHA-256 of the token is stored; the token itself goes out by email.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at()


class SignInFailure(Base):
    """Failed sign-ins of one account (normalised email) or one client address in the current
    window, with the attempts whose password is being checked right now; or (kind 'register') the
    new accounts one client address asked for (app/domain/accounts/sign_in_limits.py). A row whose
    window has passed counts as none: the next attempt starts it afresh."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        CheckConstraint("kind IN ('account', 'address', 'register')", name="kind_known"),
        positive("failures"),
    )

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(254), primary_key=True)
    failures: Mapped[int]
    window_started_at: Mapped[datetime] = mapped_column(server_default=func.now())


class OutboxMessage(Base):
    """Emails written in the same transaction as the change that causes them, delivered later by
    app/mail.py (claims and marks in app/domain/accounts/outbox.py). Pending: sent_at and failed_at
    both NULL. An insert trigger (migration 0007) NOTIFYs the senders so they wake at once."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        # The senders' queue: pending messages by when they are next due.
        Index(
            "ix_outbox_messages_due",
            "next_attempt_at",
            postgresql_where=text("sent_at IS NULL AND failed_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    sent_at: Mapped[datetime | None]
    # Delivery attempts started (counted when a sender claims the message).
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    # Due from then on; a claim moves it ahead by the lease, a failure by the backoff.
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Why the last attempt failed: an error class and SMTP code, never the server's text.
    last_error: Mapped[str | None] = mapped_column(String(200))
    # Set when delivery is given up (recipient refused, or too many attempts).
    failed_at: Mapped[datetime | None]


# Constraint violations that are expected outcomes, as payload errors.
CONSTRAINT_ERRORS: ConstraintErrors = {
    "uq_users_email": (Code.CONFLICT, "This email is already registered", "email"),
    "uq_users_phone": (Code.CONFLICT, "This phone number is already registered", "phone"),
    "ck_users_loyalty_points_nonneg": (Code.INSUFFICIENT_POINTS, "Not enough loyalty points", None),
}
