"""A hazard enters the indexes on `responsible_org_id` only when it is handed to a department
(partial indexes; a new one serves a department's register unfiltered by status), and the
school's index also serves the per-school statistics in place of a second index led by the
campaign: a registration or an import writes three indexes fewer (issue 10).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HANDED_OVER = sa.text("responsible_org_id <> school_id")
# Each index before (None: new) and after.
RESPONSIBLE = {
    "ix_hazard_responsible_status_id": (
        ["responsible_org_id", "status", "id"],
        ["responsible_org_id", "status", "id"],
    ),
    "ix_hazard_responsible_id": (None, ["responsible_org_id", "id"]),
    "ix_hazard_stats_responsible": (
        ["campaign_id", "responsible_org_id", "status", "deadline", "reported_at", "closed_at"],
        [
            "campaign_id",
            "responsible_org_id",
            "status",
            "deadline",
            "reported_at",
            "closed_at",
            "school_id",
        ],
    ),
}
SCHOOL = "ix_hazard_school_status_id"
SCHOOL_STATS = "ix_hazard_stats_school"
SCHOOL_STATS_COLUMNS = ["campaign_id", "school_id", "status", "deadline", "reported_at", "closed_at"]


def upgrade() -> None:
    for name, (before, after) in RESPONSIBLE.items():
        if before is not None:
            op.drop_index(name, table_name="hazard")
        op.create_index(
            name, "hazard", after, sqlite_where=HANDED_OVER, postgresql_where=HANDED_OVER
        )
    op.drop_index(SCHOOL_STATS, table_name="hazard")
    op.drop_index(SCHOOL, table_name="hazard")
    op.create_index(
        SCHOOL,
        "hazard",
        ["school_id", "status", "id", "campaign_id", "deadline", "reported_at", "closed_at"],
    )


def downgrade() -> None:
    op.drop_index(SCHOOL, table_name="hazard")
    op.create_index(SCHOOL, "hazard", ["school_id", "status", "id"])
    op.create_index(SCHOOL_STATS, "hazard", SCHOOL_STATS_COLUMNS)
    for name, (before, _) in RESPONSIBLE.items():
        op.drop_index(name, table_name="hazard")
        if before is not None:
            op.create_index(name, "hazard", before)
