"""acknowledgements and sync cursors

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:17:45.694048
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_cursors",
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("network", name=op.f("pk_sync_cursors")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("network_event_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("reminder_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_network_event_id"), ["network_event_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_reminder_id_reminders"), "reminders", ["reminder_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_acknowledged_by_users"), "users", ["acknowledged_by"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_outbox_acknowledged_by_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_outbox_reminder_id_reminders"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_outbox_network_event_id"))
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("acknowledged_by")
        batch_op.drop_column("reminder_id")
        batch_op.drop_column("network_event_id")

    op.drop_table("sync_cursors")
