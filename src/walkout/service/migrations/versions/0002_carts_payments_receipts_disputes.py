"""Cards, cart events and lines, receipts, payments, disputes; visits may be ``closed``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def _visit_statuses(*values: str) -> None:
    """Replace the CHECK constraint of visits.status (SQLite: by copying the table)."""
    allowed = ", ".join(f"'{v}'" for v in values)
    with op.batch_alter_table("visits") as batch:
        batch.drop_constraint(op.f("ck_visits_visitstatus"), type_="check")
        batch.create_check_constraint(
            op.f("ck_visits_visitstatus"), sa.text(f"status IN ({allowed})")
        )


def upgrade() -> None:
    _visit_statuses("open", "closed", "unpaid", "paid")
    op.create_table(
        "payment_customers",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        _fk("payment_customers", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("account_id", "provider", name=op.f("pk_payment_customers")),
    )
    op.create_table(
        "cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("method_id", sa.String(length=255), nullable=False),
        sa.Column("brand", sa.String(length=32), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        _fk("cards", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cards")),
        sa.UniqueConstraint("method_id", name=op.f("uq_cards_method_id")),
    )
    op.create_index(op.f("ix_cards_account_id"), "cards", ["account_id"])
    op.create_table(
        "cart_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        _fk("cart_events", "visit_id", "visits"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cart_events")),
        sa.UniqueConstraint("visit_id", "event_id", name=op.f("uq_cart_events_visit_id_event_id")),
    )
    op.create_table(
        "cart_lines",
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        _fk("cart_lines", "visit_id", "visits"),
        sa.PrimaryKeyConstraint("visit_id", "sku", name=op.f("pk_cart_lines")),
    )
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        _fk("receipts", "account_id", "accounts"),
        _fk("receipts", "visit_id", "visits"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("visit_id", name=op.f("uq_receipts_visit_id")),
    )
    op.create_index(op.f("ix_receipts_account_id"), "receipts", ["account_id"])
    op.create_table(
        "receipt_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        _fk("receipt_lines", "receipt_id", "receipts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_lines")),
    )
    op.create_index(op.f("ix_receipt_lines_receipt_id"), "receipt_lines", ["receipt_id"])
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            _enum(
                "paymentstate",
                "pending",
                "authorised",
                "captured",
                "canceled",
                "declined",
                "failed",
            ),
            nullable=False,
        ),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=True),
        sa.Column("method_id", sa.String(length=255), nullable=True),
        sa.Column("authorization_id", sa.String(length=255), nullable=True),
        sa.Column("authorized_amount", sa.Integer(), nullable=True),
        sa.Column("captured_amount", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=512), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("payments", "account_id", "accounts"),
        _fk("payments", "visit_id", "visits"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("visit_id", name=op.f("uq_payments_visit_id")),
    )
    op.create_index(op.f("ix_payments_account_id"), "payments", ["account_id"])
    op.create_index("ix_payments_state", "payments", ["state"])
    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_line_id", sa.Integer(), nullable=False),
        sa.Column("receipt_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column(
            "state",
            _enum("disputestate", "pending", "approved", "refunded", "denied", "failed"),
            nullable=False,
        ),
        sa.Column("refund_id", sa.String(length=255), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("error", sa.String(length=512), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        _fk("disputes", "account_id", "accounts"),
        _fk("disputes", "decided_by", "accounts", ondelete="SET NULL"),
        _fk("disputes", "receipt_id", "receipts"),
        _fk("disputes", "receipt_line_id", "receipt_lines"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
        sa.UniqueConstraint("receipt_line_id", name=op.f("uq_disputes_receipt_line_id")),
    )
    op.create_index(op.f("ix_disputes_account_id"), "disputes", ["account_id"])
    op.create_index("ix_disputes_state", "disputes", ["state"])


def downgrade() -> None:
    op.drop_table("disputes")
    op.drop_table("payments")
    op.drop_table("receipt_lines")
    op.drop_table("receipts")
    op.drop_table("cart_lines")
    op.drop_table("cart_events")
    op.drop_table("cards")
    op.drop_table("payment_customers")
    op.execute("UPDATE visits SET status = 'paid' WHERE status = 'closed'")
    _visit_statuses("open", "unpaid", "paid")
