"""hazard_due_count: open hazards per campaign and deadline day, so the district overview
reads overdue from counters (issue 10); filled from the hazard table on upgrade.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-28 15:10:12.724524
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# app.hazards.models.OPEN_STATUSES when this revision was written.
OPEN_STATUSES = ("reported", "escalated", "rectifying", "rejected")


def upgrade() -> None:
    op.create_table(
        "hazard_due_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_hazard_due_count_campaign_id_campaign"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazard_due_count")),
        sa.UniqueConstraint(
            "campaign_id", "deadline", name=op.f("uq_hazard_due_count_campaign_id_deadline")
        ),
    )
    hazard = sa.table(
        "hazard", sa.column("campaign_id"), sa.column("deadline"), sa.column("status")
    )
    due = sa.table(
        "hazard_due_count", sa.column("campaign_id"), sa.column("deadline"), sa.column("n")
    )
    op.execute(
        sa.insert(due).from_select(
            ["campaign_id", "deadline", "n"],
            sa.select(hazard.c.campaign_id, hazard.c.deadline, sa.func.count())
            .where(hazard.c.status.in_(OPEN_STATUSES), hazard.c.deadline.is_not(None))
            .group_by(hazard.c.campaign_id, hazard.c.deadline),
        )
    )


def downgrade() -> None:
    op.drop_table("hazard_due_count")
