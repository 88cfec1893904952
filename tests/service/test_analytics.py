"""Store analytics: figures checked against the cart events posted, CSV parsed back, no
identities and small counts suppressed (ADR 9); the statistics as properties."""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine

from walkout.domain.events import CartEvent
from walkout.service.analytics.service import safe_cell
from walkout.service.analytics.stats import (
    BASKET_SIZE_EDGES,
    TIME_IN_STORE_EDGES,
    distribution,
    histogram,
    percentile,
    suppress,
)
from walkout.service.models import Role
from walkout.service.settings import Settings

from .conftest import make_settings, open_store
from .helpers import Caller, FakeClock, Store
from .shop import Feed, enter, post_events

# statistics


@given(st.lists(st.floats(0, 1e6), min_size=1), st.floats(0.01, 100))
def test_a_percentile_is_one_of_the_values_and_splits_them(values: list[float], q: float) -> None:
    found = percentile(values, q)
    assert found in values
    at_most = sum(1 for v in values if v <= found)
    assert at_most >= math.ceil(q / 100 * len(values))
    assert sum(1 for v in values if v < found) < math.ceil(q / 100 * len(values))


@given(st.lists(st.floats(0, 1e5)), st.integers(1, 10))
def test_histogram_bins_hold_every_value_once(values: list[float], k: int) -> None:
    bins = histogram(values, TIME_IN_STORE_EDGES, k)
    exact = histogram(values, TIME_IN_STORE_EDGES, 1)
    assert sum(b.count or 0 for b in exact) == len(values)
    for shown, full in zip(bins, exact, strict=True):
        assert (shown.lower, shown.upper) == (full.lower, full.upper)
        assert full.count is not None
        assert shown.count == (full.count if full.count == 0 or full.count >= k else None)
        in_bin = [v for v in values if v >= full.lower and (full.upper is None or v < full.upper)]
        assert full.count == len(in_bin)


@given(st.lists(st.integers(0, 50)), st.integers(1, 10))
def test_a_distribution_shows_its_centre_only_with_k_values(values: list[int], k: int) -> None:
    found = distribution(values, BASKET_SIZE_EDGES, k)
    assert found.count == suppress(len(values), k)
    if len(values) >= k and values:
        assert found.median == statistics.median(values)
        assert found.p90 == percentile(values, 90)
    else:
        assert (found.median, found.p90) == (None, None)


def test_suppress_hides_only_small_non_zero_counts() -> None:
    assert [suppress(n, 3) for n in range(5)] == [0, None, None, 3, 4]


# over HTTP

NOON = datetime(2026, 11, 29, 12, tzinfo=UTC)
WINDOW = {"since": "2026-11-29T12:00:00Z", "until": "2026-11-29T15:00:00Z"}


@pytest.fixture
def k2_store(
    migrated_engine: Engine, clock: FakeClock, connection: Connection, tmp_path: Path
) -> Iterator[Store]:
    """The service showing figures made up by two visits or more."""
    url = migrated_engine.url.render_as_string(hide_password=False)
    settings: Settings = make_settings(url, tmp_path, analytics_min_visits=2)
    with open_store(settings, clock, connection) as store:
        yield store


@dataclass(frozen=True)
class Day:
    """The scenario's products and the staff member who reads the figures."""

    a: str
    b: str
    c: str
    staff: Caller


def visit(
    store: Store,
    clock: FakeClock,
    gate: Caller,
    at_minute: int,
    picks: list[tuple[str, str, int]],
    bought: dict[str, int] | None,
    stay_s: float = 0,
    role: Role = Role.SHOPPER,
    late: Sequence[tuple[str, int]] = (),
) -> None:
    """A visit entering at 12:00 + ``at_minute`` that picks (``added``/``removed``, sku, qty),
    stays ``stay_s`` and leaves with ``bought`` (None: still in the store); ``late`` picks
    (sku, qty) arrive after it left: the cart ignores them, and so do the figures."""
    clock.now = NOON + timedelta(minutes=at_minute)
    feed = Feed(enter(store, gate, store.person(role)), store.services.catalogue)
    events: list[CartEvent] = [
        feed.added(sku, qty) if kind == "added" else feed.removed(sku, qty)
        for kind, sku, qty in picks
    ]
    post_events(store, gate, events)
    if bought is not None:
        clock.advance(stay_s)
        post_events(store, gate, feed.exit(bought))
        after = [feed.added(sku, qty) for sku, qty in late]
        assert post_events(store, gate, after) == ["ignored"] * len(after)


def run_day(store: Store, clock: FakeClock) -> Day:
    products = sorted(store.services.catalogue.products)
    a, b, c = products[:3]
    gate = store.device()
    visit(
        store,
        clock,
        gate,
        0,
        [("added", a, 2), ("removed", a, 1), ("added", b, 1)],
        {a: 1, b: 1},
        240,
    )
    visit(store, clock, gate, 10, [("added", a, 1)], {a: 1}, 720, late=[(a, 9)])
    visit(store, clock, gate, 60, [("added", c, 1)], {c: 1}, 60)
    visit(store, clock, gate, 70, [("added", a, 1)], None)  # still shopping
    visit(store, clock, gate, 120, [], {}, 30)  # left with nothing
    visit(store, clock, gate, 130, [("added", a, 5)], {a: 5}, 60, Role.STAFF)  # at work
    return Day(a, b, c, store.person(Role.STAFF))


def report(store: Store, caller: Caller, **params: str) -> dict[str, Any]:
    r = store.client.get("/staff/analytics", params=params, headers=caller.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_figures_match_the_events_posted(k2_store: Store, clock: FakeClock) -> None:
    day = run_day(k2_store, clock)
    body = report(k2_store, day.staff, **WINDOW)
    assert (body["suppressed"], body["visits"], body["min_visits"]) == (False, 5, 2)
    hours = {h["hour"]: h["visits"] for h in body["hours"]}
    assert hours == {**dict.fromkeys(range(24), 0), 12: 2, 13: 2, 14: None}
    (a,) = body["products"]  # b and c were touched by one visit each: not shown
    assert body["products_suppressed"] == 2
    assert a == {
        "sku": day.a,
        "name": k2_store.services.catalogue.name(day.a),
        "picked": 4,
        "put_back": 1,
        "bought": 2,
        "pick_to_purchase": 0.5,
        "visits": 3,
    }
    stay = body["time_in_store"]
    assert (stay["count"], stay["median"], stay["p90"]) == (4, 150.0, 720.0)
    assert [b["count"] for b in stay["bins"]] == [2, None, 0, None, 0, 0, 0]
    assert [b["lower"] for b in stay["bins"]] == list(TIME_IN_STORE_EDGES)
    basket = body["basket_size"]
    assert (basket["count"], basket["median"], basket["p90"]) == (4, 1.0, 2.0)
    assert [b["count"] for b in basket["bins"]] == [None, 2, None, 0, 0, 0, 0]


def test_no_identity_is_in_the_figures(k2_store: Store, clock: FakeClock) -> None:
    day = run_day(k2_store, clock)
    r = k2_store.client.get("/staff/analytics", params=WINDOW, headers=day.staff.headers)
    assert "@" not in r.text

    def keys(value: object) -> Iterator[str]:
        if isinstance(value, dict):
            for key, inner in value.items():
                yield key
                yield from keys(inner)
        elif isinstance(value, list):
            for inner in value:
                yield from keys(inner)

    found = set(keys(r.json()))
    assert not {"account_id", "email", "visit_id", "token", "person"} & found


def test_a_window_with_too_few_visits_shows_nothing(k2_store: Store, clock: FakeClock) -> None:
    day = run_day(k2_store, clock)
    body = report(k2_store, day.staff, since="2026-11-29T14:00:00Z", until="2026-11-29T15:00Z")
    assert body["suppressed"] is True
    assert (body["visits"], body["hours"], body["products"]) == (None, [], [])
    assert (body["time_in_store"], body["basket_size"], body["products_suppressed"]) == (
        None,
        None,
        None,
    )
    params = {"since": "2026-11-29T14:00:00Z", "until": "2026-11-29T15:00:00Z"}
    r = k2_store.client.get(
        "/staff/analytics/products.csv", params=params, headers=day.staff.headers
    )
    assert r.text.splitlines() == ["sku,name,picked,put_back,bought,pick_to_purchase,visits"]


def test_the_default_threshold_hides_a_handful_of_visits(store: Store, clock: FakeClock) -> None:
    assert store.services.settings.analytics_min_visits == 5
    gate = store.device()
    for minute in (0, 10, 20):
        visit(store, clock, gate, minute, [], {}, 30)
    body = report(store, store.person(Role.MANAGER), **WINDOW)
    assert (body["suppressed"], body["visits"]) == (True, None)


def test_windows_are_whole_hours_in_the_time_zone(k2_store: Store, clock: FakeClock) -> None:
    day = run_day(k2_store, clock)
    body = report(k2_store, day.staff, since="2026-11-29T12:30:00Z", until="2026-11-29T13:20Z")
    assert (body["since"], body["until"]) == ("2026-11-29T12:00:00Z", "2026-11-29T14:00:00Z")
    assert body["visits"] == 4  # the visit at 14:00 is after the window
    india = report(k2_store, day.staff, **WINDOW, tz="Asia/Kolkata")  # UTC+05:30
    assert india["timezone"] == "Asia/Kolkata"
    assert india["since"] == "2026-11-29T17:00:00+05:30"
    hours = {h["hour"]: h["visits"] for h in india["hours"] if h["visits"] != 0}
    assert hours == {17: 2, 18: 2, 19: None}
    naive = report(k2_store, day.staff, since="2026-11-29T17:00:00", tz="Asia/Kolkata")
    assert naive["since"] == "2026-11-29T17:00:00+05:30"  # read in the report's zone


def test_hours_are_the_stores_local_hours_by_default(
    migrated_engine: Engine, clock: FakeClock, connection: Connection, tmp_path: Path
) -> None:
    url = migrated_engine.url.render_as_string(hide_password=False)
    settings = make_settings(
        url, tmp_path, analytics_min_visits=2, store_timezone="America/New_York"
    )
    with open_store(settings, clock, connection) as store:
        day = run_day(store, clock)
        body = report(store, day.staff, **WINDOW)
    assert body["timezone"] == "America/New_York"
    hours = {h["hour"]: h["visits"] for h in body["hours"] if h["visits"] != 0}
    assert hours == {7: 2, 8: 2, 9: None}  # 12:00 UTC is 07:00 in New York in November


def test_the_default_window_is_the_last_seven_days(k2_store: Store, clock: FakeClock) -> None:
    day = run_day(k2_store, clock)
    body = report(k2_store, day.staff)
    assert (body["since"], body["until"]) == ("2026-11-22T15:00:00Z", "2026-11-29T15:00:00Z")
    assert body["visits"] == 5


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2026-11-29T15:00:00Z", "until": "2026-11-29T12:00:00Z"},
        {"since": "2024-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"since": "1900-01-01T00:00:00Z"},
        {"until": "9999-12-31T23:59:59Z"},
        {"tz": "Mars/Olympus_Mons"},
        {"tz": "../../etc/passwd"},
    ],
)
def test_bad_windows_are_refused(store: Store, params: dict[str, str]) -> None:
    staff = store.person(Role.STAFF)
    for path in ("/staff/analytics", "/staff/analytics/hours.csv"):
        r = store.client.get(path, params=params, headers=staff.headers)
        assert (r.status_code, r.json()["code"]) == (422, "invalid_window"), r.text


def test_csv_exports_parse_back_to_the_report(k2_store: Store, clock: FakeClock) -> None:
    day = run_day(k2_store, clock)
    body = report(k2_store, day.staff, **WINDOW)
    headers = day.staff.headers
    r = k2_store.client.get("/staff/analytics/products.csv", params=WINDOW, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == (
        'attachment; filename="walkout-products-20261129T12-20261129T15.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [
        {**row, **{k: int(row[k]) for k in ("picked", "put_back", "bought", "visits")}}
        | {"pick_to_purchase": float(row["pick_to_purchase"])}
        for row in rows
    ] == body["products"]
    r = k2_store.client.get("/staff/analytics/hours.csv", params=WINDOW, headers=headers)
    hours = list(csv.DictReader(io.StringIO(r.text)))
    assert [
        {"hour": int(h["hour"]), "visits": int(h["visits"]) if h["visits"] else None} for h in hours
    ] == body["hours"]


def test_text_cells_cannot_become_spreadsheet_formulas() -> None:
    assert [safe_cell(v) for v in ("=SUM(A1)", "+1", "-x", "@a", "milk")] == [
        "'=SUM(A1)",
        "'+1",
        "'-x",
        "'@a",
        "milk",
    ]
