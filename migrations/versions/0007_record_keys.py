"""record keys for the cell-key method and the perturbation table in force

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-14 10:00:00.000000

metrics.md §7.2: every episode, participant and rating gets a record key, a
random integer below 10^9 from the operating system's cryptographic
generator. Rows stored before this revision get theirs here, each its own,
in batches; then the columns become NOT NULL. The derived episode_summary
gets the sums of the record keys of the ratings srs_ratings and srs_below
count, and index_person_summary the index participant's record key: both
are recomputed whole in SQL from the keys just drawn, as 0006 filled them,
so the reports are right without a `flask refresh-series` after deploying.
Also the perturbation_table the `ptable use` command writes (§7.3).

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# The rules as of this revision, written out rather than imported: a migration
# must do the same thing however the app changes later.
RECORD_KEY_MODULUS = 10**9
KEYED_TABLES = ('episode', 'participant', 'rating')
# Rows per executemany: bounded memory however large the city.
BATCH = 10_000

# episode_summary recomputed whole, as 0006 filled it, now with the key sums: live sessions; live
# self-rated SRS/CSRS ratings of live sessions (YCSRS is not scored), and those below 36.0 (360 in
# tenths), with the sums of their record keys. Grouped joins rather than a subquery per row: on a
# freshly rewritten table PostgreSQL would otherwise scan the ratings once per episode.
EPISODE_SUMMARY = """
INSERT INTO episode_summary (episode_id, sessions, srs_ratings, srs_total_x10, srs_below, srs_key_sum,
                             srs_below_key_sum)
SELECT episode.id, COALESCE(held.sessions, 0), COALESCE(srs.ratings, 0), COALESCE(srs.total_x10, 0),
       COALESCE(srs.below, 0), COALESCE(srs.key_sum, 0), COALESCE(srs.below_key_sum, 0)
FROM episode
LEFT JOIN (
    SELECT episode_id, COUNT(*) AS sessions
    FROM session
    WHERE deleted_at IS NULL
    GROUP BY episode_id
) AS held ON held.episode_id = episode.id
LEFT JOIN (
    SELECT session.episode_id, COUNT(*) AS ratings, SUM(rating.total_x10) AS total_x10,
           SUM(CASE WHEN rating.total_x10 < 360 THEN 1 ELSE 0 END) AS below,
           SUM(rating.record_key) AS key_sum,
           SUM(CASE WHEN rating.total_x10 < 360 THEN rating.record_key ELSE 0 END) AS below_key_sum
    FROM rating
    JOIN session ON rating.session_id = session.id
    WHERE rating.deleted_at IS NULL AND session.deleted_at IS NULL
      AND rating.instrument IN ('SRS', 'CSRS') AND rating.subject_id = rating.rater_id
    GROUP BY session.episode_id
) AS srs ON srs.episode_id = episode.id
"""

# index_person_summary recomputed whole too, as 0006 filled it, now with the participant's record key:
# every index participant with the person's birth year and gender and the stored §5 index series
# (series_summary is kept current by the app, so it can be copied).
INDEX_PERSON_SUMMARY = """
INSERT INTO index_person_summary (participant_id, episode_id, person_id, birth_year, gender, record_key,
    instrument, n, intake_date, intake_x10, last_date, last_x10, change_x10, cutoff_x100, rc_x100,
    intake_clinical, category, parameter_set)
SELECT participant.id, participant.episode_id, participant.person_id, person.birth_year, person.gender,
       participant.record_key, series.instrument, series.n, series.intake_date, series.intake_x10,
       series.last_date, series.last_x10, series.change_x10, series.cutoff_x100, series.rc_x100,
       series.intake_clinical, series.category, series.parameter_set
FROM participant
JOIN person ON person.id = participant.person_id
LEFT JOIN series_summary AS series ON series.subject_id = participant.id AND series.is_index_series
WHERE participant.role = 'index'
"""


def _draw_record_keys(connection, table: str) -> None:
    """Give every row of ``table`` its own record key, a batch of ids at a time (keyset paging by id)."""
    next_ids = sa.text(f"SELECT id FROM {table} WHERE id > :after ORDER BY id LIMIT {BATCH}")
    set_key = sa.text(f"UPDATE {table} SET record_key = :record_key WHERE id = :id")
    after = 0
    while ids := connection.execute(next_ids, {"after": after}).scalars().all():
        connection.execute(set_key, [{"id": row_id, "record_key": secrets.randbelow(RECORD_KEY_MODULUS)}
                                     for row_id in ids])
        after = ids[-1]


def upgrade():
    op.create_table('perturbation_table',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('table_id', sa.String(length=80), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_perturbation_table'))
    )

    # Nullable first (SQLite adds a column in place), NOT NULL once every row has its key
    # (SQLite rebuilds the table for that, keeping its constraints and indexes).
    for table in KEYED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('record_key', sa.Integer(), nullable=True))
    connection = op.get_bind()
    for table in KEYED_TABLES:
        _draw_record_keys(connection, table)
    for table in KEYED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('record_key', existing_type=sa.Integer(), nullable=False)

    with op.batch_alter_table('episode_summary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('srs_key_sum', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('srs_below_key_sum', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('index_person_summary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_key', sa.Integer(), nullable=True))
    op.execute("DELETE FROM episode_summary")
    op.execute(EPISODE_SUMMARY)
    op.execute("DELETE FROM index_person_summary")
    op.execute(INDEX_PERSON_SUMMARY)
    with op.batch_alter_table('episode_summary', schema=None) as batch_op:
        batch_op.alter_column('srs_key_sum', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('srs_below_key_sum', existing_type=sa.BigInteger(), nullable=False)
    with op.batch_alter_table('index_person_summary', schema=None) as batch_op:
        batch_op.alter_column('record_key', existing_type=sa.Integer(), nullable=False)


def downgrade():
    with op.batch_alter_table('index_person_summary', schema=None) as batch_op:
        batch_op.drop_column('record_key')
    with op.batch_alter_table('episode_summary', schema=None) as batch_op:
        batch_op.drop_column('srs_below_key_sum')
        batch_op.drop_column('srs_key_sum')
    for table in reversed(KEYED_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('record_key')
    op.drop_table('perturbation_table')
