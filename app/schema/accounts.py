"""GraphQL types of the contract: accounts."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from app.schema.common import UserError


@strawberry.enum
class Role(Enum):
    CUSTOMER = "CUSTOMER"
    STAFF = "STAFF"
    ADMIN = "ADMIN"


@strawberry.type
class User:
    id: strawberry.ID
    email: str
    phone: str
    name: str
    role: Role
    loyalty_points: int
    created_at: datetime

    @classmethod
    def from_model(cls, user) -> User:
        return cls(
            id=strawberry.ID(str(user.id)),
            email=user.email,
            phone=user.phone,
            name=user.name,
            role=Role(user.role),
            loyalty_points=user.loyalty_points,
            created_at=user.created_at,
        )


@strawberry.input
class RegisterInput:
    email: str
    phone: str = strawberry.field(
        description="Any common notation; stored normalised to E.164 (+15551234567)."
    )
    name: str
    password: str


@strawberry.input
class UpdateProfileInput:
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    current_password: str | None = strawberry.field(
        description="Required when email or phone changes.", default=None
    )


@strawberry.input
class CreateStaffUserInput:
    email: str
    phone: str
    name: str
    password: str
    role: Role


@strawberry.type
class AuthPayload:
    errors: list[UserError]
    token: str | None = strawberry.field(
        description="Bearer token for the Authorization header.", default=None
    )
    user: User | None = None


@strawberry.type
class UserPayload:
    errors: list[UserError]
    user: User | None = None
