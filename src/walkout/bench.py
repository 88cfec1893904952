"""Benchmarks: how fast the simulator writes, and the engine replays, a store's hour.

Each phase runs in a fresh process so that its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from walkout.replay import replay
from walkout.sim.run import VisionMode, simulate
from walkout.sim.scenarios import get_scenario
from walkout.storefile import load_store


@dataclass(frozen=True)
class PhaseResult:
    """One benchmarked phase: stream seconds handled, wall seconds taken, peak memory."""

    name: str
    stream_s: float
    wall_s: float
    cpu_s: float
    peak_mb: float
    lines: int

    @property
    def ratio(self) -> float:
        """Stream seconds per wall-clock second (x real time)."""
        return self.stream_s / self.wall_s if self.wall_s else float("inf")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_simulate(
    store_file: Path, scenario: str, seed: int, out: Path, minutes: float, vision: VisionMode
) -> PhaseResult:
    """Simulate (in this process) and measure it."""
    cpu0, started = _cpu(), time.perf_counter()
    summary = simulate(
        load_store(store_file), get_scenario(scenario), seed, out, minutes=minutes, vision=vision
    )
    wall = time.perf_counter() - started
    return PhaseResult(
        "simulate", summary.end - summary.start, wall, _cpu() - cpu0, _peak_mb(), summary.lines
    )


def run_replay(run_dir: Path) -> PhaseResult:
    """Replay (in this process) and measure it."""
    cpu0 = _cpu()
    result = replay(run_dir)
    return PhaseResult(
        "replay", result.stream_s, result.wall_s, _cpu() - cpu0, _peak_mb(), result.lines
    )


#: The phases run with one BLAS thread: the target is one core, and a BLAS thread pool spins
#: on the engine's small matrices (a 2-minute grocery replay used 26.9 s of CPU with numpy's
#: default pool and 20.3 s with one thread, in the same 20.5 s of wall time).
ONE_CORE_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def in_fresh_process(fn: Callable[..., PhaseResult], *args: object) -> PhaseResult:
    """Run one phase in a new interpreter (spawned, so nothing is inherited but the
    environment, given :data:`ONE_CORE_ENV` for it: BLAS reads it when numpy loads)."""
    context = multiprocessing.get_context("spawn")
    saved = {name: os.environ.get(name) for name in ONE_CORE_ENV}
    os.environ.update(ONE_CORE_ENV)
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            return pool.submit(fn, *args).result()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
