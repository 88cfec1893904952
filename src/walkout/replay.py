"""Replay a recording through the engine: receipts, evidence, scores and latencies."""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson

from walkout.domain.events import CART_EVENT_ADAPTER, CartEvent, ItemAdded
from walkout.domain.truth import Receipts, Truth
from walkout.engine.bulk import OutOfOrder
from walkout.engine.core import Engine, EngineConfig, EngineStats
from walkout.recording import (
    find_recording,
    iter_blocks,
    iter_lines,
    read_json,
    read_people,
    write_json,
)
from walkout.scoring import Score, score
from walkout.sim.timeline import PersonTrack
from walkout.storefile import load_store
from walkout.tracking import FloorSampler, TrackingScore, score_tracking


@dataclass(frozen=True)
class Latency:
    """Stream-time delays, in seconds, at the median and the 95th percentile."""

    count: int
    p50: float
    p95: float

    @staticmethod
    def of(values: list[float]) -> Latency:
        if not values:
            return Latency(0, float("nan"), float("nan"))
        arr = np.asarray(values)
        return Latency(len(values), float(np.median(arr)), float(np.percentile(arr, 95)))


@dataclass
class ReplayResult:
    receipts: Receipts
    stats: EngineStats
    lines: int
    stream_s: float
    wall_s: float
    cart_latency_values: list[float]
    receipt_latency_values: list[float] | None = None
    score: Score | None = None
    tracking: TrackingScore | None = None
    peak_mb: float | None = None
    out: dict[str, Path] = field(default_factory=dict)

    @property
    def realtime_ratio(self) -> float:
        return self.stream_s / self.wall_s if self.wall_s > 0 else float("inf")

    @property
    def cart_latency(self) -> Latency:
        """Stream time from the end of each lift to its cart event."""
        return Latency.of(self.cart_latency_values)

    @property
    def receipt_latency(self) -> Latency | None:
        """Stream time from each visit's last person leaving to its receipt (None without
        the run's true positions)."""
        values = self.receipt_latency_values
        return None if values is None else Latency.of(values)

    @property
    def review_rate(self) -> float:
        n = len(self.receipts.receipts)
        return sum(1 for r in self.receipts.receipts if r.flagged) / n if n else 0.0


def receipt_latencies(receipts: Receipts, people: Sequence[PersonTrack]) -> list[float]:
    """Delay from each person's last true position (leaving) to their visit's receipt."""
    last_exit: dict[str, float] = {}
    for person in people:
        last_exit[person.token] = max(last_exit.get(person.token, 0.0), person.t_exit)
    return [
        r.closed_at - last_exit[r.token]
        for r in receipts.receipts
        if r.closed_at is not None and r.token in last_exit
    ]


ProgressFn = Callable[[int], None]

#: A replay makes millions of short-lived containers (every parsed line), freed by reference
#: counting; with the cyclic collector's default (a young collection every 700 allocations)
#: collections took about 5 % of a replay's CPU (grocery, busy, 2 minutes: 2.6 of 53 s).
#: During a replay a young collection runs every ``_GC_YOUNG`` allocations instead.
_GC_YOUNG = 50_000


@contextmanager
def _rare_collections() -> Iterator[None]:
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], _GC_YOUNG), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _feed(
    engine: Engine,
    recording: Path,
    progress: ProgressFn | None,
    sample: FloorSampler | None = None,
    in_blocks: bool = True,
) -> list[CartEvent]:
    """Every event of the recording: in blocks (the same events as line by line, far
    faster), or line by line, which the floor's sampling needs (after each line)."""
    events: list[CartEvent] = []
    if in_blocks and sample is None:
        for block in iter_blocks(recording):
            events += engine.feed_block(block)
            if progress is not None:
                progress(engine.stats.messages + engine.stats.rejected)
    else:
        for n, line in enumerate(iter_lines(recording), 1):
            events += engine.feed_line(line)
            if sample is not None:
                sample()
            if progress is not None and n % 100_000 == 0:
                progress(n)
    return events + engine.finish()


def replay(
    run_dir: Path,
    out: Path | None = None,
    config: EngineConfig | None = None,
    progress: ProgressFn | None = None,
    measure_memory: bool = False,
    track_people: bool = False,
) -> ReplayResult:
    """Replay ``run_dir``'s recording; write receipts.json and evidence.jsonl into ``out``
    (default: ``run_dir``) and score them when ``truth.json`` is there. With
    ``track_people``, the people tracking is scored too (:mod:`walkout.tracking`) when the
    run's true positions (``people.npz``) are there."""
    store = load_store(run_dir / "store.json")
    recording = find_recording(run_dir)
    out = out or run_dir
    out.mkdir(parents=True, exist_ok=True)
    engine = Engine(store, config)
    if measure_memory:
        tracemalloc.start()
    people_file = run_dir / "people.npz"
    sample = FloorSampler(engine) if track_people and people_file.is_file() else None
    started = time.perf_counter()
    with _rare_collections():
        try:
            events = _feed(engine, recording, progress, sample)
        except OutOfOrder:  # a plate's messages out of order: line by line, from the start
            engine = Engine(store, config)
            events = _feed(engine, recording, progress, in_blocks=False)
    wall = time.perf_counter() - started
    n = engine.stats.messages + engine.stats.rejected  # every line is one or the other
    peak = None
    if measure_memory:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    people = read_people(people_file) if people_file.is_file() else None
    receipts = engine.receipts()
    write_json(out / "receipts.json", receipts)
    with (out / "evidence.jsonl").open("wb") as fh:
        for event in events:
            fh.write(CART_EVENT_ADAPTER.dump_json(event) + b"\n")
    with (out / "engine-stats.json").open("wb") as fh:
        fh.write(orjson.dumps(engine.stats.__dict__, option=orjson.OPT_INDENT_2) + b"\n")
    cart = [e.t - e.evidence.t_end for e in events if isinstance(e, ItemAdded)]
    result = ReplayResult(
        receipts=receipts,
        stats=engine.stats,
        lines=n,
        stream_s=engine.stream_seconds,
        wall_s=wall,
        cart_latency_values=cart,
        receipt_latency_values=None if people is None else receipt_latencies(receipts, people),
        peak_mb=peak,
        out={"receipts": out / "receipts.json", "evidence": out / "evidence.jsonl"},
    )
    if (run_dir / "truth.json").is_file():
        result.score = score(read_json(run_dir / "truth.json", Truth), receipts)
    if sample is not None and people is not None:
        result.tracking = score_tracking(sample.views, people)
    return result
