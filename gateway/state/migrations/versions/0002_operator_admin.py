"""Operator admin: unanswered questions keyed by a digest (PostgreSQL cannot index 3,000-byte
texts), with a status (open, resolved, linked) and the entry they were linked to; feedback
indexed by time.

Revision ID: 0002
Revises: 0001
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A new table filled from the old one: the same steps on SQLite and PostgreSQL, and the old
    # unnamed unique constraint on the text goes with the old table.
    new = op.create_table(
        "unanswered_new",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("question_hash", sa.String(64), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("entry_id", sa.String(128), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    )
    connection = op.get_bind()
    old = sa.table(
        "unanswered",
        sa.column("id", sa.Integer),
        *(sa.column(name, sa.Text) for name in ("question", "language", "reason")),
        sa.column("count", sa.Integer),
        sa.column("first_seen", sa.DateTime(timezone=True)),
        sa.column("last_seen", sa.DateTime(timezone=True)),
    )
    rows = [
        {
            **row,
            "question_hash": hashlib.sha256(row["question"].encode("utf-8")).hexdigest(),
            "status": "open",
            "entry_id": "",
            "resolved_at": None,
        }
        for row in connection.execute(sa.select(old)).mappings()
    ]
    if rows:
        op.bulk_insert(new, rows)
    op.drop_table("unanswered")
    op.rename_table("unanswered_new", "unanswered")
    if connection.dialect.name == "postgresql":
        # The copied ids must not be handed out again.
        op.execute("ALTER SEQUENCE unanswered_new_id_seq RENAME TO unanswered_id_seq")
        op.execute(
            "SELECT setval('unanswered_id_seq', COALESCE((SELECT MAX(id) FROM unanswered), 0) + 1,"
            " false)"
        )
        op.execute(
            "ALTER TABLE unanswered RENAME CONSTRAINT unanswered_new_pkey TO unanswered_pkey"
        )
    with op.batch_alter_table("unanswered") as batch:
        batch.create_unique_constraint("uq_unanswered_question_hash", ["question_hash"])
        batch.create_index("ix_unanswered_last_seen", ["last_seen"])
        batch.create_index("ix_unanswered_status", ["status"])
    op.create_index("ix_feedback_created_at", "feedback", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_feedback_created_at", "feedback")
    with op.batch_alter_table("unanswered") as batch:
        batch.drop_index("ix_unanswered_status")
        batch.drop_index("ix_unanswered_last_seen")
        batch.drop_constraint("uq_unanswered_question_hash", type_="unique")
        batch.drop_column("resolved_at")
        batch.drop_column("entry_id")
        batch.drop_column("status")
        batch.drop_column("question_hash")
        batch.create_unique_constraint("uq_unanswered_question", ["question"])
