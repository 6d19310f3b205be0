"""generated_document.path indexed: write_document looks a path up before every document it writes

Without it each lookup scanned the whole table (the unique constraint leads with role, not path):
a year of N applications writes about 7 N documents, so the scans grew as N².

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-07 15:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0018'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('generated_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_generated_document_path'), ['path'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('generated_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_generated_document_path'))
