"""supervision: links, records, progress reports, evidence, rectification, termination

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('grant_supervisor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('supervisor_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['grant_id'], ['grant.id'], ),
    sa.ForeignKeyConstraint(['supervisor_id'], ['supervisor.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('grant_id', 'supervisor_id')
    )
    with op.batch_alter_table('grant_supervisor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grant_supervisor_grant_id'), ['grant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grant_supervisor_supervisor_id'), ['supervisor_id'], unique=False)

    op.create_table('grant_termination',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('released_fen', sa.BigInteger(), nullable=False),
    sa.Column('accepted_spend_fen', sa.BigInteger(), nullable=False),
    sa.Column('clawback_fen', sa.BigInteger(), nullable=False),
    sa.Column('cancelled_fen', sa.BigInteger(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('terminated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['grant_id'], ['grant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('grant_id')
    )
    op.create_table('evidence_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkpoint_id', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('media_type', sa.String(length=60), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('uploaded_by', sa.String(length=100), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoint.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('checkpoint_id', 'owner', 'sha256')
    )
    with op.batch_alter_table('evidence_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_file_checkpoint_id'), ['checkpoint_id'], unique=False)

    op.create_table('progress_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkpoint_id', sa.Integer(), nullable=False),
    sa.Column('activities', sa.JSON(), nullable=False),
    sa.Column('person_times', sa.Integer(), nullable=False),
    sa.Column('beneficiaries', sa.Integer(), nullable=False),
    sa.Column('spending', sa.JSON(), nullable=False),
    sa.Column('problems', sa.Text(), nullable=False),
    sa.Column('changes', sa.Text(), nullable=False),
    sa.Column('draft', sa.Boolean(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoint.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('checkpoint_id')
    )
    op.create_table('rectification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('checkpoint_id', sa.Integer(), nullable=False),
    sa.Column('recheck_id', sa.Integer(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('open', 'passed', 'failed', 'lapsed', name='rectificationstate', native_enum=False, length=32), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoint.id'], ),
    sa.ForeignKeyConstraint(['grant_id'], ['grant.id'], ),
    sa.ForeignKeyConstraint(['recheck_id'], ['checkpoint.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('checkpoint_id')
    )
    with op.batch_alter_table('rectification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectification_grant_id'), ['grant_id'], unique=False)

    with op.batch_alter_table('checkpoint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('token_nonce', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('report_nonce', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('score', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('outcome_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('checkpoint_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('visit_mode', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('beneficiaries', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('computed_passed', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('override_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('rectify', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('draft', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()))
        batch_op.create_unique_constraint('uq_checkpoint_report_checkpoint', ['checkpoint_id'])

    with op.batch_alter_table('supervisor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expertise', sa.String(length=200), nullable=False, server_default=''))



def downgrade() -> None:
    with op.batch_alter_table('supervisor', schema=None) as batch_op:
        batch_op.drop_column('expertise')

    with op.batch_alter_table('checkpoint_report', schema=None) as batch_op:
        batch_op.drop_constraint('uq_checkpoint_report_checkpoint', type_='unique')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('draft')
        batch_op.drop_column('rectify')
        batch_op.drop_column('override_reason')
        batch_op.drop_column('computed_passed')
        batch_op.drop_column('beneficiaries')
        batch_op.drop_column('visit_mode')
        batch_op.drop_column('visit_date')

    with op.batch_alter_table('checkpoint', schema=None) as batch_op:
        batch_op.drop_column('settled_at')
        batch_op.drop_column('outcome_reason')
        batch_op.drop_column('score')
        batch_op.drop_column('report_nonce')
        batch_op.drop_column('token_nonce')
        batch_op.drop_column('report_due_on')

    with op.batch_alter_table('rectification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectification_grant_id'))

    op.drop_table('rectification')
    op.drop_table('progress_report')
    with op.batch_alter_table('evidence_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_file_checkpoint_id'))

    op.drop_table('evidence_file')
    op.drop_table('grant_termination')
    with op.batch_alter_table('grant_supervisor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grant_supervisor_supervisor_id'))
        batch_op.drop_index(batch_op.f('ix_grant_supervisor_grant_id'))

    op.drop_table('grant_supervisor')
