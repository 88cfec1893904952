"""One simulated run, end to end: world, sensor models, and the files of a run directory.

``simulate`` plays a scenario in a store and writes, into ``out``:
``store.json``, ``recording.jsonl.gz`` (every sensor's messages merged by time), ``truth.json``
and ``people.npz``. The same arguments give the same bytes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import orjson

from walkout.domain.store import Store
from walkout.recording import RecordingWriter, write_json, write_people
from walkout.sim.loadcell import LoadCellFaults, LoadCellParams, LoadCellRenderer
from walkout.sim.scenarios import Scenario, SensorFaults
from walkout.sim.timeline import GateScan, LineChunk, Timeline
from walkout.sim.vision import VisionParams, VisionRenderer
from walkout.sim.world import simulate_world
from walkout.storefile import store_json

VisionMode = Literal["pose", "track"]
WINDOW_S = 10.0

#: Per-plate fault rates when a scenario switches a load-cell fault on: a 120-plate store
#: sees a dead plate every few minutes and a burst of lost messages about once a minute.
HARD_LOADCELL = LoadCellFaults(
    dead_per_hour=0.05,
    dead_s=(5.0, 60.0),
    burst_per_hour=0.5,
    burst_s=(0.5, 3.0),
    glitch_prob=1e-5,
)


def loadcell_model(faults: SensorFaults) -> tuple[LoadCellParams, LoadCellFaults]:
    """The load-cell parameters and fault rates that a scenario's switches stand for."""
    params = LoadCellParams()
    if faults.weight_drift:
        params = replace(params, drift_g_per_sqrt_s=4 * params.drift_g_per_sqrt_s)
    off = LoadCellFaults()
    return params, LoadCellFaults(
        dead_per_hour=HARD_LOADCELL.dead_per_hour if faults.dead_plates else off.dead_per_hour,
        dead_s=HARD_LOADCELL.dead_s,
        burst_per_hour=(
            HARD_LOADCELL.burst_per_hour if faults.weight_dropouts else off.burst_per_hour
        ),
        burst_s=HARD_LOADCELL.burst_s,
        glitch_prob=HARD_LOADCELL.glitch_prob if faults.weight_dropouts else off.glitch_prob,
    )


def vision_params(faults: SensorFaults, appearance: bool = True) -> VisionParams:
    """Camera noise levels for a scenario: an ordinary system, or a struggling one; without
    ``appearance``, pose detections carry no appearance descriptors (ADR 14)."""
    params = VisionParams() if appearance else VisionParams(appearance_dims=0)
    if not faults.camera_dropouts:
        return params
    return replace(
        params, miss_rate=0.08, keypoint_drop=0.06, false_rate=0.03, track_hand_drop=0.08
    )


def gate_chunk(scans: list[GateScan], staff_tokens: set[str]) -> LineChunk:
    """Gate messages for the scans (with the optional ``role`` extension)."""
    lines = []
    for scan in scans:
        msg: dict[str, object] = {
            "type": "gate",
            "gate": scan.gate,
            "t": round(scan.t, 3),
            "token": scan.token,
        }
        if scan.token in staff_tokens:
            msg["role"] = "staff"
        lines.append(orjson.dumps(msg))
    return LineChunk(np.array([round(s.t, 3) for s in scans], dtype=float), lines)


@dataclass(frozen=True)
class RunSummary:
    out: Path
    start: float
    end: float
    lines: int
    people: int
    sessions: int
    events: int
    seconds: float

    @property
    def realtime_ratio(self) -> float:
        """Simulated seconds per wall-clock second."""
        return (self.end - self.start) / self.seconds if self.seconds > 0 else float("inf")


ProgressFn = Callable[[float, float], None]


def simulate(
    store: Store,
    scenario: Scenario,
    seed: int,
    out: Path,
    *,
    minutes: float | None = None,
    shoppers: int | None = None,
    vision: VisionMode = "pose",
    appearance: bool = True,
    progress: ProgressFn | None = None,
) -> RunSummary:
    """Simulate a run and write its directory. ``progress(done_s, total_s)`` is called as the
    recording is written. Without ``appearance`` pose detections carry no descriptors."""
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    timeline = simulate_world(store, scenario, seed, minutes=minutes, shoppers=shoppers)
    (out / "store.json").write_bytes(store_json(store))
    write_json(out / "truth.json", timeline.truth)
    write_people(out / "people.npz", timeline.people)
    path = out / "recording.jsonl.gz"
    lines = write_recording(store, scenario, seed, timeline, path, vision, progress, appearance)
    return RunSummary(
        out=out,
        start=timeline.start,
        end=timeline.end,
        lines=lines,
        people=len(timeline.people),
        sessions=len(timeline.truth.sessions),
        events=len(timeline.truth.events),
        seconds=time.perf_counter() - started,
    )


def write_recording(
    store: Store,
    scenario: Scenario,
    seed: int,
    timeline: Timeline,
    path: Path,
    vision: VisionMode,
    progress: ProgressFn | None = None,
    appearance: bool = True,
) -> int:
    """Render every sensor over the timeline, window by window, into one recording."""
    params, faults = loadcell_model(scenario.faults)
    loadcells = LoadCellRenderer(
        store,
        timeline.initial_load_g,
        timeline.contacts,
        start=timeline.start,
        seed=seed,
        params=params,
        faults=faults,
    )
    cameras = VisionRenderer(
        store,
        timeline.people,
        mode=vision,
        sightings=timeline.sightings,
        seed=seed,
        params=vision_params(scenario.faults, appearance),
    )
    staff = {s.token for s in timeline.truth.sessions if s.staff}
    gates = gate_chunk(sorted(timeline.scans, key=lambda s: s.t), staff)
    total = timeline.end - timeline.start
    with RecordingWriter(path) as writer:
        t0 = timeline.start
        while t0 < timeline.end:
            t1 = min(t0 + WINDOW_S, timeline.end)
            if t1 >= timeline.end:
                t1 = np.nextafter(timeline.end, np.inf)  # the last window includes the end
            in_window = (gates.t >= t0) & (gates.t < t1)
            window_gates = LineChunk(
                gates.t[in_window], [gates.lines[i] for i in np.flatnonzero(in_window)]
            )
            writer.write_window([loadcells.render(t0, t1), cameras.render(t0, t1), window_gates])
            t0 = float(t1)
            if progress is not None:
                progress(min(t0, timeline.end) - timeline.start, total)
        return writer.lines
