"""survey reminders: when a run was last reminded

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("survey_runs") as batch:
        batch.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_survey_runs_status_updated", "survey_runs", ["status", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_survey_runs_status_updated", table_name="survey_runs")
    with op.batch_alter_table("survey_runs") as batch:
        batch.drop_column("reminded_at")
