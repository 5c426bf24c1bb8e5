"""Read side of accounts: batch reads for DataLoaders."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.accounts.models import User


async def users_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, User]:
    return {u.id: u for u in await session.scalars(select(User).where(User.id.in_(ids)))}
