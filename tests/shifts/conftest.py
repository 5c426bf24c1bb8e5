"""Shift tests run at the POS counter: the staff tablet of tests/pos/conftest.py."""

from tests.pos.conftest import pos  # noqa: F401
