"""answer tallies: results counted as each response is sent, per profile cell

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_survey_runs_survey_status", "survey_runs", ["survey_id", "status"])
    op.create_table(
        "respondent_tallies",
        sa.Column("survey_id", sa.String(length=64), nullable=False),
        sa.Column("cell", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("survey_id", "cell", name=op.f("pk_respondent_tallies")),
    )
    op.create_table(
        "answer_tallies",
        sa.Column("survey_id", sa.String(length=64), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("cell", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "survey_id", "question_id", "value", "cell", name=op.f("pk_answer_tallies")
        ),
    )


def downgrade() -> None:
    op.drop_index("ix_survey_runs_survey_status", table_name="survey_runs")
    op.drop_table("answer_tallies")
    op.drop_table("respondent_tallies")
