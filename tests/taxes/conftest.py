import pytest

from tests.pos.conftest import Pos


@pytest.fixture
async def pos(db, gql, users) -> Pos:
    _, token = await users.signed_in("STAFF")
    return Pos(db, gql, token)
