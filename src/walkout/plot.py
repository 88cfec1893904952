"""Pictures of a run: a plate's weight trace with the true events, and the floor plan."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, Rectangle
from matplotlib.patches import Polygon as PolygonPatch

from walkout.domain.messages import WeightMsg
from walkout.domain.store import Store
from walkout.domain.truth import Truth
from walkout.recording import iter_lines
from walkout.sim.timeline import PersonTrack

EVENT_COLOURS = {
    "pick": "tab:red",
    "put": "tab:green",
    "misplace": "tab:orange",
    "handoff": "tab:purple",
    "restock": "tab:blue",
}


class PlotError(ValueError):
    """Nothing to draw for what was asked (unknown plate, empty window)."""


def weight_trace(
    recording: Path, plate: str, t0: float, t1: float
) -> tuple[np.ndarray, np.ndarray]:
    """Sample times and grams (NaN for missing) of one plate between ``t0`` and ``t1``."""
    needle = f'"{plate}"'.encode()
    times: list[np.ndarray] = []
    grams: list[np.ndarray] = []
    for line in iter_lines(recording):
        if needle not in line or b'"weight"' not in line:
            continue
        msg = WeightMsg.model_validate_json(line)
        if msg.plate != plate:
            continue
        if msg.t > t1:
            break
        if msg.t + len(msg.g) / msg.hz < t0:
            continue
        times.append(msg.t + np.arange(len(msg.g)) / msg.hz)
        grams.append(np.array([np.nan if g is None else g for g in msg.g]))
    if not times:
        raise PlotError(f"no weight samples of plate {plate!r} between t={t0:.1f} and t={t1:.1f}")
    return np.concatenate(times), np.concatenate(grams)


def plot_weight(
    recording: Path,
    truth: Truth,
    plate: str,
    out: Path,
    t0: float | None = None,
    t1: float | None = None,
) -> Path:
    """Draw a plate's weight trace with its true events marked; defaults to the first event."""
    events = [e for e in truth.events if e.plate == plate]
    restocks = [r for r in truth.restocks if r.plate == plate]
    if t0 is None or t1 is None:
        marks = sorted([e.t for e in events] + [r.t for r in restocks])
        if not marks:
            raise PlotError(f"plate {plate!r} has no true events: give --t0 and --t1")
        t0 = marks[0] - 5.0 if t0 is None else t0
        t1 = marks[0] + 10.0 if t1 is None else t1
    ts, gs = weight_trace(recording, plate, t0, t1)
    fig, ax = plt.subplots(figsize=(11, 4), dpi=110)
    ax.plot(ts - t0, gs, lw=0.8, color="black", label="load (g)")
    for kind, t, label in [(e.kind, e.t, f"{e.kind} {e.qty}×{e.sku}") for e in events] + [
        ("restock", r.t, f"restock {r.qty}×{r.sku}") for r in restocks
    ]:
        if t0 <= t <= t1:
            ax.axvline(t - t0, color=EVENT_COLOURS[kind], ls="--", lw=1)
            ax.annotate(
                label,
                (t - t0, 1.0),
                xycoords=("data", "axes fraction"),
                rotation=90,
                va="top",
                ha="right",
                fontsize=7,
                color=EVENT_COLOURS[kind],
            )
    ax.set_xlabel(f"seconds after t = {t0:.3f}")
    ax.set_ylabel("grams (arbitrary tare)")
    ax.set_title(f"plate {plate}")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def plot_floor(
    store: Store, out: Path, people: list[PersonTrack] | None = None, at: float | None = None
) -> Path:
    """Draw the floor plan: fixtures, plates, gates, cameras, and the people at time ``at``."""
    floor = np.asarray(store.floor)
    width = float(floor[:, 0].max() - floor[:, 0].min())
    height = float(floor[:, 1].max() - floor[:, 1].min())
    scale = 10.0 / max(width, height)
    fig, ax = plt.subplots(
        figsize=(max(4.0, width * scale) + 1, max(3.0, height * scale) + 1), dpi=120
    )
    ax.add_patch(PolygonPatch(floor, closed=True, fc="#f7f7f2", ec="black", lw=1.5))
    for fx in store.fixtures:
        ax.add_patch(
            PolygonPatch(np.asarray(fx.footprint), closed=True, fc="#c9c2b0", ec="#6b6455", lw=0.8)
        )
    for plate in store.plates:
        (x0, y0, _), (x1, y1, _) = plate.box
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fc="none", ec="#8a7f66", lw=0.3))
    for gate in store.gates:
        colour = {"entry": "tab:green", "exit": "tab:red", "both": "tab:blue"}[gate.kind]
        ax.add_patch(PolygonPatch(np.asarray(gate.area), closed=True, fc=colour, alpha=0.35))
        cx, cy = np.asarray(gate.area).mean(axis=0)
        ax.text(cx, cy, gate.id, ha="center", va="center", fontsize=7)
    for cam in store.cameras:
        c = cam.centre
        axis = np.asarray(cam.R)[2]  # optical axis in world coordinates
        ax.plot(c[0], c[1], marker="^", color="tab:blue", ms=6)
        ax.arrow(
            c[0],
            c[1],
            0.8 * axis[0],
            0.8 * axis[1],
            width=0.02,
            color="tab:blue",
            length_includes_head=True,
        )
    if people is not None and at is not None:
        for person in people:
            i = person.index_at(at)
            if i is None:
                continue
            x, y = person.xy[i]
            colour = "tab:gray" if person.staff else "tab:purple"
            ax.add_patch(Circle((x, y), 0.25, color=colour, alpha=0.8))
            for hand in person.hands[i]:
                ax.plot([x, hand[0]], [y, hand[1]], color=colour, lw=1)
            ax.text(x, y + 0.35, f"{person.person}", ha="center", fontsize=6)
        ax.set_title(f"{store.name} at t = {at:.1f}")
    else:
        ax.set_title(store.name)
    ax.set_xlim(floor[:, 0].min() - 0.5, floor[:, 0].max() + 0.5)
    ax.set_ylim(floor[:, 1].min() - 0.5, floor[:, 1].max() + 0.5)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out
