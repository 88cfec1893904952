"""End to end in ``track`` vision mode: simulate each preset briefly, replay, score.

:func:`scored_run` is the helper: it simulates a preset on a store (people arrive as 3-D
tracks, which isolates the shelf, identification and attribution logic from camera tracking),
replays the recording through the engine and scores the receipts against the truth. The runs
here are short (a few shoppers at one gondola of the corner store), so the thresholds
are those of a small sample; the issue's targets are measured on long runs (see the report).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from walkout.domain.events import CART_EVENT_ADAPTER, ItemRemoved
from walkout.domain.store import Store
from walkout.domain.truth import Truth
from walkout.recording import read_json
from walkout.replay import ReplayResult, replay
from walkout.sim.run import simulate
from walkout.sim.scenarios import get_scenario
from walkout.storefile import load_store

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
