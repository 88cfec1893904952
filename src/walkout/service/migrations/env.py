"""Alembic environment: the URL comes from the caller (``db.alembic_config``) or from Settings."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from walkout.service import models  # noqa: F401  (registers the tables on Base.metadata)
from walkout.service.db import Base, UTCDateTime, make_engine
from walkout.service.settings import Settings


def render_item(kind: str, obj: Any, _ctx: AutogenContext) -> str | Literal[False]:
    """Write our column types as plain SQLAlchemy types, so migrations never import the app."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


url = context.config.attributes.get("url") or Settings().db_url
engine = make_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
