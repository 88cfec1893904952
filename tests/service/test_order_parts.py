"""The parts of order ahead: slot grid, pickup codes, kit checks, kits on walk-out receipts, and
two shoppers racing for the last kit."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection

from walkout.domain.store import check_store_data
from walkout.payments import LedgerProvider
from walkout.service import Settings
from walkout.service.accounts.service import create_person
from walkout.service.app import build_services
from walkout.service.cards import service as cards
from walkout.service.db import make_engine, upgrade_head
from walkout.service.deps import Services
from walkout.service.entry.token import EntryTokenSigner, ForgedToken
from walkout.service.errors import DomainError
from walkout.service.inventory import service as inventory
from walkout.service.models import (
    Account,
    Receipt,
    ReceiptLine,
    Role,
    Visit,
    VisitRole,
    VisitStatus,
)
from walkout.service.orders import service as orders
from walkout.service.orders import slots, stock
from walkout.service.orders.code import PickupCode, PickupCodeSigner
from walkout.service.orders.schemas import OrderCreate
from walkout.service.settings import default_store_file

from .conftest import make_settings, open_store
from .helpers import PASSWORD, FakeClock
from .shop import Feed, add_card, enter, post_events
from .test_orders import Kit, kit_store_file

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

# Slots ------------------------------------------------------------------------------------


def _slot_settings(**values: Any) -> Settings:
    return make_settings("sqlite://", Path("unused"), **values)


@hypothesis.settings(max_examples=40, deadline=None)
@given(
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
    minutes=st.sampled_from([5, 10, 15, 30, 45, 60]),
    lead=st.integers(0, 6 * 3600),
    now=st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)),
)
def test_every_listed_slot_can_be_booked_and_slots_do_not_overlap(
    zone: str, minutes: int, lead: int, now: datetime
) -> None:
    settings = _slot_settings(
        store_timezone=zone, pickup_slot_minutes=minutes, pickup_lead_time=lead
    )
    found = slots.bookable(settings, now)
    assert found, "a week always has slots"
    for slot, after in itertools.pairwise(found):
        assert slot.end <= after.start
    for slot in found[::23]:
        assert slots.check(settings, now, slot.start) == slot
        assert slot.end - slot.start == timedelta(minutes=minutes)
        local = slot.start.astimezone(slots.ZoneInfo(zone))
        assert settings.pickup_opens <= local.time()
        assert slots.check(settings, now, slot.start + timedelta(minutes=1)) in (
            slots.SlotProblem.NOT_A_SLOT,
            slots.SlotProblem.TOO_FAR,
        )


@given(start=st.datetimes(timezones=st.timezones()))
def test_any_requested_time_gets_a_slot_or_a_reason(start: datetime) -> None:
    assert slots.check(_slot_settings(), NOW, start) is not None


def test_a_dst_day_keeps_local_opening_hours() -> None:
    settings = _slot_settings(store_timezone="Europe/Berlin", pickup_days_ahead=7)
    march_29 = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # clocks go forward on the 29th
    local_starts = [
        s.start.astimezone(slots.ZoneInfo("Europe/Berlin"))
        for s in slots.bookable(settings, march_29)
        if s.start.astimezone(slots.ZoneInfo("Europe/Berlin")).day == 29
    ]
    assert (local_starts[0].hour, local_starts[-1].hour, local_starts[-1].minute) == (8, 19, 45)
    assert local_starts[0].utcoffset() == timedelta(hours=2)


# Pickup codes -----------------------------------------------------------------------------

SIGNER = PickupCodeSigner.from_secret(b"k" * 32)
CODE = PickupCode(7, "0123456789abcdef0123456789abcdef")


def test_codes_round_trip_and_differ_from_entry_tokens() -> None:
    text = SIGNER.sign(CODE)
    assert SIGNER.parse(text) == CODE
    assert text.startswith("wop1.")
    with pytest.raises(ForgedToken):
        PickupCodeSigner.from_secret(b"o" * 32).parse(text)
    entry = EntryTokenSigner.from_secret(b"k" * 32)
    with pytest.raises(ForgedToken):  # the same secret, another key and prefix
        entry.parse(text)


@given(st.data())
def test_any_edit_of_a_code_is_forged(data: st.DataObject) -> None:
    text = SIGNER.sign(CODE)
    i = data.draw(st.integers(0, len(text) - 1))
    other = data.draw(st.characters(codec="ascii").filter(lambda c: c != text[i]))
    with pytest.raises(ForgedToken):
        SIGNER.parse(text[:i] + other + text[i + 1 :])


@given(st.text(max_size=200))
def test_garbage_codes_never_crash(text: str) -> None:
    with pytest.raises(ForgedToken):
        SIGNER.parse(text)


# Meal kits in the store file ----------------------------------------------------------------


def _corner() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(default_store_file().read_text())
    return data


def test_kit_checks_name_each_problem_at_its_path() -> None:
    data = _corner()
    products = data["products"]
    plain = [p for p in products if not p["age_restricted"]]
    beer = next(p for p in products if p["age_restricted"])
    kit, inner = plain[0], plain[1]
    inner["components"] = [{"sku": plain[2]["sku"]}]
    kit["components"] = [
        {"sku": kit["sku"]},
        {"sku": "nope"},
        {"sku": inner["sku"]},
        {"sku": plain[3]["sku"]},
        {"sku": plain[3]["sku"], "qty": 2},
        {"sku": beer["sku"]},
    ]
    i = products.index(kit)
    rendered = [p.render() for p in check_store_data(data)]
    assert rendered == [
        f"products[{i}].components[0].sku: kit {kit['sku']!r} cannot contain itself",
        f"products[{i}].components[1].sku: unknown product 'nope'",
        f"products[{i}].components[2].sku: {inner['sku']!r} is a kit itself: kits cannot nest",
        f"products[{i}].components[4].sku: {plain[3]['sku']!r} is listed twice: add up its qty",
        f"products[{i}].age_restricted: kit {kit['sku']!r} holds age-restricted "
        f"{beer['sku']!r}: mark the kit age_restricted too",
    ]
    kit["components"] = [{"sku": plain[3]["sku"], "qty": 0}]
    assert [p.path for p in check_store_data(data)] == [f"products[{i}].components[0].qty"]


def test_a_valid_kit_passes_and_is_written_back() -> None:
    data = _corner()
    data["products"][0]["components"] = [{"sku": data["products"][1]["sku"], "qty": 3}]
    assert check_store_data(data) == []


# Kits sold at walk-out ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    return kit_store_file(tmp_path_factory.mktemp("kits"))


def test_a_kit_on_a_walk_out_receipt_takes_its_components(
    settings: Settings, clock: FakeClock, connection: Connection, kit: Kit
) -> None:
    with open_store(settings.model_copy(update={"store_file": kit.path}), clock, connection) as s:
        services = s.services
        with services.sessions.begin() as session:
            inventory.set_count(session, services, kit.plate_a, kit.part_a, 9, None)
            inventory.set_count(session, services, kit.plate_b, kit.part_b, 1, None)
            account = create_person(session, services, "k@example.com", PASSWORD, Role.SHOPPER)
            visit = Visit(
                account_id=account.id,
                role=VisitRole.SHOPPER,
                status=VisitStatus.CLOSED,
                entry_gate="entry-1",
                people=1,
                opened_at=clock(),
            )
            session.add(visit)
            session.flush()
            receipt = Receipt(
                visit_id=visit.id,
                account_id=account.id,
                event_id="v1:9",
                currency="USD",
                total=0,
                confidence=1.0,
                flagged=False,
                issued_at=clock(),
            )
            session.add(receipt)
            session.flush()
            for sku, qty in ((kit.kit, 2), (kit.part_a, 1)):
                line = ReceiptLine(
                    receipt_id=receipt.id, sku=sku, name=sku, unit_price=1, qty=qty, confidence=1
                )
                session.add(line)
            session.flush()
            stock.on_receipt(session, services, receipt)
            counts = {f.sku: f.units for f in inventory.facings(session, services)}
        # The plain unit of A moved with its own cart event, not here: 2 kits take 4 A, 2 B.
        assert (counts[kit.part_a], counts[kit.part_b]) == (5, 0)


def test_a_kit_sold_at_walk_out_over_http_takes_its_components_once(
    settings: Settings, clock: FakeClock, connection: Connection, kit: Kit
) -> None:
    with open_store(settings.model_copy(update={"store_file": kit.path}), clock, connection) as s:
        staff = s.person(Role.STAFF)
        for plate, sku in ((kit.plate_a, kit.part_a), (kit.plate_b, kit.part_b)):
            r = s.client.put(
                f"/staff/inventory/{plate}/{sku}", json={"units": 7}, headers=staff.headers
            )
            assert r.status_code == 200, r.text
        shopper = s.person(payment=False)
        add_card(s, shopper)
        gate = s.device()
        feed = Feed(enter(s, gate, shopper), s.services.catalogue)
        leaving = feed.exit({kit.kit: 2})
        assert post_events(s, gate, leaving) == ["applied", "applied"]

        def units() -> tuple[int | None, int | None]:
            r = s.client.get("/staff/inventory", headers=staff.headers)
            assert r.status_code == 200, r.text
            found = {(f["plate"], f["sku"]): f["units"] for f in r.json()}
            return found[kit.plate_a, kit.part_a], found[kit.plate_b, kit.part_b]

        assert units() == (7 - 2 * 2, 7 - 2)
        assert post_events(s, gate, leaving) == ["duplicate", "duplicate"]
        assert units() == (3, 5)


# Two shoppers, one last kit -----------------------------------------------------------------


@pytest.fixture
def services(db_url: str, tmp_path: Path, kit: Kit) -> Iterator[Services]:
    """The service's parts on a database of its own, with real commits."""
    settings = make_settings(db_url, tmp_path, store_file=kit.path)
    upgrade_head(settings)
    engine = make_engine(db_url)
    yield build_services(settings, engine, FakeClock(NOW))
    engine.dispose()


def _shopper(services: Services, email: str) -> Account:
    with services.sessions.begin() as session:
        account = create_person(session, services, email, PASSWORD, Role.SHOPPER)
    provider = services.provider
    assert isinstance(provider, LedgerProvider)
    token = provider.tokenize_card("4242 4242 4242 4242", 12, 2030, "123")
    with services.sessions.begin() as session:
        cards.add_card(session, services, account.id, token)
        found = session.get(Account, account.id)
        assert found is not None
        return found


def test_two_shoppers_racing_for_the_last_kit_get_one_order(services: Services, kit: Kit) -> None:
    with services.sessions.begin() as session:
        inventory.set_count(session, services, kit.plate_a, kit.part_a, 2, None)
        inventory.set_count(session, services, kit.plate_b, kit.part_b, 1, None)
    shoppers = [_shopper(services, f"r{i}@example.com") for i in range(2)]
    request = OrderCreate.model_validate(
        {
            "lines": [{"sku": kit.kit, "qty": 1}],
            "slot_start": (NOW + timedelta(hours=1)).isoformat(),
            "mode": "drive_through",
        }
    )
    barrier = threading.Barrier(2)

    def order(account: Account) -> str:
        barrier.wait()
        with services.sessions() as session:
            try:
                placed = orders.place(session, services, account, request, None)
            except DomainError as e:
                return e.code
            session.commit()
            return placed.status.value

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(order, shoppers))
    assert outcomes == ["placed", "sold_out"]
