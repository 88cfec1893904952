"""Product identification by weight: ranked, normalised hypotheses with honest uncertainty."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from walkout.domain.store import Product, Store
from walkout.engine.identify import (
    Candidates,
    IdentifyParams,
    ItemCount,
    StoreIdentifier,
    identify,
    identify_candidates,
    lane_likelihoods,
)


def product(sku: str, weight: float, sd: float | None = None) -> Product:
    extra = {} if sd is None else {"weight_sd_g": sd}
    return Product.model_validate(
        {"sku": sku, "name": sku, "price": 100, "weight_g": weight, **extra}
    )


COLA = product("cola", 368.0, 2.5)
CHIPS = product("chips", 120.0, 1.5)
GUM = product("gum", 5.0, 0.2)
YOG_A = product("yog-straw", 150.0, 1.5)
YOG_B = product("yog-peach", 150.6, 1.5)
ALL = [COLA, CHIPS, GUM, YOG_A, YOG_B, product("wine", 1250.0, 8.0), product("bar", 52.0, 0.8)]
EVERYTHING = IdentifyParams(min_probability=0.0, max_hypotheses=10**6)


@pytest.mark.parametrize("qty", [-5, -3, -2, -1, 1, 2, 4])
@pytest.mark.parametrize("p", [COLA, CHIPS, GUM])
def test_counts_of_one_product(p: Product, qty: int) -> None:
    result = identify(qty * p.weight_g + 0.3, 0.4, [p], ALL)
    best = result.best
    assert best is not None
    assert (best.sku, best.qty, best.also) == (p.sku, qty, ())
    assert best.probability > 0.9
    assert best.on_plate
    assert abs(best.z) < 1.0


def test_look_alike_weights_split_the_probability() -> None:
    result = identify(-150.3, 0.4, [YOG_A, YOG_B])
    top = result.hypotheses[:2]
    assert {h.sku for h in top} == {"yog-straw", "yog-peach"}
    assert all(h.qty == -1 for h in top)
    assert all(0.35 < h.probability < 0.65 for h in top)


# Two look-alike yoghurts side by side on a 0.3 m plate: straw in x < 1.15, peach beyond.
LANES = {
    "yog-straw": ((1.0, 2.0, 0.5), (1.15, 2.4, 0.8)),
    "yog-peach": ((1.15, 2.0, 0.5), (1.3, 2.4, 0.8)),
}


def test_a_hand_well_inside_a_lane_points_to_its_product() -> None:
    lanes = lane_likelihoods((1.25, 2.2, 0.6), LANES, sd_m=0.03)
    assert lanes is not None
    assert lanes.of("yog-peach") == 1.0
    assert lanes.of("yog-straw") < 0.01
    # An item left on the plate outside the lanes may be anywhere: half as likely here.
    assert lanes.of("cola") == pytest.approx(0.5, abs=0.01)
    result = identify(-150.3, 0.4, [YOG_A, YOG_B], lanes=lanes)
    assert result.best is not None
    assert (result.best.sku, result.best.qty) == ("yog-peach", -1)
    assert result.best.probability > 0.95


def test_a_hand_on_the_border_of_two_lanes_says_nothing_and_a_far_one_nothing_at_all() -> None:
    lanes = lane_likelihoods((1.15, 2.2, 0.6), LANES, sd_m=0.03)
    assert lanes is not None
    assert lanes.of("yog-peach") == pytest.approx(lanes.of("yog-straw"))
    assert lane_likelihoods((9.0, 9.0, 9.0), LANES, sd_m=0.03) is None


@given(x=st.floats(0.9, 1.4), sd=st.floats(0.01, 0.2))
@settings(max_examples=200, deadline=None)
def test_lane_likelihoods_are_relative_and_favour_the_nearer_lane(x: float, sd: float) -> None:
    lanes = lane_likelihoods((x, 2.2, 0.6), LANES, sd_m=sd)
    assert lanes is not None
    values = [lanes.of(k) for k in LANES]
    assert max(values) == 1.0
    assert all(0.0 <= v <= 1.0 for v in values)
    straw, peach = lanes.of("yog-straw"), lanes.of("yog-peach")
    assert (straw >= peach) == (x <= 1.15) or straw == pytest.approx(peach)
    # A noisier hand says less: the lanes' likelihoods draw together.
    blurred = lane_likelihoods((x, 2.2, 0.6), LANES, sd_m=2 * sd)
    assert blurred is not None
    assert min(blurred.of(k) for k in LANES) >= min(values) - 1e-12


def test_camera_evidence_breaks_the_tie() -> None:
    result = identify(-150.3, 0.4, [YOG_A, YOG_B], evidence={"yog-peach": 0.9, "yog-straw": 0.05})
    best = result.best
    assert best is not None
    assert best.sku == "yog-peach"
    assert best.probability > 0.8
    # Evidence says which product, never whether the change is explained at all.
    plain = identify(-150.3, 0.4, [YOG_A, YOG_B])
    assert result.unexplained == pytest.approx(plain.unexplained)


def test_mixed_plate_one_of_each() -> None:
    result = identify(-(COLA.weight_g + CHIPS.weight_g), 0.4, [COLA, CHIPS], ALL)
    best = result.best
    assert best is not None
    assert set(best.items) == {ItemCount("cola", -1), ItemCount("chips", -1)}
    assert best.probability > 0.9


def test_mixed_needs_both_products_on_the_plate() -> None:
    # The same change on a cola-only plate is not "cola + chips from elsewhere".
    result = identify(-(COLA.weight_g + CHIPS.weight_g), 0.4, [COLA], ALL, params=EVERYTHING)
    assert all(not h.also for h in result.hypotheses)


def test_put_back_on_the_wrong_plate() -> None:
    result = identify(CHIPS.weight_g - 0.2, 0.4, [COLA], ALL)
    best = result.best
    assert best is not None
    assert (best.sku, best.qty, best.on_plate) == ("chips", 1, False)


def test_own_products_are_preferred_over_equal_weights_elsewhere() -> None:
    twin = product("twin", COLA.weight_g, COLA.weight_sd_g)
    result = identify(-COLA.weight_g, 0.4, [COLA], [twin])
    assert [(h.sku, round(h.probability, 2)) for h in result.hypotheses[:2]] == [
        ("cola", 0.97),
        ("twin", 0.03),
    ]


def test_small_counts_are_preferred() -> None:
    # 2 x 150 g and 1 x 300 g fit equally; the single unit wins on the prior.
    big = product("big", 300.0, 1.5)
    result = identify(-300.0, 0.4, [YOG_A, big], params=EVERYTHING)
    probs = {(h.sku, h.qty): h.probability for h in result.hypotheses if not h.also}
    assert probs[("big", -1)] > 2 * probs[("yog-straw", -2)]


def test_limits_cap_the_units_that_can_move() -> None:
    # Two chips fit best, but the cart holds one: then it is the 240 g of nothing known.
    free = identify(2 * CHIPS.weight_g, 0.4, [CHIPS, COLA], params=EVERYTHING)
    assert free.best is not None
    assert (free.best.sku, free.best.qty) == ("chips", 2)
    capped = identify(
        2 * CHIPS.weight_g, 0.4, [CHIPS, COLA], params=EVERYTHING, limits={"chips": 1, "cola": 3}
    )
    assert all(abs(it.qty) <= 1 for h in capped.hypotheses for it in h.items if it.sku == "chips")
    assert capped.unexplained > 0.5
    # A product the limits do not name cannot move at all.
    assert identify(COLA.weight_g, 0.4, [COLA], limits={}).hypotheses == ()


def test_priors_weigh_look_alikes() -> None:
    # Equal weights: the likelihoods tie and the 3 : 1 prior decides, in proportion; the
    # products' total prior (against "unexplained") stays about the same.
    twin = product("twin", YOG_A.weight_g, YOG_A.weight_sd_g)
    result = identify(YOG_A.weight_g, 0.4, [YOG_A, twin], priors={"yog-straw": 3.0})
    p = {h.sku: h.probability for h in result.hypotheses if h.qty == 1 and not h.also}
    assert p["yog-straw"] / p["twin"] == pytest.approx(3.0, rel=1e-6)
    plain = identify(YOG_A.weight_g, 0.4, [YOG_A, twin])
    assert result.unexplained == pytest.approx(plain.unexplained, rel=0.05)


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["cola", "chips", "gum"]), st.integers(0, 3)),
    st.floats(-1500.0, 1500.0),
)
def test_property_limits_are_respected(limits: dict[str, int], delta: float) -> None:
    result = identify(delta, 0.5, [COLA, CHIPS, GUM], params=EVERYTHING, limits=limits)
    for h in result.hypotheses:
        for it in h.items:
            assert abs(it.qty) <= limits.get(it.sku, 0)
    probs = [h.probability for h in result.hypotheses]
    assert math.fsum(probs) + result.unexplained == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("delta", [0.0, -2000.0, 37.0])
def test_changes_no_product_explains(delta: float) -> None:
    result = identify(delta, 0.3, [COLA, CHIPS])
    assert result.unexplained > 0.9


@pytest.mark.parametrize("delta", [-2000.0, 1e6])
def test_evidence_on_an_unexplained_change_gives_no_nan(delta: float) -> None:
    """Every hypothesis' likelihood underflows to 0: camera evidence must not divide by it."""
    result = identify(delta, 0.3, [COLA, CHIPS], evidence={"cola": 0.9})
    assert all(math.isfinite(h.probability) for h in result.hypotheses)
    assert math.isfinite(result.unexplained)
    assert result.unexplained > 0.9


def test_no_candidates() -> None:
    result = identify(-100.0, 1.0, [])
    assert result.hypotheses == ()
    assert result.unexplained == 1.0
    assert result.best is None


def test_non_finite_input_is_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        identify(math.nan, 1.0, [COLA])


def test_measurement_uncertainty_widens_the_likelihood() -> None:
    # 20 g off: impossible with a 0.3 g measurement, plausible with a 12 g one.
    tight = identify(-(COLA.weight_g + 20.0), 0.3, [COLA])
    loose = identify(-(COLA.weight_g + 20.0), 12.0, [COLA])
    assert tight.unexplained > 0.9
    assert loose.best is not None
    assert loose.best.sku == "cola"
    assert loose.best.probability > 0.9


def test_store_identifier_matches_identify() -> None:
    store = Store.model_validate(
        {
            "version": 1,
            "id": "s",
            "name": "S",
            "currency": "USD",
            "floor": [[0, 0], [10, 0], [10, 10], [0, 10]],
            "gates": [{"id": "g", "kind": "both", "area": [[0, 0], [1, 0], [1, 1]]}],
            "products": [p.model_dump() for p in ALL],
            "plates": [{"id": f"P{i}", "box": [[0, 0, 0], [1, 1, 1]]} for i in range(2)],
            "facings": [
                {"sku": "cola", "plates": ["P0"]},
                {"sku": "chips", "plates": ["P0", "P1"]},
            ],
        }
    )
    ident = StoreIdentifier(store)
    got = ident.identify("P0", -488.2, 0.5)
    want = identify(-488.2, 0.5, [COLA, CHIPS], ALL)
    assert got == want
    assert ident.candidates("P0") is ident.candidates("P0")
    only_plate = StoreIdentifier(store, include_store=False).identify("P1", 400.0, 0.5)
    assert only_plate.unexplained > 0.9


# Properties -------------------------------------------------------------------------------

weights = st.floats(3.0, 2000.0)
products = st.lists(
    st.builds(lambda w, f: (w, max(0.5, f * w)), weights, st.floats(0.0, 0.03)),
    min_size=0,
    max_size=8,
)


@settings(max_examples=80, deadline=None)
@given(products, st.integers(0, 3), st.floats(-5000.0, 5000.0), st.floats(0.0, 20.0))
def test_property_probabilities_are_normalised_and_ranked(
    specs: list[tuple[float, float]], n_own: int, delta: float, sd: float
) -> None:
    ps = [product(f"s{i}", w, sd_) for i, (w, sd_) in enumerate(specs)]
    own, others = ps[:n_own], ps[n_own:]
    result = identify(delta, sd, own, others, params=EVERYTHING)
    probs = [h.probability for h in result.hypotheses]
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert probs == sorted(probs, reverse=True)
    assert math.fsum(probs) + result.unexplained == pytest.approx(1.0, abs=1e-9)
    by_sku = {p.sku: p for p in ps}
    for h in result.hypotheses:
        mean = sum(it.qty * by_sku[it.sku].weight_g for it in h.items)
        var = sum(abs(it.qty) * by_sku[it.sku].weight_sd_g ** 2 for it in h.items)
        assert h.z == pytest.approx((delta - mean) / math.sqrt(var + sd * sd + 1e-6), rel=1e-6)
        assert h.on_plate == all(it.sku in {p.sku for p in own} for it in h.items)
        assert all(it.qty != 0 for it in h.items)


@settings(max_examples=60, deadline=None)
@given(weights, st.integers(1, 4), st.sampled_from([-1, 1]), st.floats(-0.5, 0.5))
def test_property_a_lone_product_is_recognised(
    weight: float, units: int, sign: int, noise: float
) -> None:
    p = product("x", weight, max(0.5, 0.01 * weight))
    result = identify(sign * units * weight + noise, 0.5, [p])
    best = result.best
    assert best is not None
    assert (best.sku, best.qty) == ("x", sign * units)


def test_candidates_deduplicate_and_keep_own_first() -> None:
    c = Candidates.build([CHIPS, COLA, CHIPS], [COLA, GUM, GUM])
    assert c.skus == ("chips", "cola", "gum")
    assert c.n_own == 2
    result = identify_candidates(-5.0, 0.1, c, params=replace(EVERYTHING, other_prior=0.5))
    best = result.best
    assert best is not None
    assert (best.sku, best.on_plate) == ("gum", False)
