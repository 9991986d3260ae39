"""Answer records: every question from the moment it goes to the back ends (``asked``), then
what became of it (``answered``, ``not_found``, ``backend_failed``, ``interrupted``), with the
back end, entry and back-end message id that feedback on the answer is tied to.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("message_id", sa.String(64), primary_key=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("backend", sa.String(64), nullable=False),
        sa.Column("entry_id", sa.String(128), nullable=False),
        sa.Column("backend_metadata", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_answers_state", "answers", ["state"])
    op.create_index("ix_answers_created_at", "answers", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_answers_created_at", "answers")
    op.drop_index("ix_answers_state", "answers")
    op.drop_table("answers")
