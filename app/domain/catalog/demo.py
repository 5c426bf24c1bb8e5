"""Demo data for this feature, loaded by `petpos seed --demo` and on a first `petpos serve`."""
from app.db.uow import UnitOfWork


async def seed(uow: UnitOfWork) -> None:
    """Idempotent: does nothing when the demo rows are already there."""
