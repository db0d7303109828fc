"""episode summaries and partial indexes for the unit reports

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 18:20:00.000000

Per-episode tallies for the unit reports (metrics.md §6 mean_sessions, srs_mean,
srs_below_36), kept by fitapp.reports.series_store like series_summary. The
upgrade fills a row for every existing episode with one INSERT ... SELECT, so
the reports are right without a `flask refresh-series` after deploying.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# The rules as of this revision, written out rather than imported: a migration
# must do the same thing however the app changes later. Live sessions; live
# self-rated SRS/CSRS ratings of live sessions (YCSRS is not scored), and those
# below 36.0 (360 in tenths). Zeros for an episode with nothing to count.
BACKFILL = """
INSERT INTO episode_summary (episode_id, sessions, srs_ratings, srs_total_x10, srs_below)
SELECT episode.id, COALESCE(held.sessions, 0), COALESCE(srs.ratings, 0), COALESCE(srs.total_x10, 0),
       COALESCE(srs.below, 0)
FROM episode
LEFT JOIN (
    SELECT episode_id, COUNT(*) AS sessions
    FROM session
    WHERE deleted_at IS NULL
    GROUP BY episode_id
) AS held ON held.episode_id = episode.id
LEFT JOIN (
    SELECT session.episode_id, COUNT(*) AS ratings, SUM(rating.total_x10) AS total_x10,
           SUM(CASE WHEN rating.total_x10 < 360 THEN 1 ELSE 0 END) AS below
    FROM rating
    JOIN session ON rating.session_id = session.id
    WHERE rating.deleted_at IS NULL AND session.deleted_at IS NULL
      AND rating.instrument IN ('SRS', 'CSRS') AND rating.subject_id = rating.rater_id
    GROUP BY session.episode_id
) AS srs ON srs.episode_id = episode.id
"""


def upgrade():
    op.create_table('episode_summary',
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('srs_ratings', sa.Integer(), nullable=False),
    sa.Column('srs_total_x10', sa.Integer(), nullable=False),
    sa.Column('srs_below', sa.Integer(), nullable=False),
    sa.CheckConstraint('sessions >= 0 AND srs_ratings >= 0 AND srs_below >= 0 AND srs_below <= srs_ratings', name=op.f('ck_episode_summary_counts')),
    sa.ForeignKeyConstraint(['episode_id'], ['episode.id'], name=op.f('fk_episode_summary_episode_id_episode'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('episode_id', name=op.f('pk_episode_summary'))
    )
    op.execute(BACKFILL)
    # Partial indexes for the unit reports' query: index persons by episode, index series by subject.
    op.create_index('ix_participant_index_person_episode_id', 'participant', ['episode_id'], unique=False,
                    sqlite_where=sa.text("role = 'index'"), postgresql_where=sa.text("role = 'index'"))
    op.create_index('ix_series_summary_index_series_subject_id', 'series_summary', ['subject_id'], unique=False,
                    sqlite_where=sa.text('is_index_series'), postgresql_where=sa.text('is_index_series'))


def downgrade():
    op.drop_index('ix_series_summary_index_series_subject_id', table_name='series_summary')
    op.drop_index('ix_participant_index_person_episode_id', table_name='participant')
    op.drop_table('episode_summary')
