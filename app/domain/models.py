"""Every feature's models, imported so the metadata (and alembic) sees all tables, and every
feature's constraint -> error map, collected into the one registry the unit of work consults."""

from app.db.base import Base
from app.domain.accounts import models as accounts
from app.domain.adoption import models as adoption
from app.domain.catalog import models as catalog
from app.domain.coupons import models as coupons
from app.domain.errors import ConstraintErrors
from app.domain.loyalty import models as loyalty  # noqa: F401
from app.domain.pos import models as pos
from app.domain.sales import models as sales
from app.domain.sales import tenders  # noqa: F401
from app.domain.shifts import models as shifts
from app.domain.taxes import models as taxes


def _collect(*maps: ConstraintErrors) -> ConstraintErrors:
    registry: ConstraintErrors = {}
    for constraint_map in maps:
        assert not registry.keys() & constraint_map.keys(), "a constraint is mapped twice"
        registry.update(constraint_map)
    return registry


CONSTRAINT_ERRORS = _collect(
    accounts.CONSTRAINT_ERRORS,
    adoption.CONSTRAINT_ERRORS,
    catalog.CONSTRAINT_ERRORS,
    coupons.CONSTRAINT_ERRORS,
    pos.CONSTRAINT_ERRORS,
    sales.CONSTRAINT_ERRORS,
    taxes.CONSTRAINT_ERRORS,
    shifts.CONSTRAINT_ERRORS,
)

__all__ = ["Base", "CONSTRAINT_ERRORS"]
