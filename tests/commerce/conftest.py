import pytest

from tests.commerce.shop import Shop


@pytest.fixture
def shop(db) -> Shop:
    return Shop(db)
