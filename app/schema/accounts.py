"""GraphQL types of the contract: accounts."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.schema.common import Payload
from app.schema.described import DescribedEnum, described_enum
from app.schema.from_model import FromModel
from app.schema.pages import Connection, connection_of


@described_enum("What an account may do.")
class Role(DescribedEnum):
    CUSTOMER = "CUSTOMER", "Shops online, earns points, asks to adopt."
    STAFF = "STAFF", "Runs the counter: POS orders, catalogue, refunds."
    ADMIN = "ADMIN", "Staff who also manage coupons and staff accounts."


@strawberry.type(description="An account: a customer, or a member of staff.")
class User(FromModel):
    id: strawberry.ID = strawberry.field(description="The account's id.")
    email: str = strawberry.field(description="Sign-in email, lower case; unique.")
    phone: str = strawberry.field(description="In E.164 (+15551234567); unique.")
    name: str = strawberry.field(description="The name shown on receipts and to staff.")
    role: Role = strawberry.field(description="What the account may do.")
    loyalty_points: int = strawberry.field(
        description="Points to redeem at checkout: 100 points take 1.00 off; earned 1 per whole unit paid."
    )
    created_at: datetime = strawberry.field(description="When the account was opened.")


@strawberry.input
class NewAccountInput:
    """Base of the inputs that open an account: who it is for."""

    email: str = strawberry.field(description="Sign-in email; must not be registered already.")
    phone: str = strawberry.field(
        description="Any common notation; stored normalised to E.164 (+15551234567)."
    )
    name: str = strawberry.field(description="1-200 characters.")


@strawberry.input(description="A new customer account.")
class RegisterInput(NewAccountInput):
    password: str = strawberry.field(description="8-256 characters.")


@strawberry.input(description="Changes to the caller's own account; omitted fields stay as they are.")
class UpdateProfileInput:
    email: str | None = strawberry.field(description="A new sign-in email.", default=None)
    phone: str | None = strawberry.field(
        description="A new phone, any common notation; stored normalised to E.164.", default=None
    )
    name: str | None = strawberry.field(description="A new name, 1-200 characters.", default=None)
    current_password: str | None = strawberry.field(
        description="Required when email or phone changes.", default=None
    )


@strawberry.input(description="An account an ADMIN opens, with any role.")
class CreateStaffUserInput(NewAccountInput):
    password: str = strawberry.field(description="8-256 characters; the user may change it later.")
    role: Role = strawberry.field(description="The account's role.")


@strawberry.type(description="The outcome of signing up or signing in.")
class AuthPayload(Payload):
    token: str | None = strawberry.field(
        description="Bearer token for the Authorization header.", default=None
    )
    user: User | None = strawberry.field(description="The signed-in account.", default=None)


@strawberry.type(description="The outcome of a change to an account.")
class UserPayload(Payload):
    user: User | None = strawberry.field(description="The account as it now is.", default=None)


@connection_of(User, "account", "accounts")
class UserConnection(Connection): ...
