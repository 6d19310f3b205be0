"""final evaluation: the expert panel's sheets and the two parts of a final score

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('panel_sheet',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('checkpoint_id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('invited', 'draft', 'submitted', 'declined', 'conflicted', name='assignmentstate', native_enum=False, length=32), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('token_nonce', sa.String(length=64), nullable=False),
    sa.Column('score', sa.String(length=40), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoint.id'], ),
    sa.ForeignKeyConstraint(['competition_id'], ['competition.id'], ),
    sa.ForeignKeyConstraint(['expert_id'], ['expert.id'], ),
    sa.ForeignKeyConstraint(['grant_id'], ['grant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('checkpoint_id', 'expert_id')
    )
    with op.batch_alter_table('panel_sheet', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panel_sheet_checkpoint_id'), ['checkpoint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_panel_sheet_competition_id'), ['competition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_panel_sheet_expert_id'), ['expert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_panel_sheet_grant_id'), ['grant_id'], unique=False)

    with op.batch_alter_table('final_evaluation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supervisor_score', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('panel_score', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('panel_weight', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('panel_counted', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('panel_assigned', sa.Integer(), server_default='0', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('final_evaluation', schema=None) as batch_op:
        batch_op.drop_column('panel_assigned')
        batch_op.drop_column('panel_counted')
        batch_op.drop_column('panel_weight')
        batch_op.drop_column('panel_score')
        batch_op.drop_column('supervisor_score')

    with op.batch_alter_table('panel_sheet', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_panel_sheet_grant_id'))
        batch_op.drop_index(batch_op.f('ix_panel_sheet_expert_id'))
        batch_op.drop_index(batch_op.f('ix_panel_sheet_competition_id'))
        batch_op.drop_index(batch_op.f('ix_panel_sheet_checkpoint_id'))

    op.drop_table('panel_sheet')
