"""Stock per facing and staff tasks (restock, misplaced items).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_OPEN_RESTOCK = "kind = 'restock' AND closed_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "stock",
        sa.Column("plate", sa.String(length=128), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("units", sa.Integer(), nullable=True),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("last_event_id", sa.String(length=255), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("plate", "sku", name=op.f("pk_stock")),
    )
    op.create_table(
        "staff_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "restock",
                "misplaced",
                name="taskkind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("plate", sa.String(length=128), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.String(length=255), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_staff_tasks_visit_id_visits"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"],
            ["accounts.id"],
            name=op.f("fk_staff_tasks_closed_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_tasks")),
    )
    op.create_index("ix_staff_tasks_closed_at", "staff_tasks", ["closed_at"])
    op.create_index(
        "uq_staff_tasks_open_restock",
        "staff_tasks",
        ["plate", "sku"],
        unique=True,
        sqlite_where=sa.text(_OPEN_RESTOCK),
        postgresql_where=sa.text(_OPEN_RESTOCK),
    )


def downgrade() -> None:
    op.drop_table("staff_tasks")
    op.drop_table("stock")
