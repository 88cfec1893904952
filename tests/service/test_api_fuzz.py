"""Schemathesis fuzzing of every endpoint: generated input never makes a 5xx (issue #4).

Runs on SQLite; each operation calls as a signed-in account of a role its guard admits.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import Engine
from starlette.routing import BaseRoute

from walkout.service import create_app
from walkout.service.auth import RoleGuard
from walkout.service.db import make_engine, upgrade_head
from walkout.service.models import Role

from .conftest import make_settings, open_store
from .helpers import Caller, FakeClock, Store

#: The role each operation is called as, when its guard admits several: the least privileged.
_PREFERENCE = (Role.SHOPPER, Role.STAFF, Role.MANAGER, Role.DEVICE)


def _guard(dependant: Dependant) -> RoleGuard | None:
    """The role guard among an endpoint's dependencies, however deep."""
    for sub in dependant.dependencies:
        if isinstance(sub.call, RoleGuard):
            return sub.call
        found = _guard(sub)
        if found is not None:
            return found
    return None


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """The endpoints among ``routes``, including those of included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)


def _role_of(method: str, path: str) -> Role | None:
    """The role to call ``method path`` as; None for a public endpoint."""
    for route in _api_routes(_APP.routes):
        if route.path == path and method in (route.methods or ()):
            guard = _guard(route.dependant)
            return None if guard is None else next(r for r in _PREFERENCE if r in guard.roles)
    raise AssertionError(f"no route for {method} {path}")


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A SQLite database migrated once for this module."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'walkout.db'}"
    upgrade_head(make_settings(url, tmp_path_factory.mktemp("data")))
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def fuzz_store(sqlite_engine: Engine, clock: FakeClock, tmp_path: Path) -> Iterator[Store]:
    """The service on SQLite inside a transaction rolled back after each operation's test."""
    settings = make_settings(sqlite_engine.url.render_as_string(hide_password=False), tmp_path)
    with sqlite_engine.connect() as connection:
        transaction = connection.begin()
        with open_store(settings, clock, connection) as store:
            yield store
        transaction.rollback()


@pytest.fixture
def callers(fuzz_store: Store) -> dict[Role, Caller]:
    """One signed-in account of each role, to call each operation as one its guard admits."""
    manager = fuzz_store.person(Role.MANAGER)
    return {
        Role.SHOPPER: fuzz_store.person(Role.SHOPPER),
        Role.STAFF: fuzz_store.person(Role.STAFF),
        Role.MANAGER: manager,
        Role.DEVICE: fuzz_store.device(manager),
    }


# The OpenAPI document does not depend on the database: an app that never serves gives it.
_APP = create_app(make_settings("sqlite://", Path("unused")))
schema = schemathesis.openapi.from_dict(_APP.openapi())


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_errors(
    case: schemathesis.Case[Any], fuzz_store: Store, callers: dict[Role, Caller]
) -> None:
    """Generated input gets a 2xx or 4xx answer that matches the declared response schema."""
    role = _role_of(case.operation.method.upper(), case.operation.path)
    headers = None if role is None else callers[role].headers
    case.call_and_validate(
        app=fuzz_store.client.app,
        headers=headers,
        checks=[not_a_server_error, response_schema_conformance],
    )
