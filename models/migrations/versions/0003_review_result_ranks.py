"""review result: rank within the pool, standard deviation, tie-break note

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('review_result', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pool_rank', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('std', sa.String(length=40), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('tie_note', sa.Text(), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('review_result', schema=None) as batch_op:
        batch_op.drop_column('tie_note')
        batch_op.drop_column('std')
        batch_op.drop_column('pool_rank')
