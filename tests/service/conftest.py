"""Fixtures of the store service tests: each test gets a fresh schema on SQLite and PostgreSQL.

PostgreSQL is the one at 127.0.0.1:5432 (user postgres, trust auth). When it is unreachable its
tests are skipped, unless ``CI=true``, where they fail.
"""

from __future__ import annotations

import contextlib
import functools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Connection, Engine

from walkout.payments import PaymentProvider
from walkout.service import Settings, create_app
from walkout.service.db import make_engine, upgrade_head

from .helpers import FakeClock, Store, TestClient

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"
PG_DATABASE = "walkout_test"
PG_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DATABASE}"
TEST_SECRET = "test-secret-key-0123456789abcdef0123456789"


@functools.cache
def _pg_problem() -> str | None:
    """None once the test database exists (made if needed), else why PostgreSQL is unusable."""
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            query = "SELECT 1 FROM pg_database WHERE datname = %s"
            if conn.execute(query, (PG_DATABASE,)).fetchone() is None:
                # Another xdist worker may create it at the same moment.
                with contextlib.suppress(
                    psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation
                ):
                    conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    except psycopg.Error as e:
        return f"PostgreSQL at 127.0.0.1:5432 is unreachable: {e}".strip()
    return None


def _require_pg() -> None:
    problem = _pg_problem()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{problem} (CI=true: the PostgreSQL tests must run)")
    pytest.skip(problem)


def _pg_admin(database: str = PG_DATABASE) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(PG_ADMIN.replace("dbname=test", f"dbname={database}"), autocommit=True)


@contextlib.contextmanager
def _empty_database(kind: str, directory: Path) -> Iterator[str]:
    """The URL of an empty database: a new SQLite file, or a new PostgreSQL schema."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'walkout.db'}"
        return
    _require_pg()
    schema = f"t_{uuid.uuid4().hex}"
    with _pg_admin() as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with _pg_admin() as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind, for this test alone."""
    with _empty_database(request.param, tmp_path) as url:
        yield url


def make_settings(db_url: str, data_dir: Path, **overrides: object) -> Settings:
    """Settings for tests: cheap password hashing, a fixed secret, payment retries at once, no
    background order sweep in a test's time."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "database_url": db_url,
        "secret_key": TEST_SECRET,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8,
        "payment_retry_base": 0,
        # Most tests share one connection, which a background sweep must not use at the same
        # time: it stays out of their way (test_orders tests it on a database of its own).
        "pickup_sweep_period": 3600,
        **overrides,
    }
    return Settings.model_validate(values)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A database of each kind migrated once (per test process), shared by rolled-back tests."""
    with _empty_database(request.param, tmp_path_factory.mktemp("db")) as url:
        upgrade_head(make_settings(url, tmp_path_factory.mktemp("data")))
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def connection(migrated_engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction rolled back after the test: each test starts empty."""
    with migrated_engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def settings(migrated_engine: Engine, tmp_path: Path) -> Settings:
    return make_settings(migrated_engine.url.render_as_string(hide_password=False), tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@contextlib.contextmanager
def open_store(
    settings: Settings,
    clock: FakeClock,
    connection: Connection,
    client: tuple[str, int] = ("testclient", 50000),
    provider: PaymentProvider | None = None,
) -> Iterator[Store]:
    """The service, within the test's transaction, at the clock's time, called from ``client``;
    with ``provider`` instead of the one the settings choose."""
    app = create_app(settings, clock, bind=connection, provider=provider)
    with TestClient(app, client=client) as test_client:
        yield Store(test_client, app.state.services)


@pytest.fixture
def store(settings: Settings, clock: FakeClock, connection: Connection) -> Iterator[Store]:
    with open_store(settings, clock, connection) as store:
        yield store
