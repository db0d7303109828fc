"""administration, log review, submission keys, shared rate limits

Revision ID: 0005
Revises: 0004b
Create Date: 2026-11-23 14:56:48.422932

One migration for issue 6 and the rest of issue 5: licensed instrument labels,
retention policy history, log reviews, submission keys against double saves,
rate-limit counters shared by workers, a quality group's district scope and a
unit's choice to show therapists their team's cases.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004b'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('instrument_label',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument', sa.String(length=10), nullable=False),
    sa.Column('item', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.CheckConstraint('item BETWEEN 1 AND 4', name=op.f('ck_instrument_label_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument_label')),
    sa.UniqueConstraint('instrument', 'item', name=op.f('uq_instrument_label_instrument_item'))
    )
    op.create_table('rate_limit_counter',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('window_ends', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_counter'))
    )
    op.create_table('log_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('events_count', sa.Integer(), nullable=False),
    sa.Column('flagged_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['staff.id'], name=op.f('fk_log_review_reviewed_by_id_staff')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_log_review_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log_review')),
    sa.UniqueConstraint('unit_id', 'month', name=op.f('uq_log_review_unit_id_month'))
    )
    op.create_table('retention_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('retention_years', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('retention_years >= 1', name=op.f('ck_retention_policy_retention_years')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['staff.id'], name=op.f('fk_retention_policy_changed_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_policy'))
    )
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submission_key', sa.String(length=36), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_session_submission_key'), ['submission_key'])

    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope_district_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_staff_scope_district_id_district'), 'district', ['scope_district_id'], ['id'])

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_cases_visible', sa.Boolean(), server_default='0', nullable=False))




def downgrade():

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('team_cases_visible')

    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_staff_scope_district_id_district'), type_='foreignkey')
        batch_op.drop_column('scope_district_id')

    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_session_submission_key'), type_='unique')
        batch_op.drop_column('submission_key')

    op.drop_table('retention_policy')
    op.drop_table('log_review')
    op.drop_table('rate_limit_counter')
    op.drop_table('instrument_label')

