"""Shopper consent and data export and deletion: the consent log, erasure tombstones, and an
index on when visits opened (store analytics select by it).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "consent_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("personalisation", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_consent_changes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_changes")),
    )
    op.create_index("ix_consent_changes_account_id_id", "consent_changes", ["account_id", "id"])
    op.create_table(
        "erasures",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_erasures_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_erasures")),
    )
    op.create_index("ix_visits_opened_at", "visits", ["opened_at"])


def downgrade() -> None:
    op.drop_index("ix_visits_opened_at", table_name="visits")
    op.drop_table("erasures")
    op.drop_index("ix_consent_changes_account_id_id", table_name="consent_changes")
    op.drop_table("consent_changes")
