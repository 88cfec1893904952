"""Scans of one account at two gates at once are decided one after the other."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from walkout.service.accounts.service import create_person
from walkout.service.app import build_services
from walkout.service.db import make_engine, upgrade_head
from walkout.service.deps import Services
from walkout.service.entry.service import EntryRefused, Refusal, admit, issue
from walkout.service.models import Account, Role

from .conftest import make_settings
from .helpers import PASSWORD, FakeClock


@pytest.fixture
def services(db_url: str, tmp_path: Path) -> Iterator[Services]:
    """The service's parts on a database of its own, with real commits."""
    settings = make_settings(db_url, tmp_path)
    upgrade_head(settings)
    engine = make_engine(db_url)
    yield build_services(settings, engine, FakeClock())
    engine.dispose()


def shopper(services: Services) -> Account:
    with services.sessions.begin() as session:
        account = create_person(session, services, "a@example.com", PASSWORD, Role.SHOPPER)
        account.has_payment_method = True
        return account


@dataclass(frozen=True)
class Race:
    first_visit: int
    second: tuple[int, int] | Refusal  # (visit, people) or why it was refused


def race(services: Services, first_token: str, second_token: str) -> Race:
    """Scan ``second_token`` while the scan of ``first_token`` is admitted but not committed."""
    admitted = threading.Event()

    def first() -> int:
        with services.sessions() as session:
            visit_id = admit(session, services, "entry-1", first_token).visit.id
            admitted.set()
            time.sleep(0.2)  # the second scan is now waiting on this transaction
            session.commit()
            return visit_id

    def second() -> tuple[int, int] | Refusal:
        assert admitted.wait(5)
        with services.sessions() as session:
            try:
                entered = admit(session, services, "entry-2", second_token)
            except EntryRefused as e:
                return e.reason
            session.commit()
            return entered.visit.id, entered.visit.people

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.submit(first), pool.submit(second)
        return Race(a.result(), b.result())


def test_two_group_members_at_once_share_one_visit(services: Services) -> None:
    account = shopper(services)
    first, second = issue(services, account).text, issue(services, account).text
    result = race(services, first, second)
    assert result.second == (result.first_visit, 2)


def test_one_token_at_two_gates_at_once_is_admitted_once(services: Services) -> None:
    account = shopper(services)
    token = issue(services, account).text
    assert race(services, token, token).second is Refusal.REPLAYED
