"""Pets and adoption requests (filled in by the adoption feature)."""
