"""final evaluation: round, passed, outcome and the money spent

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('final_evaluation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('round', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('passed', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('outcome', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('spent_fen', sa.BigInteger(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('final_evaluation', schema=None) as batch_op:
        batch_op.drop_column('spent_fen')
        batch_op.drop_column('outcome')
        batch_op.drop_column('passed')
        batch_op.drop_column('round')
