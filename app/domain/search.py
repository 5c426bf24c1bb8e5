"""Search text from the client: its words, and LIKE patterns that take them literally."""

from __future__ import annotations

import re
import unicodedata

from app.domain import fields
from app.domain.errors import validation

# Longer than any name or SKU a search could be looking for; each word is one more LIKE.
SEARCH_MAX = 100


def words(search: str | None, field: str = "search") -> tuple[str, ...]:
    """The words of a search, white space of any kind and length between them, in NFC as names are
    kept (fields.spaced); at most SEARCH_MAX characters once runs of white space count as one."""
    found = tuple(fields.spaced(search or "").split())
    if len(" ".join(found)) > SEARCH_MAX:
        raise validation(f"A search is at most {SEARCH_MAX} characters", field)
    return found


def forms(word: str) -> tuple[str, ...]:
    """A word as typed (in NFC) and in NFKC, so "ｆｏｏｄ" typed in a phone's full-width mode finds
    "food" too; names keep their own letters (NFC only), as a name with ＦＵＬＬ-width letters is.
    In that order, once each: the same search is the same SQL in every process."""
    return tuple(dict.fromkeys((word, unicodedata.normalize("NFKC", word))))


def contains(value: str) -> str:
    """A LIKE pattern matching `value` anywhere, its wildcards taken literally."""
    return "%" + re.sub(r"([\\%_])", r"\\\1", value) + "%"
