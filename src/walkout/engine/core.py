"""The fusion engine: protocol messages in, cart events out.

``Engine.feed(message)`` is the whole interface. Messages may arrive a little out of order: a
reorder buffer holds them for ``reorder_window_s`` of stream time and processes them in time
order; a message older than what was already processed is counted and dropped. Time comes from
the messages only, so the same input always gives the same events.

Per message: weights go to the shelf detector, poses and tracks to the people tracker, gate
scans open visits and bind people to tokens, product sightings are kept as evidence. Each
shelf event is identified by weight (and sightings), attributed to the person whose hand was in
the plate's box, and becomes an ``ItemAdded`` or ``ItemRemoved`` on that person's visit. When
every person of a visit has left through an exit, the visit closes and its receipt follows.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field

import numpy as np

from walkout.domain.events import (
    Candidate,
    CartEvent,
    Evidence,
    ItemAdded,
    ItemRemoved,
    PersonJoined,
    ReceiptIssued,
    VisitClosed,
    VisitOpened,
)
from walkout.domain.geometry import pixel_rays
from walkout.domain.messages import (
    GateMsg,
    Message,
    MessageError,
    PoseMsg,
    ProductMsg,
    TrackMsg,
    WeightMsg,
    parse_message,
)
from walkout.domain.store import Store
from walkout.domain.truth import Receipt, ReceiptLine, Receipts
from walkout.engine.identify import IdentifyParams, identify
from walkout.engine.people import HandEvidence, PeopleTracker, TrackerConfig
from walkout.engine.shelf import ShelfDetector, ShelfEvent, ShelfParams


@dataclass(frozen=True)
class EngineConfig:
    """Tuning of the fusion engine; the defaults are what the benchmarks measure."""

    #: Messages are held this long (stream time) so that slightly late ones are put in order.
    reorder_window_s: float = 0.2
    #: A message this far ahead of the stream is a clock fault and is rejected, unless
    #: ``resync_messages`` in a row agree on the jump (a real gap, such as a restart).
    max_jump_s: float = 300.0
    resync_messages: int = 50
    #: A receipt line below this confidence flags the visit for staff review.
    review_threshold: float = 0.8
    #: Hands are looked for this long before a change starts and after it ends.
    attribution_margin_s: float = 1.0
    #: A hand farther than this from a plate's box cannot have touched it.
    reach_m: float = 0.3
    #: Without any hand seen, a body centre within this of the box may be the actor.
    body_reach_m: float = 1.2
    #: Scale of the distance preference between candidate people, in metres.
    distance_scale_m: float = 0.08
    #: Product sightings within this of a plate's box count as evidence for its changes.
    sighting_radius_m: float = 0.6
    #: How long product sightings are kept, in seconds of stream time.
    sighting_memory_s: float = 10.0
    shelf: ShelfParams = field(default_factory=ShelfParams)
    identify: IdentifyParams = field(default_factory=IdentifyParams)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)


@dataclass
class EngineStats:
    """What the engine processed, rejected and could not explain."""

    messages: int = 0
    rejected: int = 0
    late: int = 0
    time_jumps: int = 0
    unknown_camera: int = 0
    shelf_events: int = 0
    unattributed: int = 0
    unexplained: int = 0
    staff_events: int = 0
    visits_opened: int = 0
    visits_closed: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)


@dataclass
class _Line:
    sku: str
    qty: int
    confidences: list[float]


@dataclass
class _Visit:
    id: str
    token: str
    staff: bool
    opened: float
    people: list[str] = field(default_factory=list)
    exited: set[str] = field(default_factory=set)
    lines: dict[str, _Line] = field(default_factory=dict)
    closed: bool = False

    def add(self, sku: str, qty: int, confidence: float) -> None:
        line = self.lines.setdefault(sku, _Line(sku, 0, []))
        line.qty += qty
        line.confidences.append(confidence)

    def remove(self, sku: str, qty: int, confidence: float) -> int:
        """Take up to ``qty`` units off the cart; returns how many were there."""
        line = self.lines.get(sku)
        if line is None or line.qty <= 0:
            return 0
        taken = min(qty, line.qty)
        line.qty -= taken
        line.confidences.append(confidence)
        return taken


@dataclass(frozen=True)
class _Sighting:
    t: float
    origin: np.ndarray
    direction: np.ndarray
    scores: dict[str, float]


class Engine:
    """Deterministic fusion of shelf, camera and gate messages into carts and receipts."""

    def __init__(self, store: Store, config: EngineConfig | None = None) -> None:
        self.store = store
        self.config = cfg = config or EngineConfig()
        self.stats = EngineStats()
        self.shelf = ShelfDetector.for_store(store, cfg.shelf)
        self.people = PeopleTracker(store, cfg.tracker)
        self._own = {p.id: [store.product(s) for s in store.skus_on(p.id)] for p in store.plates}
        self._foreign: dict[str, Counter[str]] = defaultdict(Counter)
        self._cameras = {c.id: c for c in store.cameras}
        self._boxes = {p.id: np.asarray(p.box, dtype=float) for p in store.plates}
        self._heap: list[tuple[float, int, Message]] = []
        self._seq = itertools.count()
        self._jumped = 0  # consecutive messages far ahead of the stream
        self._first = math.inf  # oldest message time seen
        self._latest = -math.inf  # newest message time seen
        self._done = -math.inf  # time up to which messages were processed
        self._now = -math.inf
        self._visits: dict[str, _Visit] = {}  # open visits by token
        self._closed: list[_Visit] = []
        self._visit_of_track: dict[str, _Visit] = {}
        self._sightings: deque[_Sighting] = deque()
        self._event_serial = itertools.count(1)
        self._visit_serial = itertools.count(1)
        self._receipts: list[Receipt] = []

    # -- input -------------------------------------------------------------------------------

    def feed_line(self, raw: bytes | str) -> list[CartEvent]:
        """Parse and feed one recording line; a malformed line is counted and skipped."""
        try:
            msg = parse_message(raw)
        except MessageError as exc:
            self._reject(str(exc))
            return []
        return self.feed(msg)

    def feed(self, msg: Message) -> list[CartEvent]:
        """Feed one message; returns the cart events it made final (in time order)."""
        self.stats.messages += 1
        if msg.t < self._done:
            self.stats.late += 1
            return []
        if msg.t > self._latest + self.config.max_jump_s and math.isfinite(self._latest):
            self._jumped += 1
            if self._jumped < self.config.resync_messages:
                self.stats.time_jumps += 1
                return []
        self._jumped = 0
        heapq.heappush(self._heap, (msg.t, next(self._seq), msg))
        if msg.t > self._latest:
            self._latest = msg.t
        if msg.t < self._first:
            self._first = msg.t
        return self._drain(self._latest - self.config.reorder_window_s)

    def finish(self) -> list[CartEvent]:
        """End of stream: process everything held, flush the shelves and close every visit."""
        out = self._drain(math.inf)
        t = self._now if math.isfinite(self._now) else 0.0
        for event in self.shelf.flush(t):
            out += self._on_shelf(event)
        self.people.advance(t)
        out += self._on_people()
        for visit in sorted(self._visits.values(), key=lambda v: v.opened):
            out += self._close(visit, t, gate=None)
        return out

    @property
    def stream_seconds(self) -> float:
        """Stream time covered by the messages fed so far."""
        return max(0.0, self._latest - self._first) if self.stats.messages else 0.0

    def receipts(self) -> Receipts:
        """Every receipt issued so far, in the order the visits closed."""
        return Receipts(receipts=list(self._receipts))

    # -- processing --------------------------------------------------------------------------

    def _reject(self, reason: str) -> None:
        self.stats.rejected += 1
        key = reason.split(":", 1)[0]
        self.stats.reject_reasons[key] = self.stats.reject_reasons.get(key, 0) + 1

    def _drain(self, until: float) -> list[CartEvent]:
        out: list[CartEvent] = []
        heap = self._heap
        while heap and heap[0][0] <= until:
            t, _, msg = heapq.heappop(heap)
            self._done = t
            self._now = t
            out += self._process(msg)
        return out

    def _process(self, msg: Message) -> list[CartEvent]:
        if isinstance(msg, WeightMsg):
            events = self.shelf.feed(msg)
            if not events:
                return []
            out: list[CartEvent] = []
            for event in events:
                out += self._on_shelf(event)
            return out
        if isinstance(msg, PoseMsg):
            self.people.feed_pose(msg)
        elif isinstance(msg, TrackMsg):
            self.people.feed_track(msg)
        elif isinstance(msg, GateMsg):
            return self._on_gate(msg)
        elif isinstance(msg, ProductMsg):
            self._on_product(msg)
            return []
        self.people.advance(msg.t)
        return self._on_people()

    def _next_id(self, visit: _Visit) -> str:
        return f"{visit.id}:{next(self._event_serial)}"

    def _on_gate(self, msg: GateMsg) -> list[CartEvent]:
        self.people.feed_gate(msg)
        out: list[CartEvent] = []
        gate = next((g for g in self.store.gates if g.id == msg.gate), None)
        if gate is not None and gate.admits and msg.token not in self._visits:
            visit = _Visit(
                id=f"v{next(self._visit_serial)}",
                token=msg.token,
                staff=msg.role == "staff",
                opened=msg.t,
            )
            self._visits[msg.token] = visit
            self.stats.visits_opened += 1
            out.append(
                VisitOpened(
                    id=self._next_id(visit), t=msg.t, visit=visit.id, token=msg.token, gate=msg.gate
                )
            )
        self.people.advance(msg.t)
        return out + self._on_people()

    def _on_people(self) -> list[CartEvent]:
        out: list[CartEvent] = []
        for binding in self.people.pop_bindings():
            visit = self._visits.get(binding.token)
            if visit is None:
                continue
            visit.people.append(binding.track)
            self._visit_of_track[binding.track] = visit
            if not binding.first:
                out.append(
                    PersonJoined(
                        id=self._next_id(visit),
                        t=self._now,
                        visit=visit.id,
                        token=visit.token,
                        person=binding.track,
                    )
                )
        for exit_event in self.people.pop_exits():
            visit = self._visit_of_track.get(exit_event.track)
            if visit is None or visit.closed:
                continue
            visit.exited.add(exit_event.track)
            if visit.exited >= set(visit.people):
                out += self._close(visit, self._now, gate=exit_event.gate)
        return out

    def _on_product(self, msg: ProductMsg) -> None:
        cam = self._cameras.get(msg.camera)
        if cam is None:
            self.stats.unknown_camera += 1
            return
        origin, dirs = pixel_rays(cam, np.asarray([msg.at], dtype=float))
        self._sightings.append(_Sighting(msg.t, origin, dirs[0], dict(msg.scores)))
        while self._sightings and self._sightings[0].t < msg.t - self.config.sighting_memory_s:
            self._sightings.popleft()

    def _evidence_scores(self, plate: str, t0: float, t1: float) -> dict[str, float] | None:
        """Product-recognition scores seen near a plate around a change, averaged."""
        box = self._boxes[plate]
        centre = box.mean(axis=0)
        sums: dict[str, float] = {}
        n = 0
        for s in self._sightings:
            if not t0 - 1.0 <= s.t <= t1 + 3.0:
                continue
            along = float(np.dot(centre - s.origin, s.direction))
            closest = s.origin + max(along, 0.0) * s.direction
            if np.linalg.norm(closest - centre) > self.config.sighting_radius_m:
                continue
            n += 1
            for sku, p in s.scores.items():
                sums[sku] = sums.get(sku, 0.0) + p
        return {sku: v / n for sku, v in sums.items()} if n else None

    # -- shelf events ------------------------------------------------------------------------

    def _attribute(self, event: ShelfEvent) -> tuple[str | None, float]:
        """The person who most likely made a shelf change, with the probability of it."""
        cfg = self.config
        box = self._boxes[event.plate]
        hands = self.people.hands_near(
            self.store.plate(event.plate).box,
            event.t_start - cfg.attribution_margin_s,
            event.t_end + cfg.attribution_margin_s,
        )
        near: list[HandEvidence] = [h for h in hands if h.distance <= cfg.reach_m]
        if near:
            # Prefer a hand inside the box, then the longest inside, then the nearest.
            score = np.array(
                [-h.distance / cfg.distance_scale_m + min(h.inside_s, 2.0) for h in near]
            )
            p = np.exp(score - score.max())
            p /= p.sum()
            best = int(np.argmax(p))
            return near[best].track, float(p[best])
        # No hand seen near the plate: the nearest body, if it could have reached.
        t_mid = 0.5 * (event.t_start + event.t_end)
        lo, hi = box[0, :2], box[1, :2]
        best_track, best_d = None, math.inf
        for state in self.people.tracks():
            point = self.people.position(state.track, t_mid, within_s=1.0)
            if point is None:
                continue
            xy = np.asarray(point.xy)
            d = float(np.linalg.norm(np.maximum(np.maximum(lo - xy, xy - hi), 0.0)))
            if d < best_d:
                best_track, best_d = state.track, d
        if best_track is not None and best_d <= cfg.body_reach_m:
            return best_track, 0.5
        return None, 0.0

    def _on_shelf(self, event: ShelfEvent) -> list[CartEvent]:
        self.stats.shelf_events += 1
        track, person_p = self._attribute(event)
        visit = self._visit_of_track.get(track) if track is not None else None
        if visit is None or visit.closed:
            self.stats.unattributed += 1
            return []
        if visit.staff:
            self.stats.staff_events += 1
            return []
        evidence = self._evidence_scores(event.plate, event.t_start, event.t_end)
        if event.delta_g < 0:
            # Taken: the plate's own products, or items shoppers left there.
            own = self._own[event.plate]
            foreign = [self.store.product(s) for s, n in self._foreign[event.plate].items() if n]
            candidates_of = (own, foreign)
        else:
            # Put down: a shopper can only put back what is in their cart.
            in_cart = [self.store.product(ln.sku) for ln in visit.lines.values() if ln.qty]
            candidates_of = (in_cart, [])
        ident = identify(event.delta_g, event.sd_g, *candidates_of, evidence, self.config.identify)
        best = ident.best
        if best is None:
            self.stats.unexplained += 1
            return []
        candidates = [
            Candidate(sku=h.sku, qty=h.qty, p=round(h.probability, 4)) for h in ident.hypotheses[:5]
        ]
        out: list[CartEvent] = []
        for item in best.items:
            confidence = best.probability * person_p
            proof = Evidence(
                plate=event.plate,
                t_start=event.t_start,
                t_end=event.t_end,
                delta_g=round(event.delta_g, 2),
                person=track,
                person_p=round(person_p, 4),
                candidates=candidates,
                confidence=round(confidence, 4),
            )
            if item.qty < 0:
                visit.add(item.sku, -item.qty, confidence)
                if self._foreign[event.plate][item.sku]:
                    self._foreign[event.plate][item.sku] -= min(
                        -item.qty, self._foreign[event.plate][item.sku]
                    )
                out.append(
                    ItemAdded(
                        id=self._next_id(visit),
                        t=self._now,
                        visit=visit.id,
                        token=visit.token,
                        sku=item.sku,
                        qty=-item.qty,
                        evidence=proof,
                    )
                )
            else:
                taken = visit.remove(item.sku, item.qty, confidence)
                if taken and item.sku not in self.store.skus_on(event.plate):
                    self._foreign[event.plate][item.sku] += taken
                if taken:
                    out.append(
                        ItemRemoved(
                            id=self._next_id(visit),
                            t=self._now,
                            visit=visit.id,
                            token=visit.token,
                            sku=item.sku,
                            qty=taken,
                            evidence=proof,
                        )
                    )
        return out

    # -- closing -----------------------------------------------------------------------------

    def _close(self, visit: _Visit, t: float, gate: str | None) -> list[CartEvent]:
        if visit.closed:
            return []
        visit.closed = True
        self._visits.pop(visit.token, None)
        self.stats.visits_closed += 1
        lines = [
            ReceiptLine(
                sku=line.sku,
                qty=line.qty,
                price=self.store.product(line.sku).price,
                confidence=round(min(line.confidences), 4),
            )
            for line in sorted(visit.lines.values(), key=lambda x: x.sku)
            if line.qty > 0 and not visit.staff
        ]
        confidence = min((ln.confidence for ln in lines), default=1.0)
        receipt = Receipt(
            token=visit.token,
            items={ln.sku: ln.qty for ln in lines},
            total=sum(ln.qty * ln.price for ln in lines),
            confidence=confidence,
            lines=lines,
            flagged=confidence < self.config.review_threshold,
            closed_at=t,
        )
        self._receipts.append(receipt)
        return [
            VisitClosed(id=self._next_id(visit), t=t, visit=visit.id, token=visit.token, gate=gate),
            ReceiptIssued(id=self._next_id(visit), t=t, visit=visit.id, receipt=receipt),
        ]
