"""corrections and due follow-ups

Numbered action log entries with edits and corrections, the due-day follow-up per plan item, and each
user's direct chat.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("direct_room_id", sa.String(length=255), nullable=True))
    with op.batch_alter_table("plan_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_followup", sa.Boolean(), server_default=sa.true(), nullable=False))
    with op.batch_alter_table("action_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("change", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("corrects_id", sa.Integer(), nullable=True))
    # Existing entries are numbered per case in the order they were logged.
    op.execute(
        "UPDATE action_entries SET number = (SELECT COUNT(*) FROM action_entries AS earlier "
        "WHERE earlier.case_id = action_entries.case_id AND earlier.id <= action_entries.id)"
    )
    with op.batch_alter_table("action_entries", schema=None) as batch_op:
        batch_op.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint("uq_action_entries_case_id_number", ["case_id", "number"])
        batch_op.create_foreign_key(
            "fk_action_entries_corrects_id_action_entries", "action_entries", ["corrects_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("action_entries", schema=None) as batch_op:
        batch_op.drop_constraint("fk_action_entries_corrects_id_action_entries", type_="foreignkey")
        batch_op.drop_constraint("uq_action_entries_case_id_number", type_="unique")
        batch_op.drop_column("corrects_id")
        batch_op.drop_column("change")
        batch_op.drop_column("number")
    with op.batch_alter_table("plan_items", schema=None) as batch_op:
        batch_op.drop_column("due_followup")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("direct_room_id")
