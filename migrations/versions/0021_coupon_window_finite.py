"""A coupon's window holds moments only: an earlier petpos stored a startsAt of
0001-01-01T00:00:00Z as -infinity and an endsAt of 9999-12-31T23:59:59.999999Z as infinity, which
read back without an offset and failed every use of the coupon. An open end is NULL, as for a coupon
given no limit; the two windows no day falls in (an infinite start, an end at -infinity) keep their
meaning with the last and first moments the API takes.

Revision ID: 0021_coupon_window_finite
Revises: 0020_names_nfc
Create Date: 2026-11-29
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0021_coupon_window_finite'
down_revision: Union[str, None] = '0020_names_nfc'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute(sa.text(
        "UPDATE coupons SET "
        "starts_at = CASE starts_at WHEN '-infinity' THEN NULL "
        "WHEN 'infinity' THEN '9999-12-31 23:59:59.999998+00' ELSE starts_at END, "
        "ends_at = CASE ends_at WHEN 'infinity' THEN NULL "
        "WHEN '-infinity' THEN '0001-01-01 00:00:00.000001+00' ELSE ends_at END "
        "WHERE NOT isfinite(starts_at) OR NOT isfinite(ends_at)"
    ))
    op.create_check_constraint(
        op.f('ck_coupons_window_finite'), 'coupons', 'isfinite(starts_at) AND isfinite(ends_at)'
    )


def downgrade() -> None:
    op.drop_constraint(op.f('ck_coupons_window_finite'), 'coupons', type_='check')
