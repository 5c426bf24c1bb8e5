"""Products, services and stock movements (filled in by the commerce feature)."""
