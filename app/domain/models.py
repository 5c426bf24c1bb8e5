"""Every feature's models, imported so the metadata (and alembic) sees all tables."""
from app.db.base import Base
from app.domain.accounts.models import OutboxMessage, PasswordResetToken, User

__all__ = ["Base", "OutboxMessage", "PasswordResetToken", "User"]
