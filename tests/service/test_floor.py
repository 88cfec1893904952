"""The live floor: the engine's views, people on visits with their carts, plates' stock, the
store layout, a plate's events and the anonymous dwell heatmap."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, inspect, select

from walkout.domain.events import ItemAdded, ItemRemoved
from walkout.domain.floor import FloorPerson, FloorView
from walkout.service import Settings
from walkout.service.floor.service import CELL_M, WRITE_EVERY
from walkout.service.models import FloorDwell, Role, VisitStatus
from walkout.storefile import load_store

from .conftest import open_store
from .helpers import Caller, FakeClock, Store
from .shop import Feed, enter, post_events


def view(t: float, *people: tuple[str, str | None, float, float]) -> dict[str, Any]:
    body = FloorView(
        t=t, people=[FloorPerson(person=p, token=k, x=x, y=y) for p, k, x, y in people]
    )
    return body.model_dump(mode="json")


def post_view(store: Store, device: Caller, body: dict[str, Any]) -> dict[str, Any]:
    r = store.client.post("/floor", json=body, headers=device.headers)
    assert r.status_code == 200, r.text
    found: dict[str, Any] = r.json()
    return found


def get(store: Store, caller: Caller, path: str, **params: str) -> Any:
    r = store.client.get(path, params=params, headers=caller.headers)
    assert r.status_code == 200, r.text
    return r.json()


def inside(store: Store, staff: Caller, dx: float = 1.2, dy: float = 1.2) -> tuple[float, float]:
    """A floor point ``dx``, ``dy`` from the floor's lower corner."""
    bounds = get(store, staff, "/store/layout")["bounds"]
    return bounds["min_x"] + dx, bounds["min_y"] + dy


def on(event: ItemAdded | ItemRemoved, plate: str) -> ItemAdded | ItemRemoved:
    return event.model_copy(update={"evidence": event.evidence.model_copy(update={"plate": plate})})


def test_people_are_shown_on_their_open_visit_with_the_units_in_its_cart(store: Store) -> None:
    gate, staff = store.device(), store.person(Role.STAFF)
    visit = enter(store, gate, store.person())
    closed = enter(store, gate, store.person())
    store.set_visit_status(closed, VisitStatus.CLOSED)
    feed = Feed(visit, store.services.catalogue)
    sku = next(iter(store.services.catalogue.facings))
    post_events(store, gate, [feed.added(sku, 2), feed.added(sku, 1), feed.removed(sku, 1)])
    x, y = inside(store, staff)
    posted = post_view(
        store,
        gate,
        view(
            12.5,
            ("t1", str(visit), x, y),
            ("t2", None, x + 1, y),
            ("t3", str(closed), x, y + 1),
            ("t4", "not-a-visit", x, y),
        ),
    )
    assert posted == {"people": 4, "dwell_s": 0.0}  # the first view: no time has passed yet
    floor = get(store, staff, "/staff/floor")
    assert floor["t"] == 12.5
    people = {p["person"]: p for p in floor["people"]}
    assert people["t1"] == {
        "person": "t1",
        "visit_id": visit,
        "cart_items": 2,
        "staff": False,
        "x": x,
        "y": y,
    }
    for other in ("t2", "t3", "t4"):
        assert (people[other]["visit_id"], people[other]["cart_items"]) == (None, 0)


def test_a_view_nobody_has_refreshed_for_a_while_shows_nobody(
    store: Store, clock: FakeClock
) -> None:
    gate, staff = store.device(), store.person(Role.STAFF)
    x, y = inside(store, staff)
    post_view(store, gate, view(1.0, ("t1", None, x, y)))
    clock.advance(9)
    assert len(get(store, staff, "/staff/floor")["people"]) == 1
    clock.advance(2)
    floor = get(store, staff, "/staff/floor")
    assert floor["people"] == []
    assert floor["t"] == 1.0


def test_plates_show_their_stock_level(store: Store) -> None:
    staff = store.person(Role.STAFF)
    facings = store.services.catalogue.facings
    single = [(s, plates[0]) for s, plates in facings.items() if len(plates) == 1]
    (empty_sku, empty), (low_sku, low), (ok_sku, ok) = single[:3]
    for sku, plate, units in ((empty_sku, empty, 0), (low_sku, low, 2), (ok_sku, ok, 9)):
        r = store.client.put(
            f"/staff/inventory/{plate}/{sku}", json={"units": units}, headers=staff.headers
        )
        assert r.status_code == 200, r.text
    levels = {p["plate"]: p for p in get(store, staff, "/staff/floor")["plates"]}
    layout = get(store, staff, "/store/layout")
    assert set(levels) == {p["id"] for p in layout["plates"]}
    counted = {empty, low, ok}
    assert {p: levels[p]["state"] for p in counted} == {empty: "empty", low: "low", ok: "ok"}
    assert levels[ok]["units"] == 9
    assert levels[ok]["threshold"] == store.services.settings.restock_threshold
    others = [p for p in levels.values() if p["plate"] not in counted]
    assert others
    assert all((p["state"], p["units"]) == ("unknown", None) for p in others)


def test_the_layout_is_the_store_files(store: Store) -> None:
    staff = store.person(Role.STAFF)
    layout = get(store, staff, "/store/layout")
    catalogue = store.services.catalogue
    assert layout["store_id"] == catalogue.store_id
    assert {p["sku"] for p in layout["products"]} == set(catalogue.products)
    on_plates = {(p["id"], s) for p in layout["plates"] for s in p["skus"]}
    assert on_plates == {(plate, s) for s, plates in catalogue.facings.items() for plate in plates}
    store_file = load_store(store.services.settings.store_file)
    assert [(g["id"], g["kind"]) for g in layout["gates"]] == [
        (g.id, g.kind) for g in store_file.gates
    ]
    assert [f["id"] for f in layout["fixtures"]] == [f.id for f in store_file.fixtures]
    bounds = layout["bounds"]
    for x, y in layout["floor"]:
        assert bounds["min_x"] <= x <= bounds["max_x"]
        assert bounds["min_y"] <= y <= bounds["max_y"]
    for plate in layout["plates"]:
        lo, hi = plate["box"]
        assert all(a <= b for a, b in zip(lo, hi, strict=True))


def test_a_plate_shows_its_stock_and_its_latest_cart_events(store: Store) -> None:
    gate, staff = store.device(), store.person(Role.STAFF)
    facings = store.services.catalogue.facings
    sku, plates = next((s, p) for s, p in facings.items() if len(p) == 1)
    plate = plates[0]
    visit = enter(store, gate, store.person())
    feed = Feed(visit, store.services.catalogue)
    took, put = on(feed.added(sku, 2), plate), on(feed.removed(sku, 1), plate)
    elsewhere = on(feed.added(sku), "somewhere-else")
    post_events(store, gate, [took, elsewhere, put])
    detail = get(store, staff, f"/staff/plates/{plate}")
    assert detail["plate"] == plate
    assert [(f["sku"], f["state"]) for f in detail["facings"]] == [(sku, "unknown")]
    assert [(e["event_id"], e["type"], e["qty"], e["visit_id"]) for e in detail["events"]] == [
        (put.id, "item_removed", 1, visit),
        (took.id, "item_added", 2, visit),
    ]
    r = store.client.get("/staff/plates/no-such-plate", headers=staff.headers)
    assert (r.status_code, r.json()["code"]) == (404, "not_found")


def heat(store: Store, staff: Caller, **params: str) -> dict[str, Any]:
    found: dict[str, Any] = get(store, staff, "/staff/analytics/heatmap", **params)
    return found


def cell(grid: dict[str, Any], x: float, y: float) -> float:
    column = int((x - grid["origin"][0]) // grid["cell_m"])
    row = int((y - grid["origin"][1]) // grid["cell_m"])
    value: float = grid["seconds"][row][column]
    return value


def test_dwell_adds_up_per_cell_and_hour_without_storing_anyone(
    store: Store, clock: FakeClock
) -> None:
    gate, staff = store.device(), store.person(Role.STAFF)
    x, y = inside(store, staff, 1.1, 1.1)
    far = (x + 2.0, y + 1.0)
    post_view(store, gate, view(10.0, ("a", "1", x, y), ("b", None, *far)))
    assert post_view(store, gate, view(11.0, ("a", "1", x, y)))["dwell_s"] == 2.0
    assert post_view(store, gate, view(13.0, ("a", "1", x, y)))["dwell_s"] == 2.0
    assert post_view(store, gate, view(12.0, ("a", "1", x, y)))["dwell_s"] == 0.0  # backwards
    assert post_view(store, gate, view(30.0, ("a", "1", x, y)))["dwell_s"] == 0.0  # a gap
    assert post_view(store, gate, view(30.5, ("a", "1", -1e3, y)))["dwell_s"] == 0.5
    assert post_view(store, gate, view(31.0))["dwell_s"] == 0.0  # off the floor
    grid = heat(store, staff)
    assert grid["cell_m"] == CELL_M
    assert len(grid["seconds"]) == grid["rows"]
    assert {len(row) for row in grid["seconds"]} == {grid["columns"]}
    assert cell(grid, x, y) == 3.5
    assert cell(grid, *far) == 1.0
    assert grid["total_s"] == 4.5
    with store.services.sessions() as session:
        assert {c.key for c in inspect(FloorDwell).columns} == {
            "hour",
            "cell_x",
            "cell_y",
            "seconds",
        }
        rows = session.scalars(select(FloorDwell)).all()
        assert {r.hour for r in rows} == {clock().replace(minute=0, second=0)}

    clock.advance(2 * 3600)
    post_view(store, gate, view(40.0, ("c", None, x, y)))
    post_view(store, gate, view(44.0, ("c", None, x, y)))
    clock.advance(30 * 60)
    later = clock().replace(minute=5).isoformat()
    assert heat(store, staff)["total_s"] == 8.5
    assert heat(store, staff, since=later)["total_s"] == 4.0  # from the hour holding since
    until = (clock() - timedelta(hours=1)).isoformat()
    assert heat(store, staff, until=until)["total_s"] == 4.5


def test_staff_at_work_are_on_the_live_floor_but_not_in_the_heatmap(store: Store) -> None:
    gate, staff = store.device(), store.person(Role.STAFF)
    at_work = enter(store, gate, staff)
    shopping = enter(store, gate, store.person())
    x, y = inside(store, staff, 1.1, 1.1)
    far = (x + 2.0, y + 1.0)
    people = (("s", str(at_work), x, y), ("c", str(shopping), *far))
    post_view(store, gate, view(10.0, *people))
    assert post_view(store, gate, view(11.5, *people))["dwell_s"] == 1.5  # the shopper's only
    floor = {p["person"]: p for p in get(store, staff, "/staff/floor")["people"]}
    assert (floor["s"]["staff"], floor["s"]["visit_id"]) == (True, at_work)
    assert (floor["c"]["staff"], floor["c"]["visit_id"]) == (False, shopping)
    grid = heat(store, staff)
    assert (cell(grid, x, y), cell(grid, *far), grid["total_s"]) == (0.0, 1.5, 1.5)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"since": "2026-11-29T12:00:00+00:00", "until": "2026-11-29T11:00:00+00:00"}, 422),
        ({"since": "2026-11-29T12:00:00"}, 422),  # no time zone
        ({"until": "1970-01-01T00:00:00+00:00"}, 422),
        ({"since": "0001-01-01T00:00:00+05:00"}, 422),
    ],
)
def test_a_heatmap_period_must_make_sense(
    store: Store, params: dict[str, str], status: int
) -> None:
    staff = store.person(Role.STAFF)
    r = store.client.get("/staff/analytics/heatmap", params=params, headers=staff.headers)
    assert r.status_code == status, r.text


def test_a_view_must_be_well_formed(store: Store) -> None:
    gate = store.device()
    good = view(1.0, ("a", None, 1.0, 1.0))
    for bad in (
        {**good, "t": -1},
        {**good, "extra": 1},
        {**good, "people": [{"person": "a", "token": None, "x": "NaN", "y": 1.0}]},
        {**good, "people": [{"person": "", "token": None, "x": 1.0, "y": 1.0}]},
    ):
        r = store.client.post("/floor", json=bad, headers=gate.headers)
        assert (r.status_code, r.json()["code"]) == (422, "invalid_request"), bad


def stored_dwell(store: Store) -> float:
    with store.services.sessions() as session:
        return sum(session.scalars(select(FloorDwell.seconds)).all())


def test_dwell_is_written_every_few_seconds_and_before_the_heatmap_is_read(
    store: Store, clock: FakeClock
) -> None:
    gate, staff = store.device(), store.person(Role.STAFF)
    x, y = inside(store, staff)
    for t in (0.0, 1.0, 2.0):
        post_view(store, gate, view(t, ("a", None, x, y)))
    assert stored_dwell(store) == 1.0  # the first second at once, the next one held
    clock.advance(WRITE_EVERY.total_seconds())
    post_view(store, gate, view(3.0, ("a", None, x, y)))
    assert stored_dwell(store) == 3.0
    post_view(store, gate, view(4.0, ("a", None, x, y)))
    assert stored_dwell(store) == 3.0
    assert heat(store, staff)["total_s"] == 4.0
    assert stored_dwell(store) == 4.0


def test_the_dwell_gathered_is_written_when_the_service_stops(
    settings: Settings, clock: FakeClock, connection: Connection
) -> None:
    with open_store(settings, clock, connection) as shop:
        gate, staff = shop.device(), shop.person(Role.STAFF)
        x, y = inside(shop, staff)
        for t in (0.0, 1.0, 2.0, 3.0):
            post_view(shop, gate, view(t, ("a", None, x, y)))
        assert stored_dwell(shop) == 1.0
    assert stored_dwell(shop) == 3.0
