"""The live floor and its anonymous dwell heatmap.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "floor_dwell",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cell_x", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cell_y", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "cell_x", "cell_y", name=op.f("pk_floor_dwell")),
    )


def downgrade() -> None:
    op.drop_table("floor_dwell")
