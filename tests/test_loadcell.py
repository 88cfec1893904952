"""The load-cell model: valid protocol lines, steps that match the truth, calibrated noise."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from walkout.domain.messages import WeightMsg, parse_message
from walkout.domain.store import Store
from walkout.sim.loadcell import LoadCellFaults, LoadCellParams, LoadCellRenderer
from walkout.sim.timeline import ContactKind, PlateContact

T0 = 1_700_000_000.0


def make_store(n: int, hz: Sequence[float] = (60.0,)) -> Store:
    """A store of ``n`` plates, their rates cycling through ``hz``."""
    return Store.model_validate(
        {
            "version": 1,
            "id": "lc",
            "name": "Load cells",
            "currency": "USD",
            "floor": [[0, 0], [10, 0], [10, 10], [0, 10]],
            "gates": [{"id": "g", "kind": "both", "area": [[0, 0], [1, 0], [1, 1]]}],
            "products": [{"sku": "1", "name": "Cola", "price": 199, "weight_g": 368.0}],
            "plates": [
                {"id": f"P{i}", "box": [[0, 0, 0], [1, 1, 1]], "hz": hz[i % len(hz)]}
                for i in range(n)
            ],
            "facings": [{"sku": "1", "plates": [f"P{i}" for i in range(n)]}],
        }
    )


def render(
    store: Store,
    contacts: Sequence[PlateContact] = (),
    seconds: float = 5.0,
    *,
    seed: int = 0,
    windows: Sequence[float] = (10.0,),
    params: LoadCellParams | None = None,
    faults: LoadCellFaults | None = None,
    initial: float = 1000.0,
) -> list[bytes]:
    """Every line of ``seconds`` of recording, rendered in windows cycling through ``windows``."""
    loads = {p.id: initial for p in store.plates}
    r = LoadCellRenderer(store, loads, contacts, start=T0, seed=seed, params=params, faults=faults)
    lines: list[bytes] = []
    t, i = T0, 0
    while t < T0 + seconds:
        t1 = min(t + windows[i % len(windows)], T0 + seconds)
        chunk = r.render(t, t1)
        assert np.all((chunk.t >= t) & (chunk.t < t1))
        assert np.all(np.diff(chunk.t) >= 0)
        lines += chunk.lines
        t, i = t1, i + 1
    return lines


@dataclass
class Series:
    """One plate's messages: times ``(M,)`` and samples ``(M, 12)`` (nan for null)."""

    t: np.ndarray
    g: np.ndarray
    hz: float

    @property
    def sample_t(self) -> np.ndarray:
        k = self.g.shape[1]
        times: np.ndarray = (self.t[:, None] + np.arange(k) / self.hz).reshape(-1)
        return times

    def between(self, a: float, b: float) -> np.ndarray:
        """The non-null samples taken in [a, b)."""
        st_, g = self.sample_t, self.g.reshape(-1)
        v: np.ndarray = g[(st_ >= a) & (st_ < b)]
        kept: np.ndarray = v[~np.isnan(v)]
        return kept


def by_plate(lines: Sequence[bytes]) -> dict[str, Series]:
    raw: dict[str, tuple[list[float], list[list[float]], float]] = {}
    for line in lines:
        m = orjson.loads(line)
        ts, gs, _ = raw.setdefault(m["plate"], ([], [], m["hz"]))
        ts.append(m["t"])
        gs.append([np.nan if v is None else v for v in m["g"]])
    out = {}
    for plate, (ts, gs, hz) in raw.items():
        order = np.argsort(ts)
        out[plate] = Series(np.array(ts)[order], np.array(gs)[order], hz)
    return out


def robust_sd(v: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(v - np.median(v))))


# --- protocol ----------------------------------------------------------------------------


def test_every_line_is_a_valid_weight_message() -> None:
    store = make_store(4, hz=(60.0, 30.0))
    contacts = [PlateContact("P1", T0 + 1.0, T0 + 1.8, -368.0, 30.0, kind="pick")]
    lines = render(store, contacts, 6.0, windows=(1.3, 2.0))
    assert len(lines) > 4 * 6 * 2.4  # 60 Hz plates send 5 messages/s, 30 Hz ones 2.5
    number = rb"-?\d+\.\d"
    shape = re.compile(
        rb'\{"type":"weight","plate":"P\d","t":\d+\.\d{3},"hz":(60|30),"g":\[((%s|null),){11}(%s|null)\]\}'
        % (number, number)
    )
    for line in lines:
        assert shape.fullmatch(line), line
        msg = parse_message(line)
        assert isinstance(msg, WeightMsg)
        assert msg.hz == store.plate(msg.plate).hz
        assert len(msg.g) == 12


def test_odd_plate_ids_and_nulls_serialise_as_json() -> None:
    data = make_store(1).model_dump()
    data["plates"][0]["id"] = data["facings"][0]["plates"][0] = 'nan-50%"x'
    store = Store.model_validate(data)
    msgs = [parse_message(x) for x in render(store, params=LoadCellParams(null_prob=0.2))]
    assert {m.plate for m in msgs if isinstance(m, WeightMsg)} == {'nan-50%"x'}
    nulls = sum(v is None for m in msgs if isinstance(m, WeightMsg) for v in m.g)
    assert 0.1 < nulls / (12 * len(msgs)) < 0.3


def test_output_does_not_depend_on_windows() -> None:
    store = make_store(5)
    contacts = [PlateContact("P2", T0 + 3.0, T0 + 4.0, 200.0, kind="put")]
    whole = render(store, contacts, 25.0, windows=(25.0,))
    assert render(store, contacts, 25.0, windows=(0.37, 4.1, 11.0)) == whole


def test_same_seed_same_bytes_and_different_seed_different_bytes() -> None:
    store = make_store(3)
    a = b"\n".join(render(store, seconds=3.0, seed=7))
    assert b"\n".join(render(store, seconds=3.0, seed=7)) == a
    assert b"\n".join(render(store, seconds=3.0, seed=8)) != a


def test_bad_inputs_are_refused() -> None:
    store = make_store(2)
    with pytest.raises(ValueError, match="unknown plate"):
        LoadCellRenderer(store, {"nope": 1.0}, [], start=T0, seed=0)
    with pytest.raises(ValueError, match="ends before"):
        LoadCellRenderer(store, {}, [PlateContact("P0", T0 + 2, T0 + 1, 5.0)], start=T0, seed=0)
    r = LoadCellRenderer(store, {}, [], start=T0, seed=0)
    r.render(T0, T0 + 2)
    with pytest.raises(ValueError, match="does not follow"):
        r.render(T0 + 1, T0 + 3)


# --- contacts ----------------------------------------------------------------------------


@st.composite
def contact_lists(draw: st.DrawFn) -> list[PlateContact]:
    """Non-overlapping contacts on P0, each with 0.5 s of quiet before and after."""
    contacts, t = [], T0 + 1.0
    for _ in range(draw(st.integers(1, 4))):
        t += draw(st.floats(0.6, 2.0))
        duration = draw(st.floats(0.0, 2.0))
        kind: ContactKind = draw(st.sampled_from(("pick", "put", "touch", "lean")))
        unit = draw(st.floats(20.0, 1500.0))
        delta = {"pick": -unit, "put": unit, "touch": 0.0, "lean": 0.0}[kind]
        press = draw(st.floats(0.0, 80.0)) if kind in ("pick", "touch") else 0.0
        hold = draw(st.floats(0.0, 400.0)) if kind == "lean" else 0.0
        contacts.append(PlateContact("P0", t, t + duration, delta, press, hold, kind))
        t += duration
    return contacts


@settings(max_examples=30, deadline=None)
@given(
    contacts=contact_lists(),
    seed=st.integers(0, 2**32 - 1),
    block_s=st.sampled_from([0.4, 1.0, 10.0]),  # short blocks: contacts span several
)
def test_each_contact_is_a_step_of_its_delta(
    contacts: list[PlateContact], seed: int, block_s: float
) -> None:
    end = contacts[-1].t_end + 1.0
    params = LoadCellParams(block_s=block_s)
    series = by_plate(render(make_store(1), contacts, end - T0, seed=seed, params=params))["P0"]
    for c in contacts:
        before = series.between(c.t_start - 0.5, c.t_start)
        after = series.between(c.t_end + 0.02, c.t_end + 0.52)
        noise = max(robust_sd(before), robust_sd(after))
        step = float(np.median(after) - np.median(before))
        assert step == pytest.approx(c.delta_g, abs=2.0 * noise + 1.0)


def test_overlapping_contacts_superpose() -> None:
    contacts = [
        PlateContact("P0", T0 + 1.0, T0 + 2.0, -300.0, 40.0, kind="pick"),
        PlateContact("P0", T0 + 1.5, T0 + 3.0, 120.0, kind="put"),
        PlateContact("P0", T0 + 1.2, T0 + 2.5, 0.0, hold_g=250.0, kind="lean"),
    ]
    s = by_plate(render(make_store(1), contacts, 4.0, seed=3))["P0"]
    step = np.median(s.between(T0 + 3.1, T0 + 3.6)) - np.median(s.between(T0 + 0.4, T0 + 0.9))
    assert step == pytest.approx(-180.0, abs=1.5 * robust_sd(s.between(T0, T0 + 1)) + 1.0)


def contact_profile(kind: ContactKind, **fields: float) -> tuple[np.ndarray, np.ndarray]:
    """The median response (g above the pre-contact level) to one contact on each of 100
    plates, in 1/60 s bins of time since ``t_start``: bin times and medians."""
    n, duration = 100, 1.0
    rng = np.random.default_rng(5)
    starts = T0 + 1.0 + rng.uniform(0, 1, n)
    contacts = [
        PlateContact(f"P{i}", t, t + duration, kind=kind, **fields) for i, t in enumerate(starts)
    ]
    plates = by_plate(render(make_store(n), contacts, 4.5))
    edges = np.arange(-0.3, duration + 0.5, 1 / 60)
    rows = []
    for i, t in enumerate(starts):
        s = plates[f"P{i}"]
        rel, g = s.sample_t - t, s.g.reshape(-1)
        rel, g = rel[~np.isnan(g)], g[~np.isnan(g)] - np.median(s.between(t - 0.5, t))
        idx = np.digitize(rel, edges) - 1
        row = np.full(len(edges) - 1, np.nan)
        ok = (idx >= 0) & (idx < len(row))
        row[idx[ok]] = g[ok]
        rows.append(row)
    return edges[:-1] + 1 / 120, np.nanmedian(np.array(rows), axis=0)


def test_a_pick_presses_for_a_tenth_of_a_second_then_drops_within_a_fifth() -> None:
    t, g = contact_profile("pick", delta_g=-400.0, press_g=50.0)
    assert np.all(np.abs(g[t < 0]) < 1.0)
    assert g.max() == pytest.approx(50.0, abs=3.0)
    pressed = t[g > 25.0]
    assert pressed.min() >= 0.0
    assert pressed.max() <= 0.1
    assert pressed.max() - pressed.min() >= 0.04
    assert g[(t > 0.17) & (t < 0.19)].max() < -100  # the drop is under way after the press
    assert np.all(np.abs(g[t > 0.1 + 0.2 + 1 / 60] + 400.0) < 2.0)  # and done 0.2 s later


def test_a_put_rises_within_a_fifth_with_a_small_overshoot() -> None:
    t, g = contact_profile("put", delta_g=300.0)
    assert np.all(np.abs(g[t < 0]) < 1.0)
    assert 300.0 < g.max() < 330.0
    assert t[np.argmax(g)] < 0.35
    assert np.all(np.abs(g[t > 0.2]) > 250)
    assert np.all(np.abs(g[t > 0.4] - 300.0) < 2.0)


def test_a_lean_adds_its_hold_only_while_it_lasts() -> None:
    t, g = contact_profile("lean", delta_g=0.0, hold_g=150.0)
    assert np.all(np.abs(g[(t > 0.2) & (t < 0.8)] - 150.0) < 2.0)
    assert np.all(np.abs(g[t > 1.0 + 1 / 60]) < 1.0)


# --- calibration -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quiet_store() -> dict[str, Series]:
    """4 s of 1,000 idle plates."""
    return by_plate(render(make_store(1000), seconds=4.0, seed=11))


def test_noise_sd_across_plates_matches_real_shelves(quiet_store: dict[str, Series]) -> None:
    sds = np.array([np.nanstd(s.g) for s in quiet_store.values()])
    assert np.median(sds) == pytest.approx(0.8, rel=0.15)
    assert np.quantile(sds, 0.9) == pytest.approx(3.0, rel=0.15)
    assert np.quantile(sds, 0.99) == pytest.approx(6.0, rel=0.25)


def test_noise_is_a_little_correlated_and_sometimes_repeats(
    quiet_store: dict[str, Series],
) -> None:
    lag1, repeats = [], []
    for s in quiet_store.values():
        if np.nanstd(s.g) < 2.0:  # coarse quantisation would mask both on quiet plates
            continue
        g = s.g - np.nanmean(s.g)
        a, b = g[:, :-1].reshape(-1), g[:, 1:].reshape(-1)
        ok = ~np.isnan(a) & ~np.isnan(b)
        lag1.append(np.corrcoef(a[ok], b[ok])[0, 1])
        repeats.append(np.mean(a[ok] == b[ok]))
    assert 0.15 < np.median(lag1) < 0.5
    assert 0.03 < np.median(repeats) < 0.12


def test_messages_every_fifth_of_a_second_with_jitter(quiet_store: dict[str, Series]) -> None:
    period, residuals, phases = 12 / 60, [], []
    for s in quiet_store.values():
        k = np.round((s.t - s.t[0]) / period)
        assert len(np.unique(k)) == len(k)
        off = s.t - k * period
        assert np.ptp(off) <= 2 * 0.02 + 0.001  # within ±0.02 s of a regular schedule
        residuals.append(off - off.mean())
        phases.append((s.t[0] - T0) % period)
    assert np.std(np.concatenate(residuals)) == pytest.approx(0.02 / np.sqrt(3), rel=0.1)
    assert np.std(phases) > 0.04  # plates are not in phase


def test_nulls_and_dropped_messages_are_rare(quiet_store: dict[str, Series]) -> None:
    g = np.concatenate([s.g.reshape(-1) for s in quiet_store.values()])
    assert 0.001 <= np.mean(np.isnan(g)) <= 0.005
    sent = sum(len(s.t) for s in quiet_store.values())
    expected = sum(round((s.t[-1] - s.t[0]) / 0.2) + 1 for s in quiet_store.values())
    assert 0.001 <= 1 - sent / expected <= 0.005


def test_tare_drifts_a_few_grams_over_half_an_hour() -> None:
    plates = by_plate(render(make_store(30), seconds=1800.0, seed=2, windows=(600.0,)))
    moves = [
        np.median(s.between(T0 + 1790, T0 + 1800)) - np.median(s.between(T0, T0 + 10))
        for s in plates.values()
    ]
    rms = float(np.sqrt(np.mean(np.square(moves))))
    assert 1.5 < rms < 6.0
    tares = [np.median(s.between(T0, T0 + 1)) - 1000.0 for s in plates.values()]
    assert min(tares) >= 300
    assert max(tares) <= 3000
    assert np.std(tares) > 300


# --- faults ------------------------------------------------------------------------------


def dead_runs(s: Series) -> list[float]:
    """Lengths in seconds of runs of consecutive all-null messages."""
    dead = np.isnan(s.g).all(axis=1)
    runs, start = [], None
    for i, d in enumerate(dead):
        if d and start is None:
            start = i
        if not d and start is not None:
            runs.append(float(s.t[i - 1] - s.t[start]))
            start = None
    return runs


def test_faults_are_off_by_default() -> None:
    off = LoadCellFaults()
    assert off.dead_per_hour == off.burst_per_hour == off.glitch_prob == 0.0
    plates = by_plate(render(make_store(20), seconds=60.0, seed=4))
    for s in plates.values():
        assert not dead_runs(s)
        assert np.diff(s.t).max() < 0.65  # at most two messages lost in a row
        assert np.nanmax(np.abs(s.g - np.nanmedian(s.g))) < 60.0  # no wild glitches


def test_faults_make_dead_plates_lost_bursts_and_glitches() -> None:
    faults = LoadCellFaults(dead_per_hour=120.0, burst_per_hour=120.0, glitch_prob=1e-3)
    plates = by_plate(render(make_store(20), seconds=60.0, seed=4, faults=faults))
    runs = [r for s in plates.values() for r in dead_runs(s)]
    assert len(runs) >= 10
    assert max(runs) >= 2.0
    gaps = np.concatenate([np.diff(s.t) for s in plates.values()])
    assert np.sum(gaps > 1.0) >= 10
    glitches = sum(int(np.sum(np.abs(s.g - np.nanmedian(s.g)) > 50.0)) for s in plates.values())
    assert glitches >= 20
