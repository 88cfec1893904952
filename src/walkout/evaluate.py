"""Scored scenarios: simulate fresh runs, replay them through the engine, pool the scores.

This is how the engine's accuracy targets are measured (issue #3): on seeds the tests never
use, for each preset, with F1 and exact receipts (PROTOCOL section 5), the review rate, how
many lines are wrong among those the engine did not flag, the stream-time latencies, and how
well the engine followed people (MOTA and IDF1, :mod:`walkout.tracking`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from walkout.domain.store import Store
from walkout.domain.truth import Receipts, Truth
from walkout.recording import read_json
from walkout.replay import Latency, ReplayResult, replay
from walkout.scoring import Score
from walkout.sim.run import VisionMode, simulate
from walkout.sim.scenarios import Scenario
from walkout.tracking import TrackingScore, pool


@dataclass(frozen=True)
class LineAudit:
    """Receipt lines of receipts that were not flagged for review, and how many were wrong."""

    lines: int
    wrong: int

    @property
    def wrong_rate(self) -> float:
        return self.wrong / self.lines if self.lines else 0.0


def audit_unflagged(truth: Truth, receipts: Receipts) -> LineAudit:
    """Count the lines of unflagged receipts that differ from the truth; a true product that an
    unflagged receipt lacks counts as a wrong line too."""
    true_items = {s.token: {k: v for k, v in s.items.items() if v} for s in truth.sessions}
    lines = wrong = 0
    for receipt in receipts.receipts:
        if receipt.flagged:
            continue
        expected = true_items.get(receipt.token, {})
        got = {k: v for k, v in receipt.items.items() if v}
        for sku in got.keys() | expected.keys():
            lines += 1
            wrong += got.get(sku, 0) != expected.get(sku, 0)
    return LineAudit(lines, wrong)


@dataclass(frozen=True)
class SeedResult:
    seed: int
    score: Score
    audit: LineAudit
    receipts: int
    flagged: int
    cart_latencies: list[float]
    receipt_latencies: list[float]
    replay_ratio: float
    tracking: TrackingScore


@dataclass(frozen=True)
class Evaluation:
    """Pooled results of one preset over several seeds."""

    preset: str
    vision: VisionMode
    seeds: list[SeedResult]

    @property
    def pooled(self) -> Score:
        """The seeds' counts pooled into one score (PROTOCOL section 5 pools over tokens)."""
        return Score(
            tp=sum(s.score.tp for s in self.seeds),
            fp=sum(s.score.fp for s in self.seeds),
            fn=sum(s.score.fn for s in self.seeds),
            sessions=sum(s.score.sessions for s in self.seeds),
            exact=sum(s.score.exact for s in self.seeds),
        )

    @property
    def f1(self) -> float:
        return self.pooled.f1

    @property
    def exact_rate(self) -> float:
        return self.pooled.exact_rate

    @property
    def sessions(self) -> int:
        return self.pooled.sessions

    @property
    def review_rate(self) -> float:
        receipts = sum(s.receipts for s in self.seeds)
        return sum(s.flagged for s in self.seeds) / receipts if receipts else 0.0

    @property
    def unflagged_wrong_rate(self) -> float:
        lines = sum(s.audit.lines for s in self.seeds)
        return sum(s.audit.wrong for s in self.seeds) / lines if lines else 0.0

    def latency_p95(self, which: Callable[[SeedResult], list[float]]) -> float:
        return Latency.of([v for s in self.seeds for v in which(s)]).p95

    @property
    def cart_p95(self) -> float:
        return self.latency_p95(lambda s: s.cart_latencies)

    @property
    def receipt_p95(self) -> float:
        return self.latency_p95(lambda s: s.receipt_latencies)

    @property
    def tracking(self) -> TrackingScore:
        return pool([s.tracking for s in self.seeds])


def evaluate_seed(
    store: Store,
    scenario: Scenario,
    seed: int,
    out: Path,
    minutes: float | None,
    vision: VisionMode,
    appearance: bool = True,
) -> SeedResult:
    """Simulate one seed into ``out``, replay it, and score it."""
    simulate(store, scenario, seed, out, minutes=minutes, vision=vision, appearance=appearance)
    result: ReplayResult = replay(out, track_people=True)
    truth = read_json(out / "truth.json", Truth)
    receipts = result.receipts
    # replay scores a run that has its truth.json, and its tracking with its people.npz
    assert result.score is not None
    assert result.tracking is not None
    return SeedResult(
        seed=seed,
        score=result.score,
        audit=audit_unflagged(truth, receipts),
        receipts=len(receipts.receipts),
        flagged=sum(1 for r in receipts.receipts if r.flagged),
        cart_latencies=result.cart_latency_values,
        receipt_latencies=result.receipt_latency_values or [],
        replay_ratio=result.realtime_ratio,
        tracking=result.tracking,
    )


def evaluate(
    store: Store,
    scenario: Scenario,
    seeds: Sequence[int],
    out: Path,
    minutes: float | None = None,
    vision: VisionMode = "pose",
    on_seed: Callable[[SeedResult], None] | None = None,
    appearance: bool = True,
) -> Evaluation:
    """Evaluate a preset over ``seeds``; runs are written under ``out/<preset>-<seed>``."""
    results = []
    for seed in seeds:
        run = out / f"{scenario.name}-{seed}"
        res = evaluate_seed(store, scenario, seed, run, minutes, vision, appearance)
        results.append(res)
        if on_seed is not None:
            on_seed(res)
    return Evaluation(scenario.name, vision, results)
