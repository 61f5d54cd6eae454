"""The two deadline indexes hold only hazards with a deadline (partial indexes): overdue and
due-soon scans read nothing else, and a registration or an import no longer writes them
(issue 10).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_hazard_status_deadline": ["status", "deadline"],
    "ix_hazard_stats_overdue": [
        "campaign_id",
        "status",
        "deadline",
        "school_id",
        "responsible_org_id",
    ],
}
HAS_DEADLINE = sa.text("deadline IS NOT NULL")


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="hazard")
        op.create_index(
            name,
            "hazard",
            columns,
            sqlite_where=HAS_DEADLINE,
            postgresql_where=HAS_DEADLINE,
        )


def downgrade() -> None:
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="hazard")
        op.create_index(name, "hazard", columns)
