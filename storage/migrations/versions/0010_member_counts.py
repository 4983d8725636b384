"""member counts by triggers; residents by status and joining; sent responses kept whole

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 17:00:00

Triggers (not application code) keep the counts, so every path that changes a member, their
locality or their profile is counted, including cascaded deletes. A resident's own rows are taken
away BEFORE it is deleted; the cascaded profile deletes then find no member and change nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UPSERT = (  # the SELECTs always have a WHERE, so SQLite reads ON as the upsert
    " ON CONFLICT (locality, feature, value)"
    " DO UPDATE SET members = member_counts.members + excluded.members"
)


def _rows_of(resident: str, sign: str, when: str = "true") -> str:
    """An INSERT of one member's rows (their locality row and each profile answer)."""
    return (
        "INSERT INTO member_counts (locality, feature, value, members)"
        f" SELECT coalesce({resident}.locality, ''), '*', '*', {sign} WHERE {when}"
        " UNION ALL"
        f" SELECT coalesce({resident}.locality, ''), p.feature, p.value, {sign}"
        f" FROM profile_answers p WHERE p.resident_id = {resident}.id AND {when}" + _UPSERT
    )


def _answer(row: str, sign: str) -> str:
    """An INSERT of one profile answer's row, if its resident is a member."""
    return (
        "INSERT INTO member_counts (locality, feature, value, members)"
        f" SELECT coalesce(r.locality, ''), {row}.feature, {row}.value, {sign}"
        f" FROM residents r WHERE r.id = {row}.resident_id AND r.status = 'member'" + _UPSERT
    )


_CHANGED = (
    "(OLD.status = 'member' OR NEW.status = 'member') AND"
    " (OLD.status IS DISTINCT FROM NEW.status OR OLD.locality IS DISTINCT FROM NEW.locality)"
)

_SQLITE = [
    f"""CREATE TRIGGER member_counts_answer_insert AFTER INSERT ON profile_answers
    BEGIN {_answer("NEW", "1")}; END""",
    f"""CREATE TRIGGER member_counts_answer_delete AFTER DELETE ON profile_answers
    BEGIN {_answer("OLD", "-1")}; END""",
    f"""CREATE TRIGGER member_counts_answer_update
    AFTER UPDATE OF resident_id, feature, value ON profile_answers
    BEGIN {_answer("OLD", "-1")}; {_answer("NEW", "1")}; END""",
    f"""CREATE TRIGGER member_counts_resident_insert AFTER INSERT ON residents
    WHEN NEW.status = 'member' BEGIN {_rows_of("NEW", "1")}; END""",
    f"""CREATE TRIGGER member_counts_resident_delete BEFORE DELETE ON residents
    WHEN OLD.status = 'member' BEGIN {_rows_of("OLD", "-1")}; END""",
    f"""CREATE TRIGGER member_counts_resident_update AFTER UPDATE OF status, locality ON residents
    WHEN {_CHANGED}
    BEGIN
      {_rows_of("OLD", "-1", "OLD.status = 'member'")};
      {_rows_of("NEW", "1", "NEW.status = 'member'")};
    END""",
]

_POSTGRESQL = [
    f"""CREATE FUNCTION member_counts_answer() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('DELETE', 'UPDATE') THEN {_answer("OLD", "-1")}; END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') THEN {_answer("NEW", "1")}; END IF;
      RETURN NULL;
    END $$""",
    """CREATE TRIGGER member_counts_answer
    AFTER INSERT OR DELETE OR UPDATE OF resident_id, feature, value ON profile_answers
    FOR EACH ROW EXECUTE FUNCTION member_counts_answer()""",
    f"""CREATE FUNCTION member_counts_resident() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP <> 'INSERT' AND OLD.status = 'member' THEN {_rows_of("OLD", "-1")}; END IF;
      IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
      IF NEW.status = 'member' THEN {_rows_of("NEW", "1")}; END IF;
      RETURN NEW;
    END $$""",
    """CREATE TRIGGER member_counts_resident_insert AFTER INSERT ON residents
    FOR EACH ROW WHEN (NEW.status = 'member') EXECUTE FUNCTION member_counts_resident()""",
    """CREATE TRIGGER member_counts_resident_delete BEFORE DELETE ON residents
    FOR EACH ROW WHEN (OLD.status = 'member') EXECUTE FUNCTION member_counts_resident()""",
    f"""CREATE TRIGGER member_counts_resident_update AFTER UPDATE OF status, locality ON residents
    FOR EACH ROW WHEN ({_CHANGED}) EXECUTE FUNCTION member_counts_resident()""",
]

_FILL = """INSERT INTO member_counts (locality, feature, value, members)
SELECT coalesce(r.locality, ''), '*', '*', count(*) FROM residents r
WHERE r.status = 'member' GROUP BY coalesce(r.locality, '')
UNION ALL
SELECT coalesce(r.locality, ''), p.feature, p.value, count(*)
FROM profile_answers p JOIN residents r ON r.id = p.resident_id
WHERE r.status = 'member' GROUP BY coalesce(r.locality, ''), p.feature, p.value"""


def _cluster_answer_tallies() -> None:
    """SQLite: keep each survey's tallies together in key order (WITHOUT ROWID), read in one run."""
    op.create_table(
        "answer_tallies_clustered",
        sa.Column("survey_id", sa.String(length=64), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("cell", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "survey_id", "question_id", "value", "cell", name=op.f("pk_answer_tallies")
        ),
        sqlite_with_rowid=False,
    )
    op.execute("INSERT INTO answer_tallies_clustered SELECT * FROM answer_tallies")
    op.drop_table("answer_tallies")
    op.rename_table("answer_tallies_clustered", "answer_tallies")


def upgrade() -> None:
    op.create_index("ix_residents_status_joined_at", "residents", ["status", "joined_at"])
    # Sent responses as exports share them; older ones are filled in before their first export.
    op.add_column("survey_runs", sa.Column("cell", sa.String(length=200), nullable=True))
    op.add_column("survey_runs", sa.Column("response", sa.JSON(), nullable=True))
    # Tallies no longer key free text by what it says: count them all again when next needed.
    op.execute("DELETE FROM answer_tallies")
    op.execute("DELETE FROM respondent_tallies")
    if op.get_bind().dialect.name == "sqlite":
        _cluster_answer_tallies()
    op.create_table(
        "member_counts",
        sa.Column("locality", sa.String(length=32), nullable=False),
        sa.Column("feature", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=48), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("locality", "feature", "value", name=op.f("pk_member_counts")),
    )
    op.execute(_FILL)
    dialect = op.get_bind().dialect.name
    for statement in _POSTGRESQL if dialect == "postgresql" else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER member_counts_resident_{name} ON residents")
        op.execute("DROP TRIGGER member_counts_answer ON profile_answers")
        op.execute("DROP FUNCTION member_counts_resident()")
        op.execute("DROP FUNCTION member_counts_answer()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER member_counts_answer_{name}")
            op.execute(f"DROP TRIGGER member_counts_resident_{name}")
    op.drop_table("member_counts")
    op.drop_index("ix_residents_status_joined_at", table_name="residents")
    with op.batch_alter_table("survey_runs") as batch:
        batch.drop_column("response")
        batch.drop_column("cell")
