"""What happens in the simulated store, before any sensor sees it.

The world model (:mod:`walkout.sim.world`) plays the shoppers and staff and produces a
:class:`Timeline`. Sensor renderers turn it into protocol messages: load cells
(:mod:`walkout.sim.loadcell`) feel :class:`PlateContact` s, cameras (:mod:`walkout.sim.vision`)
see :class:`PersonTrack` s. Keeping this boundary lets each sensor model be tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from walkout.domain.truth import Truth

FloatArray = NDArray[np.float64]

ContactKind = Literal["pick", "put", "touch", "lean", "restock"]


@dataclass(frozen=True, slots=True)
class PlateContact:
    """One hand's contact with one plate, as the plate's load cell feels it.

    The hand arrives at ``t_start`` (a pick pushes down by ``press_g`` for about 0.1 s first),
    the load moves to its new level, and at ``t_end`` the hand is gone and the load has settled
    ``delta_g`` grams from where it was (negative when units are taken, positive when put).
    A hand resting on the shelf adds ``hold_g`` for the whole contact.
    """

    plate: str
    t_start: float
    t_end: float
    delta_g: float
    press_g: float = 0.0
    hold_g: float = 0.0
    kind: ContactKind = "touch"


@dataclass(frozen=True, slots=True)
class GateScan:
    """A QR token scanned at a gate; the person enters right after."""

    t: float
    gate: str
    token: str


@dataclass(frozen=True, slots=True)
class ProductSighting:
    """A product seen in a hand by a camera-side recogniser, for optional ``product`` messages."""

    t: float
    sku: str
    at: tuple[float, float, float]


@dataclass
class PersonTrack:
    """One person's motion, sampled on a uniform grid of ``dt`` seconds while in the store.

    Arrays are parallel: ``t (N,)``, ``xy (N, 2)`` floor position of the body centre,
    ``heading (N,)`` radians the body faces (0 = +x), ``hands (N, 2, 3)`` left and right
    wrist positions in the world frame. ``height_m`` is the person's standing height.
    """

    person: int
    token: str
    height_m: float
    t: FloatArray
    xy: FloatArray
    heading: FloatArray
    hands: FloatArray
    staff: bool = False

    @property
    def t_enter(self) -> float:
        return float(self.t[0])

    @property
    def t_exit(self) -> float:
        return float(self.t[-1])

    def index_at(self, t: float) -> int | None:
        """The sample nearest to ``t``, or None when the person is not in the store then."""
        if t < self.t[0] or t > self.t[-1]:
            return None
        return int(np.clip(np.searchsorted(self.t, t), 0, len(self.t) - 1))


@dataclass
class Timeline:
    """Everything that happened in one simulated run, with the truth it implies."""

    start: float
    end: float
    people: list[PersonTrack]
    contacts: list[PlateContact]
    scans: list[GateScan]
    initial_load_g: dict[str, float]
    truth: Truth
    sightings: list[ProductSighting] = field(default_factory=list)


@dataclass
class LineChunk:
    """Rendered recording lines of one sensor model over one window of time.

    ``t (N,)`` holds each line's message time and ``lines`` the matching serialised JSON
    messages (no trailing newline), in any order: the recorder merges chunks by time.
    """

    t: FloatArray
    lines: list[bytes]

    def __post_init__(self) -> None:
        if len(self.t) != len(self.lines):
            raise ValueError(f"{len(self.t)} times for {len(self.lines)} lines")
