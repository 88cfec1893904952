"""End to end in ``track`` vision mode: simulate each preset briefly, replay, score.

:func:`scored_run` is the helper: it simulates a preset on a store (people arrive as 3-D
tracks, which isolates the shelf, identification and attribution logic from camera tracking),
replays the recording through the engine and scores the receipts against the truth. The runs
here are short (a few shoppers at one gondola of the corner store), so the thresholds
are those of a small sample; the issue's targets are measured on long runs (see the report).
"""

from __future__ import annotations

import gc
import math
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

from walkout.domain.events import CART_EVENT_ADAPTER, ItemAdded, ItemRemoved
from walkout.domain.messages import TrackMsg
from walkout.domain.store import Store
from walkout.domain.truth import Receipt, Truth
from walkout.engine.core import Engine, EngineConfig, _Visit
from walkout.engine.identify import identify
from walkout.engine.people import HandEvidence, TrackPoint, TrackState
from walkout.engine.shelf import ShelfEvent
from walkout.recording import read_json
from walkout.replay import ReplayResult, _rare_collections, replay
from walkout.sim.run import simulate
from walkout.sim.scenarios import get_scenario
from walkout.storefile import load_store, store_json

CORNER = load_store(Path(__file__).resolve().parents[1] / "examples" / "stores" / "corner.json")


def aisle_store(store: Store, prefixes: tuple[str, ...]) -> Store:
    """``store`` with only the plates whose ids start with one of ``prefixes`` (and their
    products): the same floor, far fewer load cells to simulate and replay."""
    plates = [p for p in store.plates if p.id.startswith(prefixes)]
    kept = {p.id for p in plates}
    facings = []
    for f in store.facings:
        on = [pid for pid in f.plates if pid in kept]
        if on:
            facings.append(f.model_copy(update={"plates": on}))
    skus = {f.sku for f in facings}
    products = [p for p in store.products if p.sku in skus]
    return store.model_copy(update={"plates": plates, "facings": facings, "products": products})


STORE = aisle_store(CORNER, ("G1-",))


@dataclass(frozen=True)
class ScoredRun:
    """One simulated and replayed run with its truth."""

    preset: str
    result: ReplayResult
    truth: Truth

    @property
    def wrong_unflagged(self) -> tuple[int, int]:
        """Receipt lines wrong (or missing) among receipts not flagged for review, and all
        lines of those receipts."""
        true = {s.token: Counter(s.items) for s in self.truth.sessions}
        wrong = total = 0
        for r in self.result.receipts.receipts:
            if r.flagged:
                continue
            want = true.get(r.token, Counter())
            skus = set(r.items) | {s for s, n in want.items() if n}
            total += len(skus)
            wrong += sum(1 for s in skus if r.items.get(s, 0) != want[s])
        return wrong, total


def scored_run(
    preset: str,
    seed: int,
    out: Path,
    *,
    store: Store = STORE,
    minutes: float = 1.0,
    shoppers: int | None = None,
) -> ScoredRun:
    """Simulate ``preset`` (track mode), replay it and score it; files go to ``out``."""
    simulate(
        store, get_scenario(preset), seed, out, minutes=minutes, shoppers=shoppers, vision="track"
    )
    result = replay(out)
    return ScoredRun(preset, result, read_json(out / "truth.json", Truth))


# preset: (shoppers, least F1, least exact share). Fourteen shoppers in one aisle is a far
# denser crowd than the rush preset makes in the whole store.
CASES = {
    "quiet": (4, 1.0, 1.0),
    "busy": (10, 0.97, 0.8),
    "rush": (14, 0.9, 0.6),
    "adversarial": (8, 0.9, 0.5),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> ScoredRun:
    preset = request.param
    shoppers = CASES[preset][0]
    return scored_run(preset, 100, tmp_path_factory.mktemp(preset), shoppers=shoppers)


def test_a_replay_collects_garbage_rarely_and_restores_the_collector_after() -> None:
    before = gc.get_threshold()
    with _rare_collections():
        during = gc.get_threshold()
    assert during[0] >= 50_000
    assert gc.get_threshold() == before

    def fail() -> None:
        raise RuntimeError

    with pytest.raises(RuntimeError), _rare_collections():
        fail()
    assert gc.get_threshold() == before  # also when the replay fails


def test_receipts_score_well(run: ScoredRun) -> None:
    _, least_f1, least_exact = CASES[run.preset]
    score = run.result.score
    assert score is not None
    assert score.sessions >= 2
    assert score.tp >= 5
    assert score.f1 >= least_f1, score.errors
    assert score.exact_rate >= least_exact, score.errors


def test_every_visit_gets_a_timely_receipt(run: ScoredRun) -> None:
    stats = run.result.stats
    assert stats.visits_opened == stats.visits_closed == len(run.result.receipts.receipts)
    assert stats.unattributed == 0
    assert run.result.cart_latency.p95 <= 1.0
    latency = run.result.receipt_latency
    assert latency is not None
    assert latency.p95 <= 2.0


def test_puts_are_confirmed_once_the_hand_has_left(run: ScoredRun) -> None:
    # The detector alone holds a rise for rise_confirm_s (7 s): a resting hand looks alike.
    delays = [
        e.t - e.evidence.t_end
        for line in run.result.out["evidence"].read_bytes().splitlines()
        if isinstance(e := CART_EVENT_ADAPTER.validate_json(line), ItemRemoved)
    ]
    if get_scenario(run.preset).put_back + get_scenario(run.preset).misplace == 0:
        assert delays == []  # nobody puts anything back: no item may leave a cart
        return
    assert delays, "the preset puts items back, so the run must show puts"
    assert float(np.median(delays)) <= 2.0


def test_unflagged_lines_are_right(run: ScoredRun) -> None:
    wrong, total = run.wrong_unflagged
    assert total > 0
    assert wrong <= max(1, total // 50)


# -- attribution between hands at one plate ---------------------------------------------------
#
# These drive the engine's attribution with a scripted hand tracker: ``hands_near`` answers
# what the test says each person's hands did before a change (the onset window) and during it.


def scripted_engine(
    during: list[HandEvidence], before: list[HandEvidence], tracked: bool
) -> tuple[Engine, ShelfEvent, dict[str, _Visit]]:
    """An engine whose people ``a``, ``b`` (and ``c``) shop on tokens ``A``, ``B`` (``C``),
    and a change on a one-product plate starting at t = 10 s; ``tracked``: people come from
    ``track`` messages."""
    engine = Engine(STORE)
    if tracked:  # the second message lets the first out of the reorder buffer
        engine.feed(TrackMsg(t=0.0, people=[]))
        engine.feed(TrackMsg(t=1.0, people=[]))
    start = 10.0

    def hands_near(box: object, t0: float, t1: float) -> list[HandEvidence]:
        return before if t1 <= start - 0.3 else during

    engine.people.hands_near = hands_near  # type: ignore[method-assign]
    visits = {}
    for track in ("a", "b", "c"):
        visits[track] = _Visit(id=track, token=track.upper(), staff=False, opened=0.0)
        engine._visits[track.upper()] = visits[track]
        engine._visit_of_track[track] = visits[track]
    event = ShelfEvent(PLATE, start, start + 0.3, start + 0.6, 0.0, 0.3, 0.5)
    return engine, event, visits


def clear_single_product_plate() -> str:
    """A plate with one product that its weight alone identifies."""
    for plate in STORE.plates:
        skus = STORE.skus_on(plate.id)
        if len(skus) == 1:
            product = STORE.product(skus[0])
            best = identify(-product.weight_g, 0.3, [product]).best
            if best is not None and best.probability > 0.999:
                return plate.id
    raise AssertionError("the store has such a plate")


PLATE = clear_single_product_plate()
UNIT_G = STORE.product(STORE.skus_on(PLATE)[0]).weight_g


def hand(track: str, distance: float, inside_s: float, placed: float | None = None) -> HandEvidence:
    """A person's hand evidence; ``placed``: the approach of their hands whose place is known
    (default: all of them)."""
    return HandEvidence(
        track, track.upper(), distance, inside_s, 10, distance if placed is None else placed
    )


def receipts_after(engine: Engine, event: ShelfEvent, units: int) -> dict[str, Receipt]:
    engine._on_shelf(replace(event, delta_g=-units * UNIT_G))
    engine.finish()
    return {r.token: r for r in engine.receipts().receipts}


def test_a_tracked_hand_just_outside_the_box_is_not_the_actor() -> None:
    # A hand 6 cm outside the box while another is in it: reported by an external tracker
    # (hands to a few cm) that is clear; triangulated from poses it stays doubtful.
    during = [hand("a", 0.0, 0.5), hand("b", 0.06, 0.0)]
    engine, event, _ = scripted_engine(during, during, tracked=True)
    sure = engine._attribute(event)
    unsure = scripted_engine(during, during, tracked=False)[0]._attribute(event)
    assert sure is not None
    assert unsure is not None
    assert sure.track == unsure.track == "a"
    assert sure.p > 0.9 > 0.8 > unsure.p
    got = receipts_after(engine, event, units=1)
    assert got["A"].items
    assert not got["B"].items
    assert not got["B"].flagged  # b's hand was not in the box: no doubt on b's receipt


def test_a_bystanders_receipt_is_doubted_by_the_chance_their_hand_made_the_change() -> None:
    # b's hand was in the box too, but not as long: the change goes to a, and b's receipt
    # carries the chance that it was b's instead (not a's chance of having made it).
    during = [hand("a", 0.0, 0.6), hand("b", 0.0, 0.2), hand("c", 0.06, 0.0)]
    engine, event, _ = scripted_engine(during, during, tracked=True)
    chances = engine._attribute(event)
    assert chances is not None
    assert chances.track == "a"
    got = receipts_after(engine, event, units=1)
    assert got["B"].confidence == pytest.approx(1.0 - chances.chances["b"], abs=1e-3)
    assert got["C"].confidence == pytest.approx(1.0 - chances.chances["c"], abs=1e-3)
    assert got["C"].confidence > got["B"].confidence


def test_a_change_goes_to_the_bill_whose_people_were_likeliest_together() -> None:
    # a and b shop on one bill (A); c alone was the likeliest single hand, but a or b made
    # the change more likely than c did: A's bill gets the item, with their chances summed.
    during = [hand("c", 0.0, 0.5), hand("a", 0.0, 0.4), hand("b", 0.0, 0.4)]
    engine, event, visits = scripted_engine(during, during, tracked=True)
    engine._visit_of_track["b"] = visits["a"]
    chances = engine._attribute(event)
    assert chances is not None
    assert chances.track == "c"
    assert chances.chances["a"] + chances.chances["b"] > chances.p
    engine._on_shelf(replace(event, delta_g=-UNIT_G))
    engine.finish()
    got = {r.token: r for r in engine.receipts().receipts}
    assert got["A"].items == {STORE.skus_on(PLATE)[0]: 1}
    assert not got["C"].items
    party = chances.chances["a"] + chances.chances["b"]
    assert got["A"].confidence == pytest.approx(party, abs=1e-3)


def test_a_coin_flip_between_two_people_on_one_bill_leaves_no_doubt_on_it() -> None:
    during = [hand("a", 0.0, 0.4), hand("b", 0.0, 0.4)]
    engine, event, visits = scripted_engine(during, during, tracked=True)
    engine._visit_of_track["b"] = visits["a"]
    added = engine._on_shelf(replace(event, delta_g=-UNIT_G))
    (evidence,) = [e.evidence for e in added if isinstance(e, ItemAdded)]
    assert evidence.person_p == pytest.approx(0.5)
    assert evidence.party_p == pytest.approx(1.0)
    engine.finish()
    receipt = next(r for r in engine.receipts().receipts if r.token == "A")
    assert receipt.items == {STORE.skus_on(PLATE)[0]: 1}
    assert not receipt.flagged
    # On two bills, the same hands leave both in doubt.
    engine, event, _ = scripted_engine(during, during, tracked=True)
    added = engine._on_shelf(replace(event, delta_g=-UNIT_G))
    (evidence,) = [e.evidence for e in added if isinstance(e, ItemAdded)]
    assert evidence.party_p == pytest.approx(0.5)
    assert evidence.confidence < EngineConfig().review_threshold


def test_hands_that_reached_in_together_share_a_pick_of_two_units() -> None:
    during = [hand("a", 0.0, 0.5), hand("b", 0.0, 0.45)]
    before = [hand("a", 0.2, 0.0), hand("b", 0.25, 0.0)]
    got = receipts_after(*scripted_engine(during, before, tracked=True)[:2], units=2)
    assert got["A"].items == got["B"].items == {STORE.skus_on(PLATE)[0]: 1}
    # One's put merged with the other's pick looks the same to the plate, but is far rarer.
    assert got["A"].confidence == got["B"].confidence == pytest.approx(EngineConfig().shared_p)
    assert not got["A"].flagged
    assert not got["B"].flagged


def test_the_odd_unit_of_a_shared_pick_is_flagged_as_a_coin_flip() -> None:
    during = [hand("a", 0.0, 0.5), hand("b", 0.0, 0.45)]
    before = [hand("a", 0.2, 0.0), hand("b", 0.25, 0.0)]
    got = receipts_after(*scripted_engine(during, before, tracked=True)[:2], units=3)
    sku = STORE.skus_on(PLATE)[0]
    assert got["A"].items == {sku: 2}
    assert got["B"].items == {sku: 1}
    assert got["A"].flagged
    assert got["B"].flagged
    # The odd unit is a coin flip between the two, on top of the split itself.
    shared_p = EngineConfig().shared_p
    assert 0.4 * shared_p < got["A"].confidence < 0.6 * shared_p


def test_a_hand_that_was_already_at_the_plate_does_not_share_the_pick() -> None:
    # b's hand was in the box before the change began: a's fresh reach made it.
    during = [hand("a", 0.0, 0.4), hand("b", 0.0, 0.6)]
    before = [hand("a", 0.2, 0.0), hand("b", 0.0, 0.4)]
    got = receipts_after(*scripted_engine(during, before, tracked=True)[:2], units=2)
    assert got["A"].items == {STORE.skus_on(PLATE)[0]: 2}
    assert not got["B"].items


def test_a_put_is_the_unit_picked_from_that_plate_rather_than_a_look_alike_from_elsewhere() -> None:
    # The cart holds one unit of A picked from the plate and three of B, picked elsewhere,
    # that weigh the same: the unit put down on the plate is A's (left elsewhere, B would land
    # on any of many plates), though B has more units that might have been put down.
    engine, event, visits = scripted_engine([hand("a", 0.0, 0.5)], [], tracked=True)
    visit = visits["a"]
    a_sku = STORE.skus_on(PLATE)[0]
    b_sku = next(p.sku for p in STORE.products if p.sku != a_sku)
    visit.add(a_sku, 1, 1.0, 100.0, 0.3)
    visit.origins[a_sku].add(PLATE)
    visit.add(b_sku, 3, 1.0, 300.0, 0.3)
    visit.origins[b_sku].add(next(p.id for p in STORE.plates if p.id != PLATE))
    visit.held["a"].update({a_sku: 1, b_sku: 3})
    best = engine._identify(replace(event, delta_g=100.0), visit, "a").best
    assert best is not None
    assert best.sku == a_sku
    assert best.probability > 0.8


def test_without_hands_seen_a_lone_body_within_reach_is_the_likely_actor() -> None:
    engine, event, _ = scripted_engine([], [], tracked=False)
    (x0, y0, _), (x1, _, _) = STORE.plate(PLATE).box
    at_plate = ((x0 + x1) / 2, y0 - 0.5)  # half a metre in front of the plate

    def people_at(*spots: tuple[str, tuple[float, float]]) -> None:
        engine.people.tracks = lambda: [  # type: ignore[method-assign]
            TrackState(track, track.upper(), xy, (0.0, 0.0), 10.0) for track, xy in spots
        ]
        engine.people.position = lambda track, t, within_s=0.5: next(  # type: ignore[method-assign]
            TrackPoint(track, t, xy, None, (None, None)) for tr, xy in spots if tr == track
        )

    cfg = EngineConfig()
    people_at(("a", at_plate))
    alone = engine._attribute(event)
    assert alone is not None
    assert alone.chances == {"a": cfg.body_alone_p}
    assert alone.p >= cfg.review_threshold
    people_at(("b", (at_plate[0], at_plate[1] - 0.3)), ("a", at_plate))
    two = engine._attribute(event)
    assert two is not None
    assert list(two.chances) == ["a", "b"]  # the nearer first, the other a candidate too
    assert sum(two.chances.values()) == pytest.approx(cfg.body_alone_p)
    assert cfg.body_alone_p / 2 < two.p < cfg.review_threshold  # 0.3 m nearer: not sure
    people_at(("a", (at_plate[0], at_plate[1] - 1.5)))
    assert engine._attribute(event) is None  # too far to have reached


def seen_away(engine: Engine, shares: dict[str, float]) -> None:
    """Script the share of each person's observations during the change in which both their
    hands were seen away from the plate."""

    def hands_away(box: object, t0: float, t1: float, beyond_m: float) -> dict[str, float]:
        return shares

    engine.people.hands_away = hands_away  # type: ignore[method-assign]


def chances_among(
    spots: dict[str, tuple[float, float]],
    *hands: HandEvidence,
    away: dict[str, float] | None = None,
    tracked: bool = False,
) -> dict[str, float]:
    """Who the scripted engine says made the change, with people standing at ``spots``, their
    hands as given and (``away``) seen away from the plate during the change."""
    engine, event, _ = scripted_engine(list(hands), [], tracked=tracked)
    seen_away(engine, away or {})
    engine.people.tracks = lambda: [  # type: ignore[method-assign]
        TrackState(track, track.upper(), xy, (0.0, 0.0), 10.0) for track, xy in spots.items()
    ]
    engine.people.position = lambda track, t, within_s=0.5: TrackPoint(  # type: ignore[method-assign]
        track, t, spots[track], None, (None, None)
    )
    who = engine._attribute(event)
    assert who is not None
    return who.chances


def weighed(chances: dict[str, float], spots: dict[str, tuple[float, float]]) -> dict[str, float]:
    """Pose-placed hands' chances weighed by how near each body stood to the plate's box
    (``EngineConfig.body_scale_m``), keeping their sum."""
    cfg = EngineConfig()
    (x0, y0, _), (x1, y1, _) = STORE.plate(PLATE).box

    def stood(x: float, y: float) -> float:
        return math.hypot(max(x0 - x, 0.0, x - x1), max(y0 - y, 0.0, y - y1))

    w = {t: c * math.exp(-stood(*spots[t]) / cfg.body_scale_m) for t, c in chances.items()}
    scale = sum(chances.values()) / sum(w.values())
    return {t: v * scale for t, v in w.items()}


def test_without_a_hand_within_reach_the_body_whose_hand_came_nearest_is_likelier() -> None:
    # Two bodies as near the plate; b's hand (seen by one camera, say) came 0.45 m from the
    # box, a's stayed farther or was never seen: b is the likelier actor, the more so the
    # farther a's hand stayed, and a hand beyond ``far_hand_m`` counts as none.
    cfg = EngineConfig()
    (x0, y0, _), (x1, _, _) = STORE.plate(PLATE).box
    spots = {"a": ((x0 + x1) / 2 - 0.3, y0 - 0.4), "b": ((x0 + x1) / 2 + 0.3, y0 - 0.4)}

    def attribute(*hands: HandEvidence) -> dict[str, float]:
        return chances_among(spots, *hands)

    unseen = attribute(hand("b", 0.45, 0.0))
    assert list(unseen) == ["b", "a"]
    farther = attribute(hand("b", 0.45, 0.0), hand("a", 0.5, 0.0))
    assert unseen["b"] > farther["b"] > farther["a"]
    assert attribute(hand("b", 0.45, 0.0), hand("a", 2.0, 0.0)) == pytest.approx(unseen)
    assert attribute(hand("a", 0.9, 0.0), hand("b", 1.5, 0.0)) == pytest.approx(
        {"a": cfg.body_alone_p / 2, "b": cfg.body_alone_p / 2}
    )


def test_between_hands_placed_from_poses_the_body_that_stood_nearer_is_likelier() -> None:
    # Both hands came 10 cm from the box, neither in it; a stood 0.3 m from the plate, b 0.7 m.
    cfg = EngineConfig()
    (x0, y0, _), (x1, _, _) = STORE.plate(PLATE).box
    middle = (x0 + x1) / 2
    spots = {"a": (middle - 0.3, y0 - 0.3), "b": (middle + 0.3, y0 - 0.7)}
    level = (hand("a", 0.1, 0.0), hand("b", 0.1, 0.0))
    got = chances_among(spots, *level)
    assert list(got) == ["a", "b"]
    assert got == pytest.approx(weighed({"a": 0.5, "b": 0.5}, spots))
    assert got["a"] > cfg.review_threshold
    # Hands that an external tracker placed are not weighed: a coin flip.
    assert chances_among(spots, *level, tracked=True) == pytest.approx({"a": 0.5, "b": 0.5})
    # A hand seen in the box still outweighs where its body stood.
    inside = chances_among(spots, hand("a", 0.25, 0.0), hand("b", 0.0, 0.3))
    assert list(inside) == ["b", "a"]
    assert sum(inside.values()) == pytest.approx(1.0)


def test_a_hand_in_reach_only_on_its_ray_is_doubted_when_another_stood_nearer() -> None:
    # b's hand came within reach only as a stretch of one camera's ray (no place known within
    # reach); a stood nearer the plate with no hand seen there.
    cfg = EngineConfig()
    (x0, y0, _), (x1, _, _) = STORE.plate(PLATE).box
    middle = (x0 + x1) / 2

    def attribute(b_hand: HandEvidence, a_m: float, b_m: float) -> dict[str, float]:
        spots = {"a": (middle - 0.3, y0 - a_m), "b": (middle + 0.3, y0 - b_m)}
        # a's hands were seen now and then, far from the plate
        return chances_among(spots, b_hand, replace(hand("a", 0.9, 0.0), samples=12))

    on_its_ray = hand("b", 0.05, 0.0, placed=float("inf"))
    doubted = attribute(on_its_ray, a_m=0.3, b_m=0.7)
    spots = {"a": (middle - 0.3, y0 - 0.3), "b": (middle + 0.3, y0 - 0.7)}
    assert doubted == pytest.approx(
        weighed({"b": cfg.ray_only_p, "a": 1.0 - cfg.ray_only_p}, spots)
    )
    assert max(doubted.values()) < cfg.review_threshold
    # Placed within reach by several cameras, or standing nearest itself: b's alone.
    assert attribute(hand("b", 0.05, 0.0), a_m=0.3, b_m=0.7) == {"b": 1.0}
    assert attribute(on_its_ray, a_m=0.7, b_m=0.3) == {"b": 1.0}


def test_a_hand_placed_near_the_box_is_doubted_for_someone_whose_hands_went_unseen() -> None:
    # b's hand came 5 cm from the box, never in it; a stood within reach and their hands were
    # hardly seen (as when one is in the shelf): a may have made the change.
    cfg = EngineConfig()
    (x0, y0, _), (x1, _, _) = STORE.plate(PLATE).box
    middle = (x0 + x1) / 2
    spots = {"a": (middle - 0.3, y0 - 0.7), "b": (middle + 0.3, y0 - 0.3)}
    b_near = hand("b", 0.05, 0.0)

    def a_seen(times: int) -> HandEvidence:
        return replace(hand("a", 0.9, 0.0), samples=times)

    doubted = chances_among(spots, b_near, a_seen(cfg.unseen_hands))
    assert doubted == pytest.approx(
        weighed({"b": cfg.ray_only_p, "a": 1.0 - cfg.ray_only_p}, spots)
    )
    assert chances_among(spots, b_near) == doubted  # a's hands never seen at all
    # a's hands seen more often, or b's hand in the box: b's alone.
    assert chances_among(spots, b_near, a_seen(cfg.unseen_hands + 1)) == {"b": 1.0}
    assert chances_among(spots, hand("b", 0.0, 0.3)) == {"b": 1.0}
    # a's hands both seen away from the plate while its load changed: b's alone.
    assert chances_among(spots, b_near, away={"a": 1.0}) == {"b": 1.0}


def test_whoever_had_both_hands_seen_away_while_the_load_changed_did_not_change_it() -> None:
    cfg = EngineConfig()
    # Both hands were in the box around the change, b's the longer; but b's hands were both
    # seen outside reach for most of the change itself: a's hand, unseen or in the box, made it.
    during = [hand("a", 0.0, 0.2), hand("b", 0.0, 0.6)]
    engine, event, _ = scripted_engine(during, during, tracked=False)
    before = engine._attribute(event)
    assert before is not None
    assert before.track == "b"
    seen_away(engine, {"a": 0.0, "b": cfg.away_share})
    assert engine._attribute(event) == replace(before, chances={"a": 1.0})
    # Seen away less often, or everyone seen away (the cue is wrong somewhere): no change.
    seen_away(engine, {"a": 0.0, "b": 0.4})
    assert engine._attribute(event) == before
    seen_away(engine, {"a": 1.0, "b": 1.0})
    assert engine._attribute(event) == before

    (x0, y0, _), (x1, _, _) = STORE.plate(PLATE).box
    middle = (x0 + x1) / 2
    spots = {"a": (middle - 0.3, y0 - 0.3), "b": (middle + 0.3, y0 - 0.7)}
    # A hand within reach only on its ray is not doubted for a nearer body seen away...
    on_its_ray = hand("b", 0.05, 0.0, placed=float("inf"))
    assert chances_among(spots, on_its_ray, away={"a": 1.0}) == {"b": 1.0}
    # ...and a hand within reach whose person was seen away leaves the body that was not.
    assert chances_among(spots, hand("b", 0.0, 0.5), away={"b": 1.0, "a": 0.0}) == {
        "a": cfg.body_alone_p
    }
    # Without a hand within reach, the nearer body seen away yields to the farther one.
    assert list(chances_among(spots)) == ["a", "b"]
    assert chances_among(spots, away={"a": 1.0}) == {"b": cfg.body_alone_p}


def test_a_put_goes_to_the_one_of_two_hands_whose_party_holds_what_came_down() -> None:
    # Both hands were at the plate all along; only a's party holds a unit that weighs what
    # came down, so b cannot have put it there.
    both = [hand("a", 0.0, 0.5), hand("b", 0.0, 0.5)]
    engine, event, visits = scripted_engine(both, both, tracked=True)
    a_sku = STORE.skus_on(PLATE)[0]
    other = next(p for p in STORE.products if abs(p.weight_g - UNIT_G) > 100.0)
    visits["a"].add(a_sku, 1, 1.0, UNIT_G, 0.3)
    visits["a"].origins[a_sku].add(PLATE)
    visits["a"].held["a"][a_sku] = 1
    visits["b"].add(other.sku, 1, 1.0, other.weight_g, 0.3)
    visits["b"].held["b"][other.sku] = 1
    unweighed = engine._attribute(replace(event, delta_g=UNIT_G))
    assert unweighed is not None
    assert unweighed.p < 0.6  # the hands alone cannot tell
    out = engine._on_shelf(replace(event, delta_g=UNIT_G))
    removed = [e for e in out if isinstance(e, ItemRemoved)]
    assert [(e.token, e.sku, e.qty) for e in removed] == [("A", a_sku, 1)]
    assert removed[0].evidence.person_p > 0.99
    assert visits["b"].lines[other.sku].qty == 1


# -- lanes: where on a shared plate the hand reached ------------------------------------------


def shared_plate_store() -> Store:
    """The corner store's plates that carry two products in lanes, without cameras (so no
    product sightings): weight and the hand's place are all there is to tell them apart."""
    shared = tuple(p.id for p in CORNER.plates if CORNER.lanes_on(p.id))
    aisle = aisle_store(CORNER, shared)
    return aisle.model_copy(update={"cameras": [], "products": CORNER.products})


def without_lanes(store: Store) -> Store:
    facings = [f.model_copy(update={"box": None}) for f in store.facings]
    return store.model_copy(update={"facings": facings})


def test_the_hands_lane_tells_look_alikes_on_one_plate_apart(tmp_path: Path) -> None:
    store = shared_plate_store()
    assert len(store.plates) >= 10
    lanes = scored_run("busy", 101, tmp_path / "lanes", store=store, shoppers=10, minutes=2.0)
    # The same recording, replayed by an engine that does not know where each product stands.
    blind_dir = tmp_path / "blind"
    blind_dir.mkdir()
    (blind_dir / "store.json").write_bytes(store_json(without_lanes(store)))
    for name in ("recording.jsonl.gz", "truth.json"):
        (blind_dir / name).symlink_to(tmp_path / "lanes" / name)
    blind = replay(blind_dir)
    assert lanes.result.score is not None
    assert blind.score is not None
    assert lanes.result.score.tp >= 20
    # Every pick is on a shared plate; nine in fourteen of them hold look-alikes under 1 %
    # apart, which weight alone can only guess between (and flags for review).
    assert lanes.result.score.exact_rate == 1.0, lanes.result.score.errors
    assert lanes.result.review_rate <= 0.2
    assert blind.score.exact_rate <= 0.5
    assert blind.review_rate >= 0.5
