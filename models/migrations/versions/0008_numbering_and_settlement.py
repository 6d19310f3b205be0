"""the 文号 registry (document_number_series, document_number) and each tranche's paid and
settled-off amounts (tranche.paid_fen, tranche.reduced_fen)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-09 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('document_number_series',
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('prefix', 'year')
    )
    op.create_table('document_number',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('subject_entity', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('assigned_at', models.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['competition_id'], ['competition.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'subject_entity', 'subject_id'),
    sa.UniqueConstraint('prefix', 'year', 'seq')
    )
    with op.batch_alter_table('document_number', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_number_competition_id'), ['competition_id'], unique=False)

    with op.batch_alter_table('tranche', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid_fen', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('reduced_fen', sa.BigInteger(), server_default='0', nullable=False))
    # a tranche released before this revision was paid in full
    op.execute("UPDATE tranche SET paid_fen = amount_fen WHERE state = 'released'")


def downgrade() -> None:
    with op.batch_alter_table('tranche', schema=None) as batch_op:
        batch_op.drop_column('reduced_fen')
        batch_op.drop_column('paid_fen')

    with op.batch_alter_table('document_number', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_number_competition_id'))

    op.drop_table('document_number')
    op.drop_table('document_number_series')
