"""POS sale orders and their items (filled in by the POS feature)."""
