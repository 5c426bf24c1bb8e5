"""Every feature's models, imported so the metadata (and alembic) sees all tables."""
from app.db.base import Base
from app.domain.accounts import models as accounts  # noqa: F401
from app.domain.adoption import models as adoption  # noqa: F401
from app.domain.catalog import models as catalog  # noqa: F401
from app.domain.coupons import models as coupons  # noqa: F401
from app.domain.loyalty import models as loyalty  # noqa: F401
from app.domain.pos import models as pos  # noqa: F401
from app.domain.sales import models as sales  # noqa: F401

__all__ = ["Base"]
