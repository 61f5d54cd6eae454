"""The (campaign, found_on, id) index also holds status, version and updated_at: the
register's newest-first pages read their rows from the index alone (issue 10).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 00:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_hazard_campaign_found_on_id"


def upgrade() -> None:
    op.drop_index(NAME, table_name="hazard")
    op.create_index(
        NAME, "hazard", ["campaign_id", "found_on", "id", "status", "version", "updated_at"]
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="hazard")
    op.create_index(NAME, "hazard", ["campaign_id", "found_on", "id"])
