"""outbox_letter indexed by (competition, state): a sender's claim and the delivery's counts

By competition alone (its only index the planner took) each claim of ten letters walked every
letter of the competition's year: a year of N applications sends about 7 N letters in batches of
ten, so the walks grew as N².

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 18:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_letter', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_letter_competition_state', ['competition_id', 'state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_letter', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_letter_competition_state')
