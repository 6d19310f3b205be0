"""console runs: a stage started from the console, one at a time per competition and step

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('console_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=True),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('step', sa.String(length=40), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'done', 'refused', 'failed', name='runstate', native_enum=False, length=32), nullable=False),
    sa.Column('active_key', sa.String(length=120), nullable=True),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('runs_on', sa.String(length=10), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('prefect_run_id', sa.String(length=40), nullable=False),
    sa.Column('prefect_run_name', sa.String(length=200), nullable=False),
    sa.Column('prefect_url', sa.String(length=500), nullable=False),
    sa.Column('prefect_state', sa.String(length=40), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('error_file', sa.String(length=300), nullable=False),
    sa.Column('documents_from', sa.Integer(), nullable=False),
    sa.Column('documents_to', sa.Integer(), nullable=True),
    sa.Column('letters_from', sa.Integer(), nullable=False),
    sa.Column('letters_to', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('active_key')
    )
    with op.batch_alter_table('console_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_run_competition_id'), ['competition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_console_run_state'), ['state'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('console_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_run_state'))
        batch_op.drop_index(batch_op.f('ix_console_run_competition_id'))

    op.drop_table('console_run')
