"""Coupons (filled in by the commerce feature)."""
