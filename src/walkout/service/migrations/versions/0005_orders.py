"""Meal kits and orders ahead for pickup: orders, their lines and the stock they reserve.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _order_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["order_id"], ["orders.id"], name=op.f(f"fk_{table}_order_id_orders"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            _enum(
                "orderstatus",
                "authorising",
                "placed",
                "picking",
                "ready",
                "handing_over",
                "collected",
                "canceled",
                "no_show",
            ),
            nullable=False,
        ),
        sa.Column("mode", _enum("pickupmode", "drive_through", "curb"), nullable=False),
        sa.Column("slot_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("slot_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bay", sa.String(length=32), nullable=True),
        sa.Column("vehicle", sa.String(length=128), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("code_id", sa.String(length=32), nullable=False),
        sa.Column(
            "payment_state",
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
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("method_id", sa.String(length=255), nullable=False),
        sa.Column("authorization_id", sa.String(length=255), nullable=True),
        sa.Column("authorized_amount", sa.Integer(), nullable=True),
        sa.Column("captured_amount", sa.Integer(), nullable=True),
        sa.Column("payment_error", sa.String(length=512), nullable=True),
        sa.Column("id_checked_by", sa.Integer(), nullable=True),
        sa.Column("handed_over_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("picking_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_orders_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["id_checked_by"],
            ["accounts.id"],
            name=op.f("fk_orders_id_checked_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["handed_over_by"],
            ["accounts.id"],
            name=op.f("fk_orders_handed_over_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint(
            "account_id", "idempotency_key", name="uq_orders_account_id_idempotency_key"
        ),
    )
    op.create_index("ix_orders_status_slot_start", "orders", ["status", "slot_start"])
    op.create_index("ix_orders_account_id_id", "orders", ["account_id", "id"])
    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        _order_fk("order_lines"),
        sa.PrimaryKeyConstraint("order_id", "sku", name=op.f("pk_order_lines")),
    )
    op.create_table(
        "order_stock",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        _order_fk("order_stock"),
        sa.PrimaryKeyConstraint("order_id", "sku", name=op.f("pk_order_stock")),
    )
    op.create_index(op.f("ix_order_stock_sku"), "order_stock", ["sku"])


def downgrade() -> None:
    op.drop_index(op.f("ix_order_stock_sku"), table_name="order_stock")
    op.drop_table("order_stock")
    op.drop_table("order_lines")
    op.drop_index("ix_orders_account_id_id", table_name="orders")
    op.drop_index("ix_orders_status_slot_start", table_name="orders")
    op.drop_table("orders")
