"""server-side web sessions: web_session (the cookie holds only a random id) and session_form_draft

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 18:40:00.000000

Issue 12 item 3. The session (login, second factor, CSRF token, language), the tablet lock with
its failure count and the drafts of the session form (with the family's ratings) move from the
signed cookie into the database. web_session keeps a keyed digest of the cookie's id, never the
id itself. Sessions in signed cookies from before this revision are not read: everyone logs in
again once.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'web_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key_digest', sa.String(length=64), nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('touched_at', sa.Float(), nullable=False),
        sa.Column('tablet_lock', sa.Text(), nullable=True),
        sa.Column('tablet_failures', sa.Integer(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_web_session')),
        sa.UniqueConstraint('key_digest', name=op.f('uq_web_session_key_digest')),
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_touched_at'), ['touched_at'], unique=False)
    op.create_table(
        'session_form_draft',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('web_session_id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=43), nullable=False),
        sa.Column('episode_id', sa.Integer(), nullable=False),
        sa.Column('form_values', sa.Text(), nullable=False),
        sa.Column('saved_at', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['web_session_id'], ['web_session.id'],
                                name=op.f('fk_session_form_draft_web_session_id_web_session'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_session_form_draft')),
        sa.UniqueConstraint('web_session_id', 'token', name=op.f('uq_session_form_draft_web_session_id_token')),
    )
    with op.batch_alter_table('session_form_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_form_draft_web_session_id'), ['web_session_id'], unique=False)


def downgrade():
    with op.batch_alter_table('session_form_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_form_draft_web_session_id'))
    op.drop_table('session_form_draft')
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_touched_at'))
    op.drop_table('web_session')
