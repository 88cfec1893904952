"""The world model: people move plausibly, contacts match the truth, the truth adds up."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import Counter
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_engine_replay import shared_plate_store
from walkout.domain.geometry import points_in_polygon
from walkout.domain.store import Store
from walkout.sim.behaviour import REACH_M, STAND_REACH_M, Catalogue, Shelves
from walkout.sim.body import EAR_Z, WRISTS, head_centre, skeleton
from walkout.sim.navigation import BODY_RADIUS, FloorGrid, obstacle_polygons
from walkout.sim.scenarios import SCENARIOS, Scenario
from walkout.sim.timeline import PersonTrack, PlateContact, Timeline
from walkout.sim.world import (
    DT,
    HANDOFF_M,
    TOUCH_LAG_S,
    gate_point,
    rest_hands,
    simulate_world,
)
from world_helpers import small_store

STORE = small_store()
# Staff come often in these runs so that restocking is exercised in a few minutes.
ADVERSARIAL = dataclasses.replace(SCENARIOS["adversarial"], staff_per_hour=90.0)
BUSY = dataclasses.replace(SCENARIOS["busy"], staff_per_hour=60.0)


@cache
def run(name: str) -> Timeline:
    """The simulated runs the tests share (a few seconds in all)."""
    if name == "no-fixtures":
        return simulate_world(small_store(with_fixtures=False), BUSY, seed=2, minutes=1.0)
    scenario, minutes = {
        "quiet": (SCENARIOS["quiet"], 3.0),
        "busy": (BUSY, 2.0),
        "rush": (SCENARIOS["rush"], 1.5),
        "adversarial": (ADVERSARIAL, 2.0),
    }[name]
    return simulate_world(STORE, scenario, seed=11, minutes=minutes)


RUNS = ["quiet", "busy", "rush", "adversarial", "no-fixtures"]


def store_of(name: str) -> Store:
    return small_store(with_fixtures=False) if name == "no-fixtures" else STORE


def concurrency(tl: Timeline, step: float = 1.0) -> list[int]:
    """Shoppers (staff excluded) in the store at each whole second."""
    times = np.arange(tl.start, tl.end, step).tolist()
    shoppers = [p for p in tl.people if not p.staff]
    return [sum(p.t_enter <= t <= p.t_exit for p in shoppers) for t in times]


def sample_index(tl: Timeline, track: PersonTrack) -> np.ndarray:
    return np.rint((track.t - tl.start) / DT).astype(int)


def hand_in_box(track: PersonTrack, t: float, box: tuple[tuple[float, ...], ...]) -> bool:
    k = track.index_at(t)
    assert k is not None, f"person {track.person} is not in the store at {t}"
    lo, hi = np.asarray(box[0]), np.asarray(box[1])
    return any(bool(np.all((lo <= h) & (h <= hi))) for h in track.hands[k])


def contact_for(tl: Timeline, plate: str, t: float, kind: str, grams: float = 0.0) -> PlateContact:
    """The contact of a truth event: its touch came TOUCH_LAG_S before the event. Of two hands
    on one plate at once, the one whose load change is nearer ``grams``."""
    found = [c for c in tl.contacts if c.plate == plate and c.kind == kind]
    found = [c for c in found if abs(c.t_start + TOUCH_LAG_S - t) < 1e-6 and t <= c.t_end]
    assert found, f"no {kind} contact on {plate} at {t}"
    return min(found, key=lambda c: abs(c.delta_g - grams))


# --- motion ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", RUNS)
def test_people_stay_on_the_floor_and_out_of_fixtures(name: str) -> None:
    tl, store = run(name), store_of(name)
    inflated = []
    for poly in obstacle_polygons(store):
        a = np.asarray(poly)
        lo, hi = a.min(axis=0) - (BODY_RADIUS - 0.05), a.max(axis=0) + (BODY_RADIUS - 0.05)
        inflated.append((lo, hi))  # every obstacle here is an axis-aligned rectangle
    for p in tl.people:
        assert points_in_polygon(p.xy, store.floor).all()
        for lo, hi in inflated:
            inside = np.all((p.xy > lo) & (p.xy < hi), axis=1)
            assert not inside.any(), f"person {p.person} inside an obstacle"


@pytest.mark.parametrize("name", RUNS)
def test_people_keep_apart(name: str) -> None:
    tl = run(name)
    idx = [sample_index(tl, p) for p in tl.people]
    closest = math.inf
    for (a, ka), (b, kb) in itertools.combinations(zip(tl.people, idx, strict=True), 2):
        lo, hi = max(ka[0], kb[0]), min(ka[-1], kb[-1])
        if lo > hi:
            continue
        d = np.linalg.norm(
            a.xy[lo - ka[0] : hi - ka[0] + 1] - b.xy[lo - kb[0] : hi - kb[0] + 1], axis=1
        )
        closest = min(closest, float(d.min()))
    assert closest >= 0.45


@pytest.mark.parametrize("name", RUNS)
def test_tracks_are_uniform_and_walking_is_human(name: str) -> None:
    tl = run(name)
    for p in tl.people:
        assert np.allclose(np.diff(p.t), DT)
        assert p.hands.shape == (len(p.t), 2, 3)
        assert p.xy.shape == (len(p.t), 2)
        assert p.heading.shape == (len(p.t),)
        speed = np.linalg.norm(np.diff(p.xy, axis=0), axis=1) / DT
        assert speed.max() <= 1.45
        assert 1.5 <= p.height_m <= 2.0
        assert np.all(np.abs(p.heading) <= math.pi + 1e-9)


@pytest.mark.parametrize("name", RUNS)
def test_everyone_enters_after_a_scan_and_leaves_through_an_exit(name: str) -> None:
    tl, store = run(name), store_of(name)
    gates = {g.id: g for g in store.gates}
    scans_by_token = Counter(s.token for s in tl.scans)
    people_by_token = Counter(p.token for p in tl.people)
    assert scans_by_token == people_by_token
    for p in tl.people:
        scans = [s for s in tl.scans if s.token == p.token and s.t <= p.t_enter]
        assert scans, f"person {p.person} entered without a scan"
        entry = gates[scans[-1].gate]
        assert entry.admits
        assert p.t_enter - scans[-1].t < 1.0
        assert points_in_polygon(p.xy[0], entry.area)
        exits = [g for g in store.gates if g.releases]
        assert any(points_in_polygon(p.xy[-1], g.area) for g in exits)
        assert tl.start <= p.t_enter < p.t_exit <= tl.end + DT


def test_group_members_scan_one_after_another() -> None:
    tl = run("adversarial")
    by_token: dict[str, list[float]] = {}
    for s in tl.scans:
        by_token.setdefault(s.token, []).append(s.t)
    groups = [ts for ts in by_token.values() if len(ts) > 1]
    assert groups, "the adversarial run should have groups"
    for ts in groups:
        assert all(b - a >= 1.0 for a, b in itertools.pairwise(sorted(ts)))


# --- contacts and truth ------------------------------------------------------------------


@pytest.mark.parametrize("name", RUNS)
def test_every_truth_event_has_its_contact_with_the_hand_in_the_box(name: str) -> None:
    tl, store = run(name), store_of(name)
    tracks = {p.person: p for p in tl.people}
    picked: dict[str, list[PlateContact]] = {}
    for e in tl.truth.events:
        track = tracks[e.person]
        assert track.token == e.token
        if e.kind == "handoff":
            assert e.to_person is not None
            assert e.to_person != e.person
            other = tracks[e.to_person]
            assert other.token == e.token
            a, b = track.index_at(e.t), other.index_at(e.t)
            assert a is not None
            assert b is not None
            assert np.linalg.norm(track.xy[a] - other.xy[b]) <= HANDOFF_M + 0.01
            continue
        product = store.product(e.sku)
        sign = -1 if e.kind == "pick" else 1
        kind = "pick" if e.kind == "pick" else "put"
        contact = contact_for(tl, e.plate, e.t, kind, sign * e.qty * product.weight_g)
        assert hand_in_box(track, e.t, store.plate(e.plate).box)
        if e.kind == "pick":
            assert contact.delta_g < 0
            spread = 5 * product.weight_sd_g * math.sqrt(e.qty)
            assert abs(-contact.delta_g - e.qty * product.weight_g) <= spread
            assert 10 <= contact.press_g <= 100
            picked.setdefault(e.token, []).append(contact)
        else:
            # The very unit picked before goes back: its weight matches a pick's within a gram.
            assert e.qty == 1
            assert contact.delta_g > 0
            before = [c for c in picked.get(e.token, []) if c.t_end < e.t]
            assert any(abs(-c.delta_g - contact.delta_g) < 1.0 for c in before) or any(
                -c.delta_g > contact.delta_g for c in before
            )


@pytest.mark.parametrize("name", RUNS)
def test_truth_items_are_picks_minus_returns(name: str) -> None:
    tl = run(name)
    expected: dict[str, Counter[str]] = {}
    for e in tl.truth.events:
        count = expected.setdefault(e.token, Counter())
        if e.kind == "pick":
            count[e.sku] += e.qty
        elif e.kind in ("put", "misplace"):
            count[e.sku] -= e.qty
            assert count[e.sku] >= 0, "a unit went back that the token never took"
    people = Counter(p.token for p in tl.people)
    staff = {p.token for p in tl.people if p.staff}
    assert {s.token for s in tl.truth.sessions} == set(people)
    for s in tl.truth.sessions:
        assert s.items == {k: n for k, n in expected.get(s.token, Counter()).items() if n > 0}
        assert s.people == people[s.token]
        assert s.staff == (s.token in staff)
        if s.staff:
            assert s.items == {}
            assert s.people == 1


@pytest.mark.parametrize("name", RUNS)
def test_shelves_never_go_below_empty(name: str) -> None:
    tl = run(name)
    load = dict(tl.initial_load_g)
    assert all(v > 0 for v in load.values())
    for c in sorted(tl.contacts, key=lambda c: c.t_end):
        load[c.plate] += c.delta_g
        assert load[c.plate] >= -1e-6


@pytest.mark.parametrize("name", RUNS)
def test_contacts_are_plausible_and_within_reach(name: str) -> None:
    tl, store = run(name), store_of(name)
    assert tl.contacts
    for c in tl.contacts:
        assert c.t_end > c.t_start
        if c.kind in ("touch", "lean"):
            assert c.delta_g == 0
        if c.kind == "lean":
            assert 100 <= c.hold_g <= 1000
            assert c.t_end - c.t_start >= 1.5
        else:
            assert c.hold_g == 0
        mid = (c.t_start + c.t_end) / 2
        plate = store.plate(c.plate)
        hands = 0
        for p in tl.people:
            k = p.index_at(mid)
            if k is None:
                continue
            for h in p.hands[k]:
                if plate.contains(h, margin=1e-9):
                    hands += 1
                    assert math.hypot(*(h[:2] - p.xy[k])) <= STAND_REACH_M + 0.2
                    shoulder = np.clip(h[2], 0.7, 0.82 * p.height_m)  # crouching lowers it
                    assert abs(h[2] - shoulder) <= REACH_M
        assert hands, f"no hand in {c.plate} during its contact"


def test_restocks_match_their_contacts() -> None:
    tl = run("adversarial")
    assert tl.truth.restocks, "staff came often enough to restock"
    staff = {p.token for p in tl.people if p.staff}
    for r in tl.truth.restocks:
        assert r.token in staff
        c = contact_for(tl, r.plate, r.t, "restock")
        assert c.delta_g > 0
    restock_contacts = [c for c in tl.contacts if c.kind == "restock"]
    assert len({(r.plate, r.t) for r in tl.truth.restocks}) == len(restock_contacts)


def test_adversarial_run_has_every_behaviour() -> None:
    tl = run("adversarial")
    kinds = Counter(e.kind for e in tl.truth.events)
    assert kinds["pick"]
    assert kinds["put"]
    assert kinds["misplace"]
    assert kinds["handoff"]
    contacts = Counter(c.kind for c in tl.contacts)
    assert contacts["touch"]
    assert contacts["lean"]
    assert contacts["restock"]
    for e in tl.truth.events:
        if e.kind == "misplace":
            assert e.sku not in STORE.skus_on(e.plate) or len(STORE.plates_of(e.sku)) > 1


def test_picks_and_puts_are_seen_in_hand() -> None:
    tl = run("busy")
    picks = [e for e in tl.truth.events if e.kind == "pick"]
    puts = [e for e in tl.truth.events if e.kind in ("put", "misplace")]
    assert puts
    assert len(tl.sightings) == len(picks) + len(puts)
    for e in picks:
        seen = [s for s in tl.sightings if s.sku == e.sku and 0 < s.t - e.t < 2.5]
        assert seen
        c = contact_for(tl, e.plate, e.t, "pick")
        assert any(s.t > c.t_end for s in seen)
    for e in puts:  # seen on its way down, before it touches the shelf
        c = contact_for(tl, e.plate, e.t, "put")
        assert any(s.sku == e.sku and c.t_start - 0.5 < s.t < c.t_start for s in tl.sightings)


def test_rush_reaches_overlap_at_one_fixture() -> None:
    tl = run("rush")
    centre = {p.id: np.asarray(p.centre) for p in STORE.plates}
    overlaps = 0
    contacts = sorted(tl.contacts, key=lambda c: c.t_start)
    for i, a in enumerate(contacts):
        for b in contacts[i + 1 :]:
            if b.t_start > a.t_end:
                break
            if np.linalg.norm(centre[a.plate] - centre[b.plate]) <= 1.2:
                overlaps += 1
    assert overlaps >= 3


# --- scenarios, overrides, determinism ----------------------------------------------------


def test_presets_reach_their_concurrency() -> None:
    quiet, busy, rush = (concurrency(run(n)) for n in ("quiet", "busy", "rush"))
    assert max(quiet) <= 2
    assert max(quiet) >= 1
    assert 10 <= max(busy) <= 20
    assert max(rush) >= 30
    assert np.mean(quiet) < np.mean(busy) < np.mean(rush)


def test_shoppers_and_minutes_override_the_preset() -> None:
    quiet = dataclasses.replace(SCENARIOS["quiet"], group_share=0.5)
    tl = simulate_world(STORE, quiet, seed=4, minutes=0.5, shoppers=5)
    shoppers = [p for p in tl.people if not p.staff]
    assert len(shoppers) == 5
    assert max(p.t_enter for p in tl.people) <= tl.start + 30.0 + 10.0
    assert sum(s.people for s in tl.truth.sessions if not s.staff) == 5


def test_same_seed_same_timeline_other_seed_other() -> None:
    scenario = dataclasses.replace(ADVERSARIAL, concurrency=(3, 6))
    a = simulate_world(STORE, scenario, seed=9, minutes=0.75)
    b = simulate_world(STORE, scenario, seed=9, minutes=0.75)
    c = simulate_world(STORE, scenario, seed=10, minutes=0.75)
    assert a.truth == b.truth
    assert a.contacts == b.contacts
    assert a.scans == b.scans
    assert a.sightings == b.sightings
    assert a.initial_load_g == b.initial_load_g
    assert len(a.people) == len(b.people)
    for p, q in zip(a.people, b.people, strict=True):
        assert p.token == q.token
        assert p.person == q.person
        for field in ("t", "xy", "heading", "hands"):
            assert np.array_equal(getattr(p, field), getattr(q, field))
    assert a.initial_load_g != c.initial_load_g or a.truth != c.truth


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shoppers=st.integers(1, 4))
def test_any_seed_gives_a_consistent_run(seed: int, shoppers: int) -> None:
    scenario: Scenario = dataclasses.replace(ADVERSARIAL, visits=(1, 3))
    tl = simulate_world(STORE, scenario, seed=seed, minutes=0.25, shoppers=shoppers)
    assert sum(1 for p in tl.people if not p.staff) == shoppers
    for e in tl.truth.events:
        if e.kind != "handoff":
            kind = "pick" if e.kind == "pick" else "put"
            contact_for(tl, e.plate, e.t, kind)
    for s in tl.truth.sessions:
        assert all(n > 0 for n in s.items.values())


def test_a_store_with_nothing_reachable_is_refused() -> None:
    data = STORE.model_dump()
    data["facings"] = []
    with pytest.raises(ValueError, match="no plate with products"):
        simulate_world(Store.model_validate(data), SCENARIOS["quiet"], seed=1, minutes=0.1)


def test_bad_overrides_are_refused() -> None:
    with pytest.raises(ValueError, match="minutes"):
        simulate_world(STORE, SCENARIOS["quiet"], seed=1, minutes=0)
    with pytest.raises(ValueError, match="shoppers"):
        simulate_world(STORE, SCENARIOS["quiet"], seed=1, shoppers=-1)


def test_visit_choices_follow_the_scenario() -> None:
    grid = FloorGrid(STORE)
    entry = gate_point(STORE.gates[0], grid)
    cat = Catalogue(STORE, grid, grid.region(entry), np.random.default_rng(1))
    rng = np.random.default_rng(2)
    shelves = Shelves(STORE, rng)
    lookalike = dataclasses.replace(SCENARIOS["quiet"], lookalike=1.0, visits=(30, 30))
    visits = cat.shopping_list(lookalike, shelves, rng, entry)
    assert len(visits) == 30
    pairs = set(cat.lookalikes)
    assert all((v.plate, v.sku) in pairs for v in visits)
    for plate, sku in pairs:  # a look-alike weight really is near
        w = STORE.product(sku).weight_g
        near = [plate, *cat.neighbours[plate]]
        others = {o for p in near for o in STORE.skus_on(p)} - {sku}
        assert any(abs(STORE.product(o).weight_g - w) < 0.05 * w for o in others)
    hot = dataclasses.replace(lookalike, lookalike=0.0, hot_share=1.0)
    spots = {v.plate for v in cat.shopping_list(hot, shelves, rng, entry)}
    assert spots <= set(cat.hot)
    centres = np.array([STORE.plate(p).centre for p in cat.hot])
    assert np.ptp(centres[:, :2], axis=0).max() <= 2.5  # one crowded spot
    kinds = Counter(
        v.kind for v in cat.shopping_list(SCENARIOS["adversarial"], shelves, rng, entry)
    )
    assert set(kinds) <= {"pick", "touch", "lean"}
    restock = cat.restock_round(shelves, rng, entry)
    assert 5 <= len(restock) <= 15
    assert all(v.kind == "restock" for v in restock)


def test_age_restricted_products_are_picked_sometimes() -> None:
    picked = {e.sku for name in RUNS for e in run(name).truth.events if e.kind == "pick"}
    assert any(STORE.product(sku).age_restricted for sku in picked)


def test_a_shopper_reaches_into_the_lane_of_the_product_taken_or_put_back() -> None:
    store = shared_plate_store()
    timeline = simulate_world(store, SCENARIOS["busy"], seed=3, minutes=2.0)
    people = {p.person: p for p in timeline.people}
    checked = 0
    for e in timeline.truth.events:
        lanes = store.lanes_on(e.plate)
        if e.kind not in ("pick", "put") or e.sku not in lanes:
            continue
        person = people[e.person]
        i = person.index_at(e.t)
        assert i is not None
        plate = np.array(store.plate(e.plate).box)
        hands = person.hands[i]
        hand = hands[int(np.argmin([box_gap(plate, h) for h in hands]))]
        assert box_gap(plate, hand) == 0.0, "the hand is at the plate"
        mine = np.array(lanes[e.sku])
        assert all(
            box_gap(mine, hand) < box_gap(np.array(b), hand) for k, b in lanes.items() if k != e.sku
        )
        checked += 1
    assert checked >= 30


def box_gap(box: np.ndarray, point: np.ndarray) -> float:
    return float(np.linalg.norm(np.maximum(box[0] - point, 0.0) + np.maximum(point - box[1], 0.0)))


@settings(max_examples=30, deadline=None)
@given(
    height=st.floats(1.4, 2.0),
    heading=st.floats(-math.pi, math.pi),
    speed=st.floats(0.0, 1.5),
)
def test_a_shopper_with_hands_at_rest_stands_upright(
    height: float, heading: float, speed: float
) -> None:
    # Walking or standing with hands hanging and swinging, nobody crouches: the head stays at
    # its standing height (a tracker measures people's heights from their heads).
    n = 80
    along = np.array([math.cos(heading), math.sin(heading)])
    xy = np.outer(np.arange(n) * speed * DT, along)
    hands = rest_hands(xy, np.full(n, heading), height)
    kp = skeleton(xy, np.full(n, heading), hands, height, speed=speed)
    np.testing.assert_allclose(head_centre(kp)[:, 2], EAR_Z * height, atol=1e-9)
    np.testing.assert_allclose(kp[:, WRISTS], hands, atol=1e-12)
