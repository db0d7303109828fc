"""append-only audit log: entry numbers, hash versions, triggers refusing UPDATE/DELETE/TRUNCATE

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-20 10:00:00.000000

Issue 12 item 4. audit_event gets ``seq`` (the entry's number in the log, from 1 in id order, unique)
and ``hash_version`` (1: the unkeyed SHA-256 every stored entry was written with; the app writes 2,
an HMAC-SHA256 under FITAPP_AUDIT_KEY, fitapp.audit). Stored entries keep their hashes: rewriting
them here would launder any edit made before. Then triggers make the table append-only: on SQLite
BEFORE UPDATE and BEFORE DELETE triggers abort; on PostgreSQL one function refuses UPDATE and DELETE
(statement-level, so even a statement matching no row is refused) and TRUNCATE. Production's role
setup (the app's role with only INSERT and SELECT on the table) is in docs/security.md.

A later migration that rebuilds audit_event on SQLite (batch_alter_table) drops its triggers with the
old table and must create them again: tests/test_audit.py checks they are there at the head.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# The rules as of this revision, written out rather than imported: a migration
# must do the same thing however the app changes later.
UNKEYED = 1

# Every stored entry numbered in id order and marked as hashed the old way, in one statement
# (UPDATE ... FROM: PostgreSQL, and SQLite since 3.33).
NUMBER_STORED_ENTRIES = """
UPDATE audit_event SET seq = numbered.n, hash_version = {unkeyed}
FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM audit_event) AS numbered
WHERE numbered.id = audit_event.id
""".format(unkeyed=UNKEYED)

SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
BEGIN
    SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused');
END""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
BEGIN
    SELECT RAISE(ABORT, 'audit_event is append-only: DELETE refused');
END""",
)
SQLITE_DROP = ("DROP TRIGGER IF EXISTS audit_event_no_delete", "DROP TRIGGER IF EXISTS audit_event_no_update")

POSTGRESQL_TRIGGERS = (
    """CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$""",
    """CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()""",
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()""",
)
POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
    "DROP TRIGGER IF EXISTS audit_event_no_update_delete ON audit_event",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
)


def upgrade():
    # Nullable first, NOT NULL once every stored entry has its number (SQLite rebuilds the table
    # for that, before the triggers exist).
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('hash_version', sa.SmallInteger(), nullable=True))
    op.execute(NUMBER_STORED_ENTRIES)
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('hash_version', existing_type=sa.SmallInteger(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_event_seq'), ['seq'])
    triggers = POSTGRESQL_TRIGGERS if op.get_bind().dialect.name == 'postgresql' else SQLITE_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade():
    drops = POSTGRESQL_DROP if op.get_bind().dialect.name == 'postgresql' else SQLITE_DROP
    for statement in drops:
        op.execute(statement)
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_event_seq'), type_='unique')
        batch_op.drop_column('hash_version')
        batch_op.drop_column('seq')
