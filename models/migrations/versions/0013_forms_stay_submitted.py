"""portal forms: an expert's own link (expert.token_nonce) and evidence chosen but not yet saved
(evidence_file.pending)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-20 09:00:00.000000
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('expert', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_nonce', sa.String(length=64), server_default='', nullable=False))
    with op.batch_alter_table('evidence_file', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending', sa.Boolean(), server_default=sa.false(), nullable=False))
    # every expert already stored gets a nonce of their own (an empty one opens nothing)
    connection = op.get_bind()
    expert = sa.table('expert', sa.column('id', sa.Integer()), sa.column('token_nonce', sa.String()))
    for (expert_id,) in connection.execute(sa.select(expert.c.id)).all():
        connection.execute(
            expert.update().where(expert.c.id == expert_id).values(token_nonce=secrets.token_urlsafe(12))
        )


def downgrade() -> None:
    with op.batch_alter_table('evidence_file', schema=None) as batch_op:
        batch_op.drop_column('pending')
    with op.batch_alter_table('expert', schema=None) as batch_op:
        batch_op.drop_column('token_nonce')
