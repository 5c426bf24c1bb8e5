"""Automatic persisted queries (Apollo's APQ protocol) and, in production, trusted documents.

A client sends `extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}` without `query`; an
unknown hash is answered with Apollo's PersistedQueryNotFound, and the client sends the hash again
with the query, which is stored once its SHA-256 matches. Later requests send the hash alone, over
POST or GET. The store is per process, in memory, an LRU bounded by the documents' total size
(PETPOS_PERSISTED_QUERIES_MAX_BYTES): a restarted or other worker answers NotFound once and the
client's retry stores the query there too.

With PETPOS_TRUSTED_DOCUMENTS (a JSON file of hash -> document) only those documents run: a hash
from the file runs its document, anything else is refused and nothing is stored."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from cachetools import LRUCache
from cross_web import HTTPException

SHA256 = re.compile(r"[0-9a-f]{64}")
SHAPE = 'must be {"version": 1, "sha256Hash": "<SHA-256 of the query, 64 lowercase hex digits>"}'


class PersistedQueryNotFound(HTTPException):
    """Apollo's exact answer to an unknown hash, which its clients (Apollo, urql, Relay's APQ links)
    recognise to resend with the query. 200 as Apollo Server answers it, never cached on the way."""

    code = "PERSISTED_QUERY_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__(200, "PersistedQueryNotFound")
        self.headers = {"Cache-Control": "private, no-cache, must-revalidate"}


class NotTrusted(HTTPException):
    """A document outside PETPOS_TRUSTED_DOCUMENTS (Apollo Router's name for it)."""

    code = "PERSISTED_QUERY_NOT_IN_LIST"

    def __init__(self) -> None:
        super().__init__(403, "Only the server's trusted documents run here: send a known sha256Hash")


def sha256(document: str) -> str:
    # surrogatepass: a lone surrogate cannot be hashed as UTF-8; the parser refuses it after.
    return hashlib.sha256(document.encode("utf-8", "surrogatepass")).hexdigest()


class PersistedQueries:
    def __init__(self, max_bytes: int, trusted: dict[str, str] | None = None) -> None:
        self.trusted = trusted
        # Sized by characters stored; a document larger than the whole store runs but is not kept.
        self.store: LRUCache[str, str] = LRUCache(maxsize=max(max_bytes, 1), getsizeof=len)

    def resolve(self, query: str | None, extensions: dict[str, Any] | None) -> str | None:
        """The query to run: the request's own, or the stored one its hash names."""
        wanted = self._hash(extensions)
        if self.trusted is not None:
            if wanted is None and query is not None:
                wanted = sha256(query)
            if wanted is None:
                return query  # neither query nor hash: strawberry answers that
            if wanted not in self.trusted:
                raise NotTrusted() if query is not None else PersistedQueryNotFound()
            if query is not None and sha256(query) != wanted:
                raise HTTPException(400, "The persistedQuery sha256Hash does not match the query")
            return self.trusted[wanted]
        if wanted is None:
            return query
        if query is None:
            stored = self.store.get(wanted)
            if stored is None:
                raise PersistedQueryNotFound()
            return stored
        if sha256(query) != wanted:
            raise HTTPException(400, "The persistedQuery sha256Hash does not match the query")
        try:
            self.store[wanted] = query
        except ValueError:  # larger than the whole store
            pass
        return query

    @staticmethod
    def _hash(extensions: dict[str, Any] | None) -> str | None:
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            return None
        if not isinstance(persisted, dict) or not isinstance(persisted.get("sha256Hash"), str):
            raise HTTPException(400, f"`extensions.persistedQuery` {SHAPE}")
        version = persisted.get("version")
        if type(version) is not int or version != 1:
            raise HTTPException(400, "Unsupported persisted query version: only version 1 is supported")
        digest = persisted["sha256Hash"]
        if not SHA256.fullmatch(digest):
            raise HTTPException(400, f"`extensions.persistedQuery` {SHAPE}")
        return digest
