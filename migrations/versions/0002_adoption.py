"""pets and adoption requests

Revision ID: 0002_adoption
Revises: 0001_accounts
Create Date: 2026-11-22
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0002_adoption'
down_revision: Union[str, None] = '0001_accounts'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('pets',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('species', sa.String(length=16), nullable=False),
    sa.Column('breed', sa.String(length=100), nullable=True),
    sa.Column('age_months', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('photo_url', sa.String(length=2048), nullable=True),
    sa.Column('adoption_fee', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='AVAILABLE', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('age_months >= 0', name=op.f('ck_pets_age_months_nonneg')),
    sa.CheckConstraint('adoption_fee >= 0', name=op.f('ck_pets_adoption_fee_nonneg')),
    sa.CheckConstraint("species IN ('DOG', 'CAT', 'RABBIT', 'BIRD', 'REPTILE', 'FISH', 'OTHER')",
                       name=op.f('ck_pets_species_known')),
    sa.CheckConstraint("status IN ('AVAILABLE', 'PENDING', 'ADOPTED')", name=op.f('ck_pets_status_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pets'))
    )
    op.create_index('ix_pets_created_at_id', 'pets', ['created_at', 'id'], unique=False)
    op.create_index('ix_pets_status_created_at_id', 'pets', ['status', 'created_at', 'id'], unique=False)
    op.create_index('ix_pets_species_created_at_id', 'pets', ['species', 'created_at', 'id'], unique=False)
    op.create_table('adoption_requests',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('pet_id', sa.UUID(), nullable=False),
    sa.Column('applicant_id', sa.UUID(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='PENDING', nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.UUID(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('PENDING', 'APPROVED', 'REJECTED', 'CANCELLED')",
                       name=op.f('ck_adoption_requests_status_known')),
    sa.CheckConstraint("(status = 'PENDING') = (decided_at IS NULL)",
                       name=op.f('ck_adoption_requests_decided_at_iff_closed')),
    sa.CheckConstraint("(status = 'PENDING') = (decided_by IS NULL)",
                       name=op.f('ck_adoption_requests_decided_by_iff_closed')),
    sa.ForeignKeyConstraint(['pet_id'], ['pets.id'], name=op.f('fk_adoption_requests_pet_id_pets')),
    sa.ForeignKeyConstraint(['applicant_id'], ['users.id'], name=op.f('fk_adoption_requests_applicant_id_users')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_adoption_requests_decided_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adoption_requests'))
    )
    # At most one PENDING request per pet: the database's backstop of the pet lock.
    op.create_index('uq_adoption_requests_pending_pet', 'adoption_requests', ['pet_id'], unique=True,
                    postgresql_where=sa.text("status = 'PENDING'"))
    op.create_index('ix_adoption_requests_created_at_id', 'adoption_requests', ['created_at', 'id'], unique=False)
    op.create_index('ix_adoption_requests_status_created_at_id', 'adoption_requests',
                    ['status', 'created_at', 'id'], unique=False)
    op.create_index('ix_adoption_requests_applicant_id_created_at', 'adoption_requests',
                    ['applicant_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('adoption_requests')
    op.drop_table('pets')
