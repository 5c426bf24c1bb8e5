"""Kept while resolvers move to app.db.pagination."""
from app.db.pagination import MAX_PAGE_SIZE, Page, decode_cursor, encode_cursor, fetch_page, page_size  # noqa: F401
