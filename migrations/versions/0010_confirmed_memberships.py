"""separation of duties: confirmed memberships, forced password change after an administrator's reset

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-22 10:00:00.000000

Issue 12 item 2. unit_membership gets ``confirmed_at`` and ``confirmed_by_id`` (a membership an
administrator made grants nothing until a unit head of the unit, or for a unit without one a second
administrator, confirms it) and ``requested_by_id`` (the administrator whose change made it pending,
who may not confirm it) and ``pending_reason``. Every membership stored before this revision was in force: it is marked
confirmed now (``confirmed_by_id`` NULL, as a confirmation on the command line), so running units
keep working. staff gets ``must_change_password`` and the newest administrator's reset
(``password_reset_at``, ``password_reset_by_id``).

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

CONFIRM_STORED_MEMBERSHIPS = "UPDATE unit_membership SET confirmed_at = CURRENT_TIMESTAMP"


def upgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('password_reset_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('password_reset_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_staff_password_reset_by_id_staff'), 'staff',
                                    ['password_reset_by_id'], ['id'])

    with op.batch_alter_table('unit_membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requested_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('confirmed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pending_reason', sa.String(length=20), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_unit_membership_requested_by_id_staff'), 'staff',
                                    ['requested_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_unit_membership_confirmed_by_id_staff'), 'staff',
                                    ['confirmed_by_id'], ['id'])

    op.execute(CONFIRM_STORED_MEMBERSHIPS)


def downgrade():
    with op.batch_alter_table('unit_membership', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_unit_membership_confirmed_by_id_staff'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_unit_membership_requested_by_id_staff'), type_='foreignkey')
        batch_op.drop_column('pending_reason')
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('confirmed_by_id')
        batch_op.drop_column('requested_by_id')

    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_staff_password_reset_by_id_staff'), type_='foreignkey')
        batch_op.drop_column('password_reset_by_id')
        batch_op.drop_column('password_reset_at')
        batch_op.drop_column('must_change_password')
