"""funding: the decision's rule, amounts and ties; 公示 notices and objections; grant and tranche notes

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'publicity_notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('competition_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('working_days', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['competition_id'], ['competition.id']),
        sa.ForeignKeyConstraint(['document_id'], ['generated_document.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('competition_id', 'seq'),
    )
    op.create_index(
        op.f('ix_publicity_notice_competition_id'), 'publicity_notice', ['competition_id'], unique=False
    )
    op.create_table(
        'objection',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('competition_id', sa.Integer(), nullable=False),
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('raised_by', sa.String(length=100), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('state', sa.Enum('open', 'upheld', 'dismissed', name='objectionstate',
                                   native_enum=False, create_constraint=False, length=32), nullable=False),
        sa.Column('resolution', sa.Text(), nullable=False),
        sa.Column('resolved_by', sa.String(length=100), nullable=False),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.ForeignKeyConstraint(['competition_id'], ['competition.id']),
        sa.ForeignKeyConstraint(['notice_id'], ['publicity_notice.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_objection_application_id'), 'objection', ['application_id'], unique=False)
    op.create_index(op.f('ix_objection_competition_id'), 'objection', ['competition_id'], unique=False)
    op.create_index(op.f('ix_objection_notice_id'), 'objection', ['notice_id'], unique=False)
    with op.batch_alter_table('funding_decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pool_rank', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('score', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('rule', sa.String(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('computed_fen', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('left_fen', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('adjusted_fen', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('adjust_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('adjusted_by', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('tie_open', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('tie_precedence', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('excluded_reason', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('grant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sign_by', sa.Date(), nullable=True))
    with op.batch_alter_table('tranche', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('tranche', schema=None) as batch_op:
        batch_op.drop_column('note')
    with op.batch_alter_table('grant', schema=None) as batch_op:
        batch_op.drop_column('sign_by')
    with op.batch_alter_table('funding_decision', schema=None) as batch_op:
        for name in ('excluded_reason', 'tie_precedence', 'tie_open', 'adjusted_by', 'adjust_reason',
                     'adjusted_fen', 'left_fen', 'computed_fen', 'rule', 'score', 'pool_rank'):
            batch_op.drop_column(name)
    op.drop_index(op.f('ix_objection_notice_id'), table_name='objection')
    op.drop_index(op.f('ix_objection_competition_id'), table_name='objection')
    op.drop_index(op.f('ix_objection_application_id'), table_name='objection')
    op.drop_table('objection')
    op.drop_index(op.f('ix_publicity_notice_competition_id'), table_name='publicity_notice')
    op.drop_table('publicity_notice')
