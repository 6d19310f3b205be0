"""experts and supervisors: deactivated (active) and edited by a person (edited_at)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ('expert', 'supervisor'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
            batch_op.add_column(sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in ('expert', 'supervisor'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('edited_at')
            batch_op.drop_column('active')
