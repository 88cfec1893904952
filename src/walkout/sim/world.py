"""The world model: shoppers and staff walking, reaching and picking, played out in time.

:func:`simulate_world` turns a store, a scenario and a seed into a :class:`Timeline`: every
person's motion sampled every ``dt`` seconds, every hand contact with a plate, every gate scan,
products seen in hands, the shelves' initial loads and the ground truth. People are stepped
together so that they keep :data:`SEPARATION_M` apart, never enter a fixture and leave through
an exit gate; all randomness comes from one generator seeded from ``seed``.
"""

from __future__ import annotations

import math
import zlib
from array import array
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from walkout.domain.geometry import points_in_polygon, polygon_bounds
from walkout.domain.store import Gate, Store
from walkout.domain.truth import Restock, Truth, TruthEvent, TruthKind, TruthSession
from walkout.sim.behaviour import (
    Catalogue,
    Handoff,
    Held,
    Leave,
    Shelves,
    Stand,
    Task,
    Visit,
    hand_in_box,
)
from walkout.sim.body import hanging_hands
from walkout.sim.navigation import FloorGrid, Point
from walkout.sim.scenarios import Scenario
from walkout.sim.timeline import (
    FloatArray,
    GateScan,
    PersonTrack,
    PlateContact,
    ProductSighting,
    Timeline,
)

DEFAULT_START = 1_767_261_600.0
"""2026-01-01 10:00 UTC: the default start of a simulated day."""
DT = 1.0 / 30.0
"""Default sampling interval of the people's tracks (s)."""
STEP_S = 0.1
"""The world's simulation step (s); tracks are interpolated to ``dt``."""
SEPARATION_M = 0.5
"""People's body centres never come closer than this (m)."""
HANDOFF_M = 1.0
"""Two people this close (m) can pass an item."""
ACCEL = 2.5
"""Walking acceleration (m/s²)."""
TURN_RATE = 8.0
"""Fastest turn of the body (rad/s)."""
TURN_S = 0.3
"""Time to turn to a plate before reaching."""
RAMP_S = 0.45
"""Time for a hand to move into (and out of) a plate box."""
SCAN_LEAD_S = 0.3
"""A person appears in the gate area this long after their scan."""
GATE_GAP_S = 1.2
"""Shortest time between two scans at one gate."""
TOUCH_LAG_S = 0.3
"""A truth event happens this long after the hand reaches the plate (the load has moved)."""
OVERRUN_S = 300.0
"""After arrivals stop, people still inside skip their remaining visits after this long."""
GIVE_UP_S = 1800.0
"""A run with people still inside this long after arrivals stop is a bug: it raises."""
PUT_SEEN_S = 0.15
"""A unit being put down is seen in the hand this long before it touches the shelf."""
VISIT_PATIENCE_S = 45.0
"""Longest walk to a plate or a group member, and longest wait for a hand-over."""
_DODGES = [math.radians(a) for a in (0, -25, 25, -50, 50, -80, 80, -110, 110)]
_DODGE_CS = [(math.cos(a), math.sin(a)) for a in _DODGES]

Phase = Literal["idle", "walk", "act", "wait", "gone"]


@dataclass(frozen=True, slots=True)
class Reach:
    """A hand moving from its rest pose to ``target`` over ``ramp`` s from ``t0``, staying, and
    back by ``t1``."""

    t0: float
    t1: float
    side: int
    """0 = left hand, 1 = right hand."""
    target: tuple[float, float, float]
    ramp: float = RAMP_S

    def weight(self, t: FloatArray) -> FloatArray:
        """How far the hand is from rest (0) to the target (1) at times ``t``."""
        s = np.clip(np.minimum(t - self.t0, self.t1 - t) / self.ramp, 0.0, 1.0)
        out: FloatArray = s * s * (3.0 - 2.0 * s)
        return out


@dataclass
class _Party:
    token: str
    staff: bool
    size: int
    members: list[int] = field(default_factory=list)


@dataclass
class _Agent:
    person: int
    party: _Party
    height: float
    vmax: float
    x: float
    y: float
    heading: float
    step0: int
    tasks: deque[Task]
    phase: Phase = "idle"
    task: Task | None = None
    path: list[Point] = field(default_factory=list)
    wp: int = 0
    stand: Stand | None = None
    face: float | None = None
    v: float = 0.0
    until: float = 0.0
    act_end: float = 0.0
    task_since: float = 0.0
    blocked: float = 0.0
    replanned: float = -math.inf
    patience: float = 2.0
    dodged: bool = False
    awaiting: int | None = None
    wait_since: float = 0.0
    holding: list[Held] = field(default_factory=list)
    xs: array[float] = field(default_factory=lambda: array("d"))
    ys: array[float] = field(default_factory=lambda: array("d"))
    hs: array[float] = field(default_factory=lambda: array("d"))
    reaches: list[Reach] = field(default_factory=list)

    @property
    def at(self) -> Point:
        return Point(self.x, self.y)


@dataclass(frozen=True, slots=True)
class _PendingSighting:
    person: int
    t: float
    sku: str
    side: int


def gate_cells(gate: Gate, grid: FloorGrid, margin: float = 0.15) -> set[int]:
    """Free cells whose whole square lies ``margin`` m or more inside a gate's area."""
    x0, y0, x1, y1 = polygon_bounds(gate.area)
    out = set()
    h = grid.cell / 2 + margin
    for c in grid.free_cells_near((x0, y0), (x1, y1)):
        square = np.array(
            [[c.x - h, c.y - h], [c.x + h, c.y - h], [c.x + h, c.y + h], [c.x - h, c.y + h]]
        )
        if points_in_polygon(square, gate.area).all():
            k = grid.index(c.x, c.y)
            assert k is not None
            out.add(k)
    return out


def gate_point(gate: Gate, grid: FloorGrid) -> Point:
    """The spot of a gate's area nearest its middle where people appear or head to leave."""
    area = np.asarray(gate.area, dtype=float)
    mid = Point(float(area[:, 0].mean()), float(area[:, 1].mean()))
    cells = [grid.centre(k) for k in sorted(gate_cells(gate, grid))]
    if not cells:
        raise ValueError(f"gate {gate.id!r}: its area has no room for a person")
    return min(cells, key=lambda c: (round(c.dist(mid), 6), c.x, c.y))


def simulate_world(
    store: Store,
    scenario: Scenario,
    seed: int,
    start: float = DEFAULT_START,
    minutes: float | None = None,
    shoppers: int | None = None,
    dt: float = DT,
) -> Timeline:
    """Play a scenario in a store: shoppers arrive for ``minutes`` (the scenario's default when
    None) and the run ends when the last person has left. ``shoppers`` overrides the arrivals:
    exactly that many shoppers (group members included) arrive, spread over the duration, and
    the preset's concurrency no longer steers arrivals. Same arguments, same timeline."""
    if shoppers is not None and shoppers < 0:
        raise ValueError(f"shoppers must be >= 0, got {shoppers}")
    duration = 60.0 * (scenario.minutes if minutes is None else minutes)
    if duration <= 0:
        raise ValueError(f"minutes must be > 0, got {minutes}")
    return _World(store, scenario, seed, start, duration, shoppers, dt).run()


class _World:
    def __init__(
        self,
        store: Store,
        scenario: Scenario,
        seed: int,
        start: float,
        duration: float,
        shoppers: int | None,
        dt: float,
    ) -> None:
        self.store = store
        self.sc = scenario
        self.rng = np.random.default_rng([seed, zlib.crc32(b"world")])
        self.start = start
        self.dt = dt
        self.arrivals_end = start + duration
        self.grid = FloorGrid(store)
        self.entries = [g for g in store.gates if g.admits]
        self.exits = [g for g in store.gates if g.releases]
        self.points = {g.id: gate_point(g, self.grid) for g in store.gates}
        regions = {self.grid.region(p) for p in self.points.values()}
        if len(regions) > 1:
            raise ValueError(f"store {store.id!r}: some gates cannot be walked to from others")
        self.cat = Catalogue(store, self.grid, regions.pop(), self.rng)
        self.shelves = Shelves(store, self.rng)
        self.initial_load = {p.id: self.shelves.load_g(p.id) for p in store.plates}
        self.gate_boxes = {g.id: polygon_bounds(g.area) for g in self.exits}
        self.gate_cells = {g.id: gate_cells(g, self.grid) for g in self.exits}
        self.queues: dict[str, deque[_Party]] = {g.id: deque() for g in self.entries}
        self.gate_free_at = {g.id: start for g in self.entries}
        self.agents: list[_Agent] = []
        self.active: list[_Agent] = []
        self.parties: list[_Party] = []
        self.tokens: set[str] = set()
        self.scans: list[GateScan] = []
        self.contacts: list[PlateContact] = []
        self.events: list[TruthEvent] = []
        self.restocks: list[Restock] = []
        self.pending_sightings: list[_PendingSighting] = []
        visits = (scenario.visits[0] + scenario.visits[1]) / 2
        browse = (scenario.browse_s[0] + scenario.browse_s[1]) / 2
        stay = 30.0 + visits * (browse + 12.0)
        mid = (scenario.concurrency[0] + scenario.concurrency[1]) / 2
        self.mean_gap = stay / mid
        self.override = shoppers is not None
        self.scheduled = (
            self._scheduled_parties(shoppers, duration) if shoppers is not None else deque()
        )
        self.next_arrival = start + 1.0
        self.next_staff = start + self._staff_gap()
        self.near: list[list[_Agent]] = []

    # --- arrivals -------------------------------------------------------------------------

    def _staff_gap(self) -> float:
        rate = self.sc.staff_per_hour / 3600.0
        return float(self.rng.exponential(1.0 / rate)) if rate > 0 else math.inf

    def _group_size(self) -> int:
        if self.rng.random() < self.sc.group_share:
            lo, hi = self.sc.group_size
            return int(self.rng.integers(lo, hi + 1))
        return 1

    def _scheduled_parties(self, shoppers: int, duration: float) -> deque[tuple[float, int]]:
        sizes: list[int] = []
        while sum(sizes) < shoppers:
            sizes.append(min(self._group_size(), shoppers - sum(sizes)))
        times = np.sort(self.rng.uniform(1.0, max(duration, 1.0), len(sizes)))
        return deque((self.start + float(t), n) for t, n in zip(times, sizes, strict=True))

    def _new_token(self, prefix: str) -> str:
        while True:
            token = f"{prefix}{int(self.rng.integers(0, 2**48)):012x}"
            if token not in self.tokens:
                self.tokens.add(token)
                return token

    def _queue_party(self, size: int, staff: bool) -> None:
        gate = self.entries[int(self.rng.integers(len(self.entries)))]
        party = _Party(self._new_token("S" if staff else "T"), staff, size)
        self.parties.append(party)
        self.queues[gate.id].append(party)

    def _shoppers_inside(self) -> int:
        queued = sum(p.size - len(p.members) for q in self.queues.values() for p in q)
        return queued + sum(1 for a in self.active if not a.party.staff)

    def _arrivals(self, t: float) -> None:
        if self.override:
            while self.scheduled and self.scheduled[0][0] <= t:
                self._queue_party(self.scheduled.popleft()[1], staff=False)
        elif self.next_arrival <= t < self.arrivals_end:
            lo, hi = self.sc.concurrency
            n = self._shoppers_inside()
            if n >= hi:
                self.next_arrival = t + 2.0
            else:
                size = min(self._group_size(), hi - n)
                self._queue_party(size, staff=False)
                gap = self.mean_gap if n + size >= lo else 3.0
                self.next_arrival = t + float(self.rng.exponential(gap))
        if self.next_staff <= t < self.arrivals_end:
            self._queue_party(1, staff=True)
            self.next_staff = t + self._staff_gap()

    def _hurry_arrivals(self, t: float) -> None:
        """Below the scenario's least concurrency, the next party comes soon."""
        if not self.override and self._shoppers_inside() < self.sc.concurrency[0]:
            self.next_arrival = min(self.next_arrival, t + float(self.rng.exponential(3.0)))

    def _admit(self, t: float, step: int) -> None:
        """Let the next queued person through each entry gate whose spawn spot is clear."""
        for gate in self.entries:
            queue = self.queues[gate.id]
            if not queue or t < self.gate_free_at[gate.id]:
                continue
            spot = self.points[gate.id]
            if any(spot.dist(a.at) < SEPARATION_M + 0.1 for a in self.active):
                continue
            party = queue[0]
            agent = self._spawn(party, spot, t, step)
            party.members.append(agent.person)
            if len(party.members) == party.size:
                queue.popleft()
            self.scans.append(GateScan(t - SCAN_LEAD_S, gate.id, party.token))
            self.gate_free_at[gate.id] = t + GATE_GAP_S

    def _spawn(self, party: _Party, spot: Point, t: float, step: int) -> _Agent:
        rng = self.rng
        tasks: list[Task]
        if party.staff:
            tasks = list(self.cat.restock_round(self.shelves, rng, spot))
        else:
            tasks = list(self.cat.shopping_list(self.sc, self.shelves, rng, spot))
        exit_gate = self.exits[int(rng.integers(len(self.exits)))]
        tasks.append(Leave(exit_gate.id))
        agent = _Agent(
            person=len(self.agents),
            party=party,
            height=float(np.clip(rng.normal(1.72, 0.09), 1.5, 1.98)),
            vmax=float(rng.uniform(1.0, 1.4)),
            x=spot.x,
            y=spot.y,
            heading=0.0,
            step0=step,
            tasks=deque(tasks),
        )
        self.agents.append(agent)
        self.active.append(agent)
        return agent

    # --- the clock ------------------------------------------------------------------------

    def run(self) -> Timeline:
        step = 0
        while True:
            t = self.start + step * STEP_S
            self._arrivals(t)
            self._find_neighbours()
            for i, agent in enumerate(self.active):
                self._update(agent, i, t)
            self._admit(t, step)
            for agent in self.active:
                agent.xs.append(agent.x)
                agent.ys.append(agent.y)
                agent.hs.append(agent.heading)
            if any(a.phase == "gone" for a in self.active):
                self.active = [a for a in self.active if a.phase != "gone"]
                self._hurry_arrivals(t)
            if not self.active and t >= self.arrivals_end and self._nobody_coming():
                return self._timeline(t)
            if t > self.arrivals_end + GIVE_UP_S:
                raise RuntimeError(
                    f"{len(self.active)} people still in the store {GIVE_UP_S:.0f} s after the "
                    "last arrival: the floor plan leaves them stuck"
                )
            step += 1

    def _find_neighbours(self) -> None:
        """For each active person, everyone who might come within SEPARATION_M this step."""
        n = len(self.active)
        self.near = [[] for _ in range(n)]
        if n < 2:
            return
        x = np.array([a.x for a in self.active])
        y = np.array([a.y for a in self.active])
        reach = SEPARATION_M + 2 * 1.5 * STEP_S + 0.05
        close = (x[:, None] - x[None, :]) ** 2 + (y[:, None] - y[None, :]) ** 2 < reach * reach
        ii, jj = np.nonzero(np.triu(close, 1))
        for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
            self.near[i].append(self.active[j])
            self.near[j].append(self.active[i])

    def _nobody_coming(self) -> bool:
        return not self.scheduled and not any(self.queues.values())

    # --- one person, one step -------------------------------------------------------------

    def _update(self, a: _Agent, i: int, t: float) -> None:
        if a.phase == "act":
            self._turn(a)
            if t >= a.act_end:
                a.phase = "idle"
                a.stand = None
                a.face = None
            return
        if a.awaiting is not None and a.phase in ("idle", "walk"):
            if a.phase == "walk" and a.task is not None:
                a.tasks.appendleft(a.task)
            a.task = None
            a.phase = "wait"
            a.v = 0.0
            a.wait_since = t
        if a.phase == "wait":
            if a.awaiting is None or t - a.wait_since > VISIT_PATIENCE_S:
                a.awaiting = None
                a.phase = "idle"
            return
        if a.phase == "idle":
            if t < a.until:
                return
            self._begin(a, t)
        if a.phase == "walk":
            self._walk(a, i, t)

    def _in_gate_area(self, a: _Agent, gate: str) -> bool:
        """Whether a person is well inside a gate's area (a body radius from its edge)."""
        x0, y0, x1, y1 = self.gate_boxes[gate]
        if not (x0 <= a.x <= x1 and y0 <= a.y <= y1):
            return False
        return bool(self.grid.index(a.x, a.y) in self.gate_cells[gate])

    def _turn(self, a: _Agent) -> None:
        if a.face is None:
            return
        diff = (a.face - a.heading + math.pi) % (2 * math.pi) - math.pi
        limit = TURN_RATE * STEP_S
        a.heading += max(-limit, min(limit, diff))

    def _others_near(self, a: _Agent, radius: float) -> list[Point]:
        return [o.at for o in self.active if o is not a and o.at.dist(a.at) < radius]

    def _begin(self, a: _Agent, t: float) -> None:
        """Start the next task that can be started; leave when only Leave is left."""
        late = t > self.arrivals_end + OVERRUN_S
        while a.tasks:
            task = a.tasks.popleft()
            stand = None
            if isinstance(task, Visit):
                if late:
                    continue
                stand = self._choose_stand(a, task.plate)
                goal = stand.at
            elif isinstance(task, Handoff):
                receiver = self.agents[task.to]
                if late or receiver.phase == "gone" or isinstance(receiver.task, Leave):
                    continue
                if receiver.awaiting not in (None, a.person) or task.item not in a.holding:
                    continue
                receiver.awaiting = a.person
                goal = receiver.at
            else:
                goal = self.points[task.gate]
            path = self.grid.plan(a.at, goal) if goal.dist(a.at) > 1e-9 else [goal]
            # Gates and stands all lie in the region people walk in.
            assert path is not None, f"no path from {a.at} to {goal}"
            a.task = task
            a.stand = stand
            a.path, a.wp = path, 0
            a.phase = "walk"
            a.task_since = t
            a.blocked = 0.0
            a.patience = 2.0
            return
        raise AssertionError("a person's plan always ends with Leave")

    def _choose_stand(self, a: _Agent, plate: str, avoid: Stand | None = None) -> Stand:
        """The best place at the plate that nobody else stands at or heads for."""
        taken = [o.stand.at for o in self.active if o is not a and o.stand is not None]
        taken += [o.at for o in self.active if o is not a and o.phase in ("act", "wait")]
        options = [s for s in self.cat.stands[plate] if s is not avoid] or self.cat.stands[plate]
        free = [s for s in options if all(s.at.dist(p) >= SEPARATION_M for p in taken)]
        return free[0] if free else options[0]

    def _abandon(self, a: _Agent, task: Task) -> None:
        if isinstance(task, Handoff) and self.agents[task.to].awaiting == a.person:
            self.agents[task.to].awaiting = None
        a.task = None
        a.stand = None
        a.phase = "idle"

    def _walk(self, a: _Agent, i: int, t: float) -> None:
        task = a.task
        if isinstance(task, Handoff):
            receiver = self.agents[task.to]
            if t - a.task_since > VISIT_PATIENCE_S or receiver.awaiting != a.person:
                self._abandon(a, task)
                return
            near = a.at.dist(receiver.at) <= HANDOFF_M
            if near and receiver.phase == "wait":
                self._hand_over(a, receiver, task, t)
                return
            stale = a.wp >= len(a.path) or receiver.at.dist(a.path[-1]) > 0.5
            if stale and t - a.replanned > 1.0:
                self._replan(a, receiver.at, t, avoid=False)
            if near or a.wp >= len(a.path):
                return
        elif isinstance(task, Visit) and t - a.task_since > VISIT_PATIENCE_S:
            self._abandon(a, task)
            return
        elif isinstance(task, Leave) and self._in_gate_area(a, task.gate):
            a.phase = "gone"
            return
        if self._move(a, i):
            a.blocked = 0.0
            if a.wp == len(a.path):
                self._arrive(a, t)
            elif a.dodged and t - a.replanned > 0.5:
                # Dodging someone may have lost the straight free line to the next waypoint.
                a.dodged = False
                if not self.grid.line_free(a.at, a.path[a.wp]):
                    self._replan(a, a.path[-1], t, avoid=False)
            return
        a.blocked += STEP_S
        if a.blocked < 2.0 or t - a.replanned < a.patience:
            return
        a.patience = min(2.0 * a.patience, 16.0)
        goal = a.path[-1]
        if isinstance(task, Visit) and a.stand is not None and a.at.dist(goal) < 1.5:
            # Someone is in the way at the plate: try another place to stand there.
            other = self._choose_stand(a, task.plate, avoid=a.stand)
            if self._replan(a, other.at, t, avoid=True):
                a.stand = other
            return
        self._replan(a, goal, t, avoid=True)

    def _replan(self, a: _Agent, goal: Point, t: float, avoid: bool) -> bool:
        """A new path to ``goal`` (around the people nearby with ``avoid``); False if none."""
        others = self._others_near(a, 4.0) if avoid else []
        path = self.grid.plan(a.at, goal, others)
        a.replanned = t
        if path is None:
            return False
        a.path, a.wp = path, 0
        return True

    def _move(self, a: _Agent, i: int) -> bool:
        """One step along the path, dodging people; False when blocked."""
        if a.wp >= len(a.path):
            return True
        w = a.path[a.wp]
        dx, dy = w.x - a.x, w.y - a.y
        d = math.hypot(dx, dy)
        if d < 1e-9:
            a.wp += 1
            return True
        a.v = min(a.v + ACCEL * STEP_S, a.vmax)
        stride = a.v * STEP_S
        ux, uy = dx / d, dy / d
        others = self.near[i]
        sep2 = SEPARATION_M * SEPARATION_M
        for k, (c, s) in enumerate(_DODGE_CS):
            step = min(stride, d) if k == 0 else stride
            nx = a.x + (ux * c - uy * s) * step
            ny = a.y + (ux * s + uy * c) * step
            if not self.grid.is_free(nx, ny):
                continue
            if any((nx - o.x) ** 2 + (ny - o.y) ** 2 < sep2 for o in others):
                continue
            if k == 0 and step >= d:
                nx, ny = w.x, w.y
                a.wp += 1
            elif a.wp < len(a.path) - 1 and math.hypot(w.x - nx, w.y - ny) < 0.15:
                a.wp += 1
            a.dodged = a.dodged or k > 0
            moving = math.atan2(ny - a.y, nx - a.x)
            a.x, a.y = nx, ny
            a.face = moving
            self._turn(a)
            return True
        a.v = 0.0
        return False

    # --- acting at a plate, handing over --------------------------------------------------

    def _arrive(self, a: _Agent, t: float) -> None:
        """At the end of a path: act at the plate, or leave (hand-overs end on meeting)."""
        if isinstance(a.task, Visit):
            self._act(a, a.task, t)
        elif isinstance(a.task, Leave):
            a.phase = "gone"

    def _act(self, a: _Agent, visit: Visit, t: float) -> None:
        """Turn to the plate, reach in, touch it and withdraw; the shelves and truth follow."""
        rng = self.rng
        stand = a.stand
        assert stand is not None
        assert stand.at.dist(a.at) < 1e-6, "acting away from the chosen stand"
        plate = self.store.plate(visit.plate)
        (_, _, z0), (_, _, z1) = plate.box
        z = z0 + float(rng.uniform(0.3, 0.7)) * (z1 - z0)
        side = 1 if rng.random() < 0.7 else 0
        sku = self._pick_sku(visit) if visit.kind == "pick" else visit.sku
        lane = self.store.lanes_on(plate.id).get(sku or "")
        hx, hy = stand.hand if lane is None else hand_in_box(stand.hand, lane)
        target = (hx, hy, z)
        a.face = math.atan2(target[1] - a.y, target[0] - a.x)
        t_touch = t + TURN_S + RAMP_S
        contact: PlateContact | None = None
        if visit.kind == "pick":
            contact = None if sku is None else self._pick(a, visit.plate, sku, t_touch, side)
        elif visit.kind == "lean":
            hold = float(rng.uniform(2.0, 6.0))
            hold_g = float(rng.uniform(200, 800))
            contact = PlateContact(
                plate.id, t_touch, t_touch + hold, 0.0, hold_g=hold_g, kind="lean"
            )
        elif visit.kind in ("put", "misplace"):
            contact = self._put(a, visit, t_touch, side)
        elif visit.kind == "restock":
            contact = self._restock(a, plate.id, t_touch)
        if contact is None:  # a touch, or nothing left to take or to restock
            hold = float(rng.uniform(0.5, 1.0))
            press = float(rng.uniform(10, 40))
            contact = PlateContact(plate.id, t_touch, t_touch + hold, 0.0, press_g=press)
        self.contacts.append(contact)
        t1 = contact.t_end + RAMP_S
        a.reaches.append(Reach(t + TURN_S, t1, side, target))
        a.phase = "act"
        a.v = 0.0
        a.act_end = t1 + 0.2
        lo, hi = self.sc.browse_s
        a.until = a.act_end + (0.5 if a.party.staff else float(rng.uniform(lo, hi)))

    def _event(self, a: _Agent, t: float, sku: str, plate: str, qty: int, kind: TruthKind) -> None:
        self.events.append(
            TruthEvent(
                t=t + TOUCH_LAG_S, token=a.party.token, person=a.person, sku=sku, plate=plate,
                qty=qty, kind=kind,
            )
        )  # fmt: skip

    def _pick_sku(self, visit: Visit) -> str | None:
        """The product a pick reaches for: the one wanted if it is there, else any left."""
        plate = visit.plate
        skus = [s for s in self.store.skus_on(plate) if self.shelves.count(plate, s) > 0]
        if visit.sku is not None and visit.sku in skus:
            return visit.sku
        return skus[int(self.rng.integers(len(skus)))] if skus else None

    def _pick(self, a: _Agent, plate: str, sku: str, t: float, side: int) -> PlateContact:
        rng, sc = self.rng, self.sc
        want = int(rng.integers(2, 4)) if rng.random() < sc.multi_unit else 1
        weights = self.shelves.take(plate, sku, want, rng)
        hold = float(rng.uniform(0.8, 1.2)) + 0.3 * (len(weights) - 1)
        contact = PlateContact(
            plate, t, t + hold, -sum(weights), press_g=float(rng.uniform(20, 60)), kind="pick"
        )
        self._event(a, t, sku, plate, len(weights), "pick")
        self.pending_sightings.append(_PendingSighting(a.person, contact.t_end + 0.15, sku, side))
        for w in weights:
            item = Held(sku, plate, w)
            a.holding.append(item)
            self._plan_fate(a, item)
        return contact

    def _plan_fate(self, a: _Agent, item: Held) -> None:
        """Decide whether a unit just taken will be put back, left elsewhere or handed over."""
        rng, sc = self.rng, self.sc
        u = rng.random()
        if u < sc.put_back:
            self._insert_later(a, Visit(item.plate, "put", sku=item.sku, item=item))
        elif u < sc.put_back + sc.misplace:
            other = self.cat.misplace_target(item.plate, rng)
            self._insert_later(a, Visit(other, "misplace", sku=item.sku, item=item))
        elif u < sc.put_back + sc.misplace + sc.handoff:
            mates = [
                m
                for m in a.party.members
                if m != a.person
                and self.agents[m].phase != "gone"
                and not isinstance(self.agents[m].task, Leave)
            ]
            if mates:
                a.tasks.appendleft(Handoff(mates[int(rng.integers(len(mates)))], item))

    def _insert_later(self, a: _Agent, task: Task) -> None:
        """Put a task at a random place among the remaining ones, before leaving."""
        k = int(self.rng.integers(0, len(a.tasks)))  # the last task is always Leave
        a.tasks.insert(k, task)

    def _put(self, a: _Agent, visit: Visit, t: float, side: int) -> PlateContact | None:
        item = visit.item
        if item is None or item not in a.holding:
            return None
        a.holding.remove(item)
        # The unit is in view in the hand as it reaches the shelf, as a pick's is as it leaves.
        self.pending_sightings.append(_PendingSighting(a.person, t - PUT_SEEN_S, item.sku, side))
        self.shelves.put(visit.plate, item.sku, [item.weight_g])
        hold = float(self.rng.uniform(0.8, 1.2))
        press = float(self.rng.uniform(10, 30))
        self._event(a, t, item.sku, visit.plate, 1, "put" if visit.kind == "put" else "misplace")
        return PlateContact(visit.plate, t, t + hold, item.weight_g, press_g=press, kind="put")

    def _restock(self, a: _Agent, plate: str, t: float) -> PlateContact | None:
        missing = self.shelves.shortfall(plate)
        if not missing:
            return None
        total = 0.0
        for sku, n in missing.items():
            weights = self.shelves.draw_units(sku, n, self.rng)
            self.shelves.put(plate, sku, weights)
            total += sum(weights)
            self.restocks.append(
                Restock(
                    t=t + TOUCH_LAG_S, token=a.party.token, person=a.person, sku=sku,
                    plate=plate, qty=n,
                )
            )  # fmt: skip
        hold = min(1.5 + 0.3 * sum(missing.values()), 6.0)
        press = float(self.rng.uniform(30, 80))
        return PlateContact(plate, t, t + hold, total, press_g=press, kind="restock")

    def _hand_over(self, giver: _Agent, receiver: _Agent, task: Handoff, t: float) -> None:
        """Both stop, reach to the point between them, and the unit changes hands."""
        mid = ((giver.x + receiver.x) / 2, (giver.y + receiver.y) / 2, 0.55 * giver.height)
        for k, person in enumerate((giver, receiver)):
            person.face = math.atan2(mid[1] - person.y, mid[0] - person.x)
            person.reaches.append(Reach(t + 0.1 * k, t + 1.2 + 0.1 * k, 1 - k, mid, ramp=0.4))
            person.phase = "act"
            person.v = 0.0
            person.act_end = t + 1.5
            person.until = t + 1.5
            person.stand = None
        giver.task = None
        receiver.awaiting = None
        item = task.item
        giver.holding.remove(item)
        receiver.holding.append(item)
        self.events.append(
            TruthEvent(
                t=t + 0.6, token=giver.party.token, person=giver.person, sku=item.sku,
                plate=item.plate, qty=1, kind="handoff", to_person=receiver.person,
            )
        )  # fmt: skip
        u = self.rng.random()
        if u < self.sc.put_back:
            self._insert_later(receiver, Visit(item.plate, "put", sku=item.sku, item=item))
        elif u < self.sc.put_back + self.sc.misplace:
            other = self.cat.misplace_target(item.plate, self.rng)
            self._insert_later(receiver, Visit(other, "misplace", sku=item.sku, item=item))

    # --- the result -----------------------------------------------------------------------

    def _timeline(self, end: float) -> Timeline:
        tracks = [self._track(a) for a in self.agents]
        sightings = []
        for s in self.pending_sightings:
            track = tracks[s.person]
            k = track.index_at(s.t)
            if k is not None:
                x, y, z = (float(v) for v in track.hands[k, s.side])
                sightings.append(ProductSighting(s.t, s.sku, (x, y, z)))
        return Timeline(
            start=self.start,
            end=end,
            people=tracks,
            contacts=sorted(self.contacts, key=lambda c: (c.t_start, c.plate)),
            scans=self.scans,
            initial_load_g=self.initial_load,
            truth=Truth(
                sessions=self._sessions(),
                events=sorted(self.events, key=lambda e: e.t),
                restocks=sorted(self.restocks, key=lambda r: r.t),
            ),
            sightings=sorted(sightings, key=lambda s: s.t),
        )

    def _sessions(self) -> list[TruthSession]:
        items: dict[str, Counter[str]] = {p.token: Counter() for p in self.parties}
        sign = {"pick": 1, "put": -1, "misplace": -1, "handoff": 0}
        for e in self.events:
            items[e.token][e.sku] += sign[e.kind] * e.qty
        return [
            TruthSession(
                token=p.token,
                people=len(p.members),
                items={sku: n for sku, n in sorted(items[p.token].items()) if n > 0},
                staff=p.staff,
            )
            for p in self.parties
            if p.members
        ]

    def _track(self, a: _Agent) -> PersonTrack:
        steps = self.start + (a.step0 + np.arange(len(a.xs), dtype=float)) * STEP_S
        k0 = math.ceil((steps[0] - self.start) / self.dt - 1e-9)
        k1 = math.floor((steps[-1] - self.start) / self.dt + 1e-9)
        t: FloatArray = self.start + np.arange(k0, k1 + 1, dtype=float) * self.dt
        xy = np.stack(
            [np.interp(t, steps, np.frombuffer(a.xs)), np.interp(t, steps, np.frombuffer(a.ys))],
            axis=-1,
        )
        heading = np.interp(t, steps, np.unwrap(np.frombuffer(a.hs)))
        heading = (heading + math.pi) % (2 * math.pi) - math.pi
        hands = rest_hands(xy, heading, a.height)
        for r in a.reaches:
            k0 = max(int(np.searchsorted(t, r.t0)), 0)
            k1 = int(np.searchsorted(t, r.t1))
            w = r.weight(t[k0:k1])[:, None]
            hands[k0:k1, r.side] += w * (np.asarray(r.target) - hands[k0:k1, r.side])
        return PersonTrack(
            person=a.person, token=a.party.token, height_m=a.height, t=t, xy=xy,
            heading=heading, hands=hands, staff=a.party.staff,
        )  # fmt: skip


def rest_hands(xy: FloatArray, heading: FloatArray, height: float) -> FloatArray:
    """Wrists hanging at the sides ``(N, 2, 3)`` (:func:`~walkout.sim.body.hanging_hands`),
    swinging with each stride while walking. The swing stays within arm's reach of the
    shoulder, so that the body model stands upright rather than crouching to follow it."""
    hands = hanging_hands(xy, heading, height)
    step = np.linalg.norm(np.diff(xy, axis=0, prepend=xy[:1]), axis=1)
    swing = 0.07 * height * np.sin(np.cumsum(step) * (math.pi / 0.75))
    fwd = np.stack([np.cos(heading), np.sin(heading)], axis=-1) * swing[:, None]
    hands[:, 0, :2] += fwd
    hands[:, 1, :2] -= fwd
    return hands
