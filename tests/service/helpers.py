"""Helpers for the store service tests: a settable clock and a client that knows the roles."""

from __future__ import annotations

import contextlib
import itertools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import Response
from sqlalchemy import Connection, event

from walkout.service.accounts import service as accounts_service
from walkout.service.deps import Services
from walkout.service.models import Account, Role, Visit, VisitStatus

with warnings.catch_warnings():
    # This Starlette prefers the httpx2 package; the httpx installed here works the same.
    warnings.filterwarnings("ignore", message="Using `httpx` with", category=UserWarning)
    from fastapi.testclient import TestClient as TestClient

PASSWORD = "correct horse battery"


@dataclass
class FakeClock:
    """A clock the test moves by hand."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 29, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@contextlib.contextmanager
def statements(connection: Connection) -> Iterator[list[str]]:
    """The SQL statements sent on ``connection`` while in the block, to count what a request
    costs."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])  # (connection, cursor, statement, parameters, context, many)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(connection, "before_cursor_execute", record)


@dataclass(frozen=True)
class Caller:
    """An account and a bearer token for it."""

    account_id: int
    token: str
    role: Role

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Store:
    """A test client with shortcuts: accounts of each role, direct changes to the database."""

    def __init__(self, client: TestClient, services: Services) -> None:
        self.client = client
        self.services = services
        self._numbers: Iterator[int] = itertools.count(1)

    def edit_account(self, account_id: int, **values: Any) -> None:
        with self.services.sessions.begin() as session:
            account = session.get(Account, account_id)
            assert account is not None
            for name, value in values.items():
                setattr(account, name, value)

    def set_visit_status(self, visit_id: int, status: VisitStatus) -> None:
        with self.services.sessions.begin() as session:
            visit = session.get(Visit, visit_id)
            assert visit is not None
            visit.status = status
            visit.closed_at = self.services.clock()

    def sign_in(self, email: str, password: str = PASSWORD) -> Response:
        r: Response = self.client.post("/auth/sign-in", json={"email": email, "password": password})
        return r

    def person(self, role: Role = Role.SHOPPER, *, payment: bool = True) -> Caller:
        """A signed-in person (shoppers sign up over HTTP; others are created like the CLI)."""
        email = f"person{next(self._numbers)}@example.com"
        if role is Role.SHOPPER:
            r = self.client.post("/auth/sign-up", json={"email": email, "password": PASSWORD})
            assert r.status_code == 201, r.text
            account_id = r.json()["id"]
        else:
            assert role is not Role.DEVICE
            with self.services.sessions.begin() as session:
                account = accounts_service.create_person(
                    session, self.services, email, PASSWORD, role
                )
                account_id = account.id
        if payment:
            self.edit_account(account_id, has_payment_method=True)
        r = self.sign_in(email)
        assert r.status_code == 200, r.text
        return Caller(account_id, r.json()["access_token"], role)

    def device(self, manager: Caller | None = None) -> Caller:
        """A gate's account and token, made by a manager over HTTP."""
        manager = manager or self.person(Role.MANAGER)
        r = self.client.post("/devices", json={"name": "entry-1"}, headers=manager.headers)
        assert r.status_code == 201, r.text
        body = r.json()
        return Caller(body["account"]["id"], body["token"]["access_token"], Role.DEVICE)

    def caller(self, role: Role) -> Caller:
        return self.device() if role is Role.DEVICE else self.person(role)

    def entry_token(self, person: Caller) -> str:
        r = self.client.get("/entry/token", headers=person.headers)
        assert r.status_code == 200, r.text
        token: str = r.json()["token"]
        return token

    def scan(self, gate_device: Caller, token: str, gate: str = "entry-1") -> Response:
        r: Response = self.client.post(
            f"/gates/{gate}/scan", json={"token": token}, headers=gate_device.headers
        )
        return r
