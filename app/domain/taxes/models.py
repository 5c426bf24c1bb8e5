"""Sales tax rates: a product or a service points at one rate or none."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, created_at, uuid_pk
from app.domain.errors import Code, ConstraintErrors

Rate = Numeric(6, 3)  # percent, at most three decimals: 8.250


class TaxRate(Base):
    """An inactive rate is no longer charged: items pointing at it sell untaxed until given another.
    Sold lines keep the rate they were sold at, so changing a rate never changes a recorded sale."""

    __tablename__ = "tax_rates"
    __table_args__ = (
        CheckConstraint("rate BETWEEN 0 AND 100", name="rate_in_range"),
        # One rate per name in any letter case: "City tax" and "city tax" would look alike in a list.
        Index("uq_tax_rates_name", text("lower(name)"), unique=True),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(100))
    rate: Mapped[Decimal] = mapped_column(Rate)
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = created_at()


# Constraint violations that are expected outcomes, as payload errors.
CONSTRAINT_ERRORS: ConstraintErrors = {
    "uq_tax_rates_name": (Code.CONFLICT, "A tax rate has this name already (in some letter case)", "name"),
    # The rate was retired or removed between the check and the write.
    "fk_products_tax_rate_id_tax_rates": (Code.NOT_FOUND, "Tax rate not found", "taxRateId"),
    "fk_services_tax_rate_id_tax_rates": (Code.NOT_FOUND, "Tax rate not found", "taxRateId"),
}
