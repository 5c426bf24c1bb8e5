"""Carts, sales, refunds, loyalty ledger, idempotency keys (filled in by the commerce feature)."""
