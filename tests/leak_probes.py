"""Hostile requests that carry secrets, for the tests that scan the server's log for them.

Every secret derives from one random marker; the phones (digits only) are drawn from it too."""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

# Makes the next users INSERT fail with a CHECK violation that names no payload code: an
# unexpected database error, whose DETAIL quotes the whole row ("Failing row contains (…)").
REFUSE_NAMES = "ALTER TABLE users ADD CONSTRAINT leak_probe CHECK (name NOT LIKE 'refuse-me%') NOT VALID"
ALLOW_NAMES = "ALTER TABLE users DROP CONSTRAINT IF EXISTS leak_probe"


@dataclass
class Secrets:
    marker: str = field(default_factory=lambda: f"zq{uuid.uuid4().hex[:12]}")
    tokens: list[str] = field(default_factory=list)
    # Four distinct numbers drawn from the marker: the same marker gives the same phones, so a run
    # that found a leak is replayed with Secrets(marker=...).
    phones: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.phones = [f"+1 202 555 {n}" for n in random.Random(self.marker).sample(range(2000, 9999), 4)]

    def email(self, n: int) -> str:
        return f"{self.marker}.{n}@example.com"

    def password(self, n: int) -> str:
        return f"pw-{self.marker}-{n}"

    def leaks(self, log: str) -> list[str]:
        """The log's lines that hold a secret (an argon2 hash by its prefix, a phone by its digits)."""
        secrets = [self.marker, "$argon2", *self.tokens, *(re.sub(r"\D", "", p)[1:] for p in self.phones)]
        return [line for line in log.splitlines() if any(secret in line for secret in secrets)]


def gql(query: str, **variables) -> dict:
    return {"query": query, "variables": variables}


REGISTER = "mutation($input: RegisterInput!) { register(input: $input) { token errors { code field } } }"
LOGIN = "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { %s } }"
UPDATE_PROFILE = "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { errors { code } } }"
RESET_PASSWORD = "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) { ok } }"
CREATE_STAFF = "mutation($input: CreateStaffUserInput!) { createStaffUser(input: $input) { user { id } } }"


def profile_literal(fields: str) -> dict:
    return gql("mutation { updateProfile(input: {" + fields + "}) { user { id } } }")


def register(s: Secrets, n: int, *, email: int, phone: int) -> dict:
    return gql(
        REGISTER,
        input={
            "email": s.email(email),
            "phone": s.phones[phone],
            "name": f"Name {s.marker}",
            "password": s.password(n),
        },
    )


async def send_expected_failures(http: httpx.AsyncClient, s: Secrets) -> list[httpx.Response]:
    """Bad requests a server answers every day: none of them is a failure of the server.
    The account they aim at has email 1 and phone 0."""
    signed_up = await http.post("/graphql", json=register(s, 1, email=1, phone=0))
    token = signed_up.json()["data"]["register"]["token"]
    assert token, signed_up.text
    s.tokens.append(token)
    bearer, forged = {"Authorization": f"Bearer {token}"}, {"Authorization": f"Bearer tok-{s.marker}"}
    m, email, password = s.marker, s.email(1), s.password(1)
    requests: list[tuple[dict | bytes, dict]] = [
        # A wrong email, then a wrong password: INVALID_CREDENTIALS in the payload.
        (gql(LOGIN % "token", email=s.email(9), password=password), {}),
        (gql(LOGIN % "token", email=email, password=s.password(9)), {}),
        # The email, then the phone, is taken: the unique constraints decide (CONFLICT).
        (register(s, 2, email=1, phone=1), {}),
        (register(s, 3, email=3, phone=0), {}),
        # Documents that fail validation or parsing, the secrets in their text or in the variables.
        (gql(f'mutation {{ login(email: "{email}", password: "{password}") {{ token nope }} }}'), {}),
        (gql(LOGIN % "nope", email=email, password=password), {}),
        (gql(f"{{ {m}_field }}"), {}),
        (gql(f'mutation {{ login(email: "{email}", password: "{password}"'), {}),
        # Variables that do not coerce (an error message quotes their values).
        (gql(LOGIN % "token", email=email, password={"password": password}), {}),
        (
            gql(UPDATE_PROFILE, input={"name": m, "email": s.email(4), "phone": s.phones[2], "unknown": m}),
            bearer,
        ),
        (profile_literal(f'email: "{s.email(4)}", unknown: "{m}"'), bearer),
        # A reset code that does not exist: INVALID_TOKEN.
        (gql(RESET_PASSWORD, t=f"code-{m}", p=s.password(5)), {}),
        # A forged bearer token (UNAUTHENTICATED) and a customer doing staff work (FORBIDDEN).
        (gql("{ me { id } }"), forged),
        (profile_literal(f'name: "{m}", phone: "{s.phones[2]}"'), forged),
        (
            gql(
                CREATE_STAFF,
                input={
                    "email": s.email(6),
                    "phone": s.phones[2],
                    "name": m,
                    "password": s.password(6),
                    "role": "STAFF",
                },
            ),
            bearer,
        ),
        # A body that is not JSON.
        (f'{{"query": "mutation {{ login(email: \\"{email}\\", password: \\"{password}'.encode(), {}),
    ]
    responses = [signed_up]
    for body, headers in requests:
        if isinstance(body, bytes):
            headers = {**headers, "content-type": "application/json"}
            responses.append(await http.post("/graphql", content=body, headers=headers))
        else:
            responses.append(await http.post("/graphql", json=body, headers=headers))
    return responses


async def provoke_internal_error(
    http: httpx.AsyncClient, s: Secrets, execute: Callable[[str], Awaitable[object]]
) -> httpx.Response:
    """A registration that hits an unexpected database error, with a fresh email, phone and
    password (so an argon2 hash) in the failing INSERT."""
    await execute(REFUSE_NAMES)
    try:
        return await http.post(
            "/graphql",
            json=gql(
                REGISTER,
                input={
                    "email": s.email(7),
                    "phone": s.phones[3],
                    "name": f"refuse-me {s.marker}",
                    "password": s.password(7),
                },
            ),
        )
    finally:
        await execute(ALLOW_NAMES)
