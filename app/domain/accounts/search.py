"""Finding a customer at the counter by email, phone (any notation) or name.

Every match kind is a LIKE that a pg_trgm GIN index answers (partial indexes on CUSTOMER rows,
migration 0010), or the unique index of a whole email or phone number; the matches are sorted by
name and keyset-paged. There is deliberately no (name, id) index: PostgreSQL would walk it in name
order, filtering, whenever it guessed the matches common, and a guess wrong by a little (all the
"Laura Roberts" sort together, late) cost seconds at a million customers instead of milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import fields
from app.domain.accounts.models import User
from app.domain.accounts.rules import EMAIL_RE, email_form, normalise_phone
from app.domain.errors import DomainError, validation
from app.domain.pagination import Page, fetch_page
from app.domain.search import SEARCH_MAX, contains, forms

# A trigram index needs three characters in a row to narrow anything down.
SEARCH_MIN = 3
PHONE_CHARS = re.compile(r"^[0-9+().\s/-]+$")


@dataclass(frozen=True)
class CustomerSearch:
    text: str  # lower case, runs of white space as one space
    words: tuple[str, ...]
    email: str | None  # when the search is a whole email address, in rules.email_form
    phone: str | None  # E.164, when the search is a whole valid number
    digits: str | None  # the digits of what looks like part of a number


def prepare_customer_search(search: str, *, phone_region: str) -> CustomerSearch:
    if len(text := fields.spaced(search)) > SEARCH_MAX:  # before lower case, which can lengthen it ("İ")
        raise validation(f"A search is at most {SEARCH_MAX} characters", "search")
    text = text.lower()
    words = tuple(text.split())
    if not any(len(word) >= SEARCH_MIN for word in words):
        raise validation(f"Give at least {SEARCH_MIN} characters in a row to search for", "search")
    email = phone = digits = None
    # A whole address is looked for in the form addresses are stored in.
    if EMAIL_RE.match(whole := email_form(text)):
        email = whole
    elif PHONE_CHARS.match(text):
        try:
            phone = normalise_phone(text, phone_region, "search")
        except DomainError:
            only_digits = re.sub(r"\D", "", text)
            digits = only_digits if len(only_digits) >= SEARCH_MIN else None
    return CustomerSearch(text=text, words=words, email=email, phone=phone, digits=digits)


def matches(search: CustomerSearch) -> ColumnElement[bool]:
    if search.email:
        # A whole address means that account: its unique index, not the trigrams of every part.
        return User.email == search.email
    kinds: list[ColumnElement[bool]] = [
        User.email.like(contains(search.text)),  # stored in lower case
        and_(*[or_(*[User.name.ilike(contains(form)) for form in forms(word)]) for word in search.words]),
    ]
    if search.phone:
        kinds.append(User.phone == search.phone)
    if search.digits:
        kinds.append(User.phone.like(contains(search.digits)))
    return or_(*kinds)


def customers_query(search: CustomerSearch) -> Select[User]:
    """CUSTOMER accounts that match (the partial indexes hold exactly those rows)."""
    return select(User).where(User.role == "CUSTOMER", matches(search))


async def search_customers(
    session: AsyncSession, search: CustomerSearch, *, first: int | None, after: str | None
) -> Page[User]:
    """Matching customers by name (then id)."""
    return await fetch_page(
        session, customers_query(search), keys=[User.name, User.id], first=first, after=after
    )
