"""session version and TOTP second factor on staff

Revision ID: 0004b
Revises: 0004a
Create Date: 2026-11-23 14:00:00.000000

Written by hand. Issue 6 planned this as a sibling of 0004a on 0003; it is
chained after 0004a so the migration history has one head (two heads stop
``flask db upgrade``).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004b'
down_revision = '0004a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('session_version')
