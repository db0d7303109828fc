"""episode and index person summaries for the unit reports

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 18:20:00.000000

Per-episode tallies (metrics.md §6 mean_sessions, srs_mean, srs_below_36) and
each index participant with birth year, gender and §5 index series, for the
unit reports, kept by fitapp.reports.series_store like series_summary. The
upgrade fills both with one INSERT ... SELECT each, so the reports are right
without a `flask refresh-series` after deploying.

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

# Every index participant with the person's birth year and gender and the stored §5 index series
# (series_summary is kept current by the app, so it can be copied).
INDEX_PERSON_BACKFILL = """
INSERT INTO index_person_summary (participant_id, episode_id, person_id, birth_year, gender, instrument, n,
    intake_date, intake_x10, last_date, last_x10, change_x10, cutoff_x100, rc_x100, intake_clinical, category,
    parameter_set)
SELECT participant.id, participant.episode_id, participant.person_id, person.birth_year, person.gender,
       series.instrument, series.n, series.intake_date, series.intake_x10, series.last_date, series.last_x10,
       series.change_x10, series.cutoff_x100, series.rc_x100, series.intake_clinical, series.category,
       series.parameter_set
FROM participant
JOIN person ON person.id = participant.person_id
LEFT JOIN series_summary AS series ON series.subject_id = participant.id AND series.is_index_series
WHERE participant.role = 'index'
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
    op.create_table('index_person_summary',
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('gender', sa.String(length=10), nullable=True),
    sa.Column('instrument', sa.String(length=10), nullable=True),
    sa.Column('n', sa.Integer(), nullable=True),
    sa.Column('intake_date', sa.Date(), nullable=True),
    sa.Column('intake_x10', sa.Integer(), nullable=True),
    sa.Column('last_date', sa.Date(), nullable=True),
    sa.Column('last_x10', sa.Integer(), nullable=True),
    sa.Column('change_x10', sa.Integer(), nullable=True),
    sa.Column('cutoff_x100', sa.Integer(), nullable=True),
    sa.Column('rc_x100', sa.Integer(), nullable=True),
    sa.Column('intake_clinical', sa.Boolean(), nullable=True),
    sa.Column('category', sa.String(length=20), nullable=True),
    sa.Column('parameter_set', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['episode_id'], ['episode.id'], name=op.f('fk_index_person_summary_episode_id_episode'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_index_person_summary_participant_id_participant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_index_person_summary_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('participant_id', name=op.f('pk_index_person_summary'))
    )
    with op.batch_alter_table('index_person_summary', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_index_person_summary_episode_id'), ['episode_id'], unique=False)
    op.execute(INDEX_PERSON_BACKFILL)


def downgrade():
    with op.batch_alter_table('index_person_summary', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_index_person_summary_episode_id'))
    op.drop_table('index_person_summary')
    op.drop_table('episode_summary')
