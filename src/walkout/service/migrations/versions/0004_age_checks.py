"""Age checks for restricted products, and the ``age_check`` staff task kind.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def _task_kinds(*kinds: str) -> None:
    """Let ``staff_tasks.kind`` take exactly ``kinds`` (SQLite rebuilds the table)."""
    allowed = ", ".join(f"'{k}'" for k in kinds)
    with op.batch_alter_table("staff_tasks") as batch:
        batch.drop_constraint(op.f("ck_staff_tasks_taskkind"), type_="check")
        batch.create_check_constraint(
            op.f("ck_staff_tasks_taskkind"), sa.text(f"kind IN ({allowed})")
        )


def upgrade() -> None:
    _task_kinds("restock", "misplaced", "age_check")
    op.create_table(
        "age_checks",
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "open",
                "confirmed",
                "refused",
                name="agecheckstate",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_age_checks_visit_id_visits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["staff_tasks.id"],
            name=op.f("fk_age_checks_task_id_staff_tasks"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["accounts.id"],
            name=op.f("fk_age_checks_decided_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("visit_id", name=op.f("pk_age_checks")),
    )


def downgrade() -> None:
    op.drop_table("age_checks")
    op.execute("DELETE FROM staff_tasks WHERE kind = 'age_check'")
    _task_kinds("restock", "misplaced")
