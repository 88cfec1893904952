"""Migrations: from empty to head on both databases, and no drift from the models."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, Table, inspect

from walkout.service.db import Base, alembic_config, make_engine, upgrade_head

from .conftest import make_settings

TABLES = {
    "accounts",
    "api_tokens",
    "sign_in_failures",
    "visits",
    "admissions",
    "payment_customers",
    "cards",
    "cart_events",
    "cart_lines",
    "receipts",
    "receipt_lines",
    "payments",
    "disputes",
    "stock",
    "staff_tasks",
    "age_checks",
    "consent_changes",
    "erasures",
    "orders",
    "order_lines",
    "order_stock",
    "floor_dwell",
}


def test_upgrade_head_from_empty_then_no_drift(db_url: str, tmp_path: Path) -> None:
    upgrade_head(make_settings(db_url, tmp_path))
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) == TABLES | {"alembic_version"}
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            head = ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
            assert context.get_current_revision() == head
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_upgrade_is_idempotent_and_downgrade_empties(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(db_url, tmp_path)
    upgrade_head(settings)
    upgrade_head(settings)  # what every `walkout serve` start does
    command.downgrade(alembic_config(db_url), "base")
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) == {"alembic_version"}
    finally:
        engine.dispose()
    upgrade_head(settings)


def test_drift_would_be_found(db_url: str, tmp_path: Path) -> None:
    """The drift check is not vacuous: a column the migrations lack is reported."""
    upgrade_head(make_settings(db_url, tmp_path))
    changed = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    Table("visits", changed, Column("basket_cents", Integer), extend_existing=True)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), changed)
    finally:
        engine.dispose()
    assert [d[0] for d in diff] == ["add_column"]
