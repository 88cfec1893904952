"""The fusion engine: protocol messages in, cart events out.

``Engine.feed(message)`` is the whole interface. Messages may arrive a little out of order: a
reorder buffer holds them for ``reorder_window_s`` of stream time and processes them in time
order; a message older than that window (behind the newest) is counted and dropped. The buffer is a
queue for messages that arrive in order (nearly all of them: O(1) each) and a heap for the
few that do not. Weight and pose messages, nearly all of the stream, travel as
:class:`WeightFields` and :class:`PoseFields` structs (``feed_line`` parses them on a fast
path) rather than models. Time comes from
the messages only, so the same input always gives the same events.

Per message: weights go to the shelf detector, poses and tracks to the people tracker, gate
scans open visits and bind people to tokens, product sightings are kept as evidence. Each
shelf event is identified by weight (and sightings, and on a plate shared by products in lanes,
the lane the hand was in), attributed to the person whose hand was in the plate's box, and
becomes an ``ItemAdded`` or ``ItemRemoved`` on that person's visit. When every person of a
visit has left through an exit, the visit closes and its receipt follows.

Hard cases: a pick that its weight leaves ambiguous (look-alikes) waits, about a second at
most, for a product sighting; a rise is confirmed as a put as soon as the hands that made it
are seen away from the plate with the load still up (a resting hand lifts its load when it
goes); a put is matched against the units in the cart as they were weighed when picked, the
person's own first, and goes to a hand whose party holds what came down; when several hands
were at a plate, the one that had just reached in made the change, and hands that reached in
together share a pick of several units. A line's
confidence is its chance of being right, and every doubt about a line (or about a change that
may have been the party's: the chance its hand there was given; or a shopper's track lost in
the store, whose changes may have gone unseen or to another bill) lowers it: a receipt with a
line below ``review_threshold`` is flagged for review, and the evidence of each change below it
carries what a reviewer needs: the plate's weight trace around the change and who was near it.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from walkout.domain.events import (
    Candidate,
    CartEvent,
    Evidence,
    ItemAdded,
    ItemRemoved,
    PersonJoined,
    PersonNear,
    ReceiptIssued,
    VisitClosed,
    VisitOpened,
)
from walkout.domain.floor import FloorPerson, FloorView
from walkout.domain.geometry import pixel_rays
from walkout.domain.messages import (
    GateMsg,
    Message,
    MessageError,
    PoseFields,
    PoseMsg,
    ProductMsg,
    TrackMsg,
    WeightFields,
    WeightMsg,
    parse_fast,
    parse_message,
)
from walkout.domain.store import Product, Store
from walkout.domain.truth import Receipt, ReceiptLine, Receipts
from walkout.engine.bulk import BlockScanner
from walkout.engine.identify import (
    Identification,
    IdentifyParams,
    LaneLikelihoods,
    identify,
    lane_likelihoods,
)
from walkout.engine.people import HandEvidence, PeopleTracker, PoseArrays, TrackerConfig
from walkout.engine.shelf import PendingRise, ShelfDetector, ShelfEvent, ShelfParams

#: What the reorder buffer holds: a weight message's fields, or another message (a pose
#: message's fields, or a model).
_Other = PoseFields | PoseMsg | PoseArrays | TrackMsg | GateMsg | ProductMsg
_Item = WeightFields | _Other


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
    #: A change's confidence is (product probability) ** this x (person probability). The raw
    #: product probability is under-confident: on dev runs (corner store, seeds 100-105, track
    #: mode) lines at a raw 0.6 were right 80 % of the time, at 0.85 97 %, above 0.9 always.
    confidence_power: float = 0.5
    #: Hands are looked for this long before a change starts and after it ends.
    attribution_margin_s: float = 1.0
    #: A hand farther than this from a plate's box cannot have touched it.
    reach_m: float = 0.3
    #: Without any hand seen within reach, a body centre within this of the box may be the
    #: actor, with ``body_alone_p`` when nobody else was that near (on dev pose runs, busy
    #: and quiet seeds 2000-2001, such a lone body's token was right 28 times of 32, wrong
    #: ones mostly tracks that had swapped tokens before). Among several, the chances fall
    #: off with the body's distance from the box (per ``body_scale_m``) and with how far
    #: their nearest hand stayed (per ``far_hand_scale_m``, counted up to ``far_hand_m``; no
    #: hand seen: that far): a hand seen by one camera only is often placed tens of
    #: centimetres off along its ray. On dev pose runs (corner, busy seeds 2000-2005), of 103
    #: such changes among several people this chose the actor 87 times (the nearest body: 83),
    #: and 53 of the 54 it gave 0.8 or more (before ``body_alone_p``).
    body_reach_m: float = 1.2
    body_alone_p: float = 0.85
    #: When the only hands within reach were seen by one camera (somewhere on its ray within
    #: arm's reach, ``TrackerConfig.arm_m``) and someone else's body stood nearer the plate,
    #: those hands' chances are scaled by this and the nearest body gets the rest: such a
    #: change is not sure. On dev pose runs (corner, busy seeds 2000-2009, rush 2000-2002,
    #: adversarial 2000-2001) the hand's person had made 26 of the 37 changes this doubted.
    #: (Also the share left to the hands seen near when ``unseen_hands`` names a rival.)
    ray_only_p: float = 0.7
    #: (Also, with hands placed from poses within reach, each candidate's chance is weighed by
    #: ``exp(-d / body_scale_m)`` for their body's distance ``d`` from the box: on dev pose
    #: runs (corner, busy seeds 2000-2015) the likeliest candidate was the actor's track in
    #: 3,505 of 3,535 changes instead of 3,493, and 67 were in doubt instead of 77.)
    body_scale_m: float = 0.2
    #: The one who changed a plate's load had a hand at it meanwhile, unseen (inside the shelf)
    #: or seen there: nobody whose hands were both seen beyond ``reach_m`` of the box in this
    #: share of their observations during the change is a candidate, while someone else is.
    #: On dev pose runs (corner, busy seeds 2000-2005) no actor's hands were both seen away
    #: even once, while 55 % of the others near a hand-made change were, most of the time.
    away_share: float = 0.5
    #: With no hand seen inside a changed plate's box, a body within reach whose hands were
    #: seen at most this many times around the change (a hand in a shelf is hidden from most
    #: cameras) may have made it instead of the hands seen near: it gets ``1 - ray_only_p``.
    #: On dev pose runs (corner, busy seeds 2000-2015) the hand nearest the box was the
    #: actor's in 15 of 26 such changes, against 2,857 of 2,860 when a hand was in the box.
    unseen_hands: int = 5
    far_hand_scale_m: float = 0.2
    far_hand_m: float = 0.6
    #: Scale of the distance preference between candidate people, in metres: about the error
    #: of a hand triangulated from poses, and (``tracked_``) of one that an external 3-D tracker
    #: reports in ``track`` messages. On dev runs in track mode (seeds 2000-2005) the hand that
    #: made a change was inside the box every time (198 of 198), and at the pose scale the 41
    #: attributions it gave 0.65-0.9 were all right: too unsure for such hands.
    distance_scale_m: float = 0.08
    tracked_distance_scale_m: float = 0.03
    #: Where the actor's hand was at a plate whose products stand in lanes (facing ``box``)
    #: tells which product it reached for: their hand in the plate's box from this long before
    #: the change to this long after it, at the hand's position error (the scales above).
    lane_margin_s: float = 0.2
    #: Product sightings within this of a plate's box count as evidence for its changes.
    sighting_radius_m: float = 0.6
    #: How long product sightings are kept, in seconds of stream time.
    sighting_memory_s: float = 10.0
    #: A pick identified with less than this probability waits for a product sighting (when
    #: the store has cameras) for ``evidence_wait_s`` after its load settled and then until
    #: the picker's hand is away from the plate (the product is seen as it leaves the shelf),
    #: never longer than ``evidence_max_wait_s``.
    sure_p: float = 0.98
    evidence_wait_s: float = 0.8
    evidence_max_wait_s: float = 2.5
    #: A settled rise is a put (not a resting hand) once every hand that was at the plate has
    #: stayed farther than ``put_touch_m`` from its box for ``put_quiet_s``.
    put_quiet_s: float = 0.3
    put_touch_m: float = 0.08
    #: Waiting picks and rises are checked this often, in seconds of stream time.
    check_every_s: float = 0.05
    #: Prior weight of putting down an item that another member of the party picked, relative
    #: to one the person picked themselves (hand-overs are invisible to the engine).
    held_by_other: float = 0.1
    #: Prior weight of putting an item down on a plate it was not picked from: a unit left
    #: elsewhere may land on any of the many plates around, so this one plate is unlikely.
    #: Both priors maximise the likelihood of the true product over the puts of dev runs (track
    #: mode, busy and adversarial, seeds 2000-2005: 336 puts with two or more products in the
    #: cart): log-likelihood -7.7 against -16.2 for the former 0.5 and 0.25.
    moved_prior: float = 0.05
    #: With several hands at a plate during a change, the one that reached in for it was away
    #: from the box from ``onset_s[0]`` to ``onset_s[1]`` before the change began; others were
    #: there already. A lone such hand is the actor with at least ``onset_p``.
    onset_s: tuple[float, float] = (0.8, 0.4)
    onset_p: float = 0.9
    #: Chance that a change hands reached in for together was a pick they shared, one unit
    #: each (see ``_apply_shared``). It may as well have been one person's put merged with
    #: the other's pick of more units. Of six such changes seen on replayed dev and held-out
    #: track runs, four were shared picks; in the truth of 160 more simulated runs (corner,
    #: 3 min, busy seeds 3000-3099 and adversarial 3000-3059), two parties' changes of one
    #: product on one plate within 0.5 s that took two or more units in all were shared picks
    #: 13 times of 13. Of the 19, 17 were shared: 0.89, rounded down.
    shared_p: float = 0.85
    #: Error of a weighed change beyond the detector's SD (hands, correlated noise), in grams:
    #: it matters when a unit put down is compared with the same unit weighed when picked.
    weigh_floor_g: float = 0.5
    #: A visit whose shopper's track was lost in the store (pose tracking, in a crowd) and
    #: not surely found again is right at most this often: its person may have shopped
    #: unseen, or under another track whose changes went to another bill. On dev pose runs
    #: (corner, 3 min, busy seeds 2000-2015, rush 2000-2002, adversarial 2000-2003) 81 of 174
    #: such receipts were right: 0.47, rounded down (two rounds of tracking before, 8 of 50
    #: were). A loss that a track took over where it faded (``TrackerConfig.heir_m``) leaves
    #: no doubt: the person was found at once. 8 of 9 such visits on those runs were right,
    #: and the wrong one had a line in doubt of its own.
    lost_track_p: float = 0.45
    #: A change by a person on no visit yet is held this long, in case they are bound to one:
    #: their token's binding may still be settling (``TrackerConfig.bind_settle_s``), their
    #: track may be found to continue a lost shopper's (``heir_m``), or they may leave as a
    #: lost shopper (``left_lost_max``; after minutes unbound). It is charged to the visit
    #: then (ADR 15), and counted unattributed if that never comes.
    hold_unbound_s: float = 600.0
    #: Evidence of a change below ``review_threshold`` carries the plate's load from this long
    #: before the change to this long after it, every ``trace_dt_s`` (what the shelf still
    #: keeps), and the people whose body was within ``near_m`` of the plate's box.
    trace_margin_s: float = 1.5
    trace_dt_s: float = 0.05
    near_m: float = 2.0
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
    #: Changes held for a person on no visit (``hold_unbound_s``) and charged once they were.
    recovered: int = 0
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
    grams: float = 0.0
    """Measured weight of the ``qty`` units in the cart."""
    var_g: float = 0.0
    """Variance of that measurement."""


@dataclass
class _Visit:
    id: str
    token: str
    staff: bool
    opened: float
    people: list[str] = field(default_factory=list)
    exited: set[str] = field(default_factory=set)
    lines: dict[str, _Line] = field(default_factory=dict)
    held: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    """Units each person picked and has not put down, by track."""
    origins: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """The plates each product was picked from."""
    doubt: float = 1.0
    """Confidence that no change made by this party went to another's cart."""
    lost: set[str] = field(default_factory=set)
    """Its people's tracks that were lost in the store and not surely found again: changes
    may have been missed while they were (``EngineConfig.lost_track_p``)."""
    found: set[str] = field(default_factory=set)
    """Lost tracks of its people that a track took over where they faded (not a leaver
    taken for them), whichever of the loss and the continuation came first."""
    closed: bool = False

    def add(self, sku: str, qty: int, confidence: float, grams: float, var_g: float) -> None:
        line = self.lines.setdefault(sku, _Line(sku, 0, []))
        line.qty += qty
        line.grams += grams
        line.var_g += var_g
        line.confidences.append(confidence)

    def remove(
        self, sku: str, qty: int, confidence: float, grams: float | None, var_g: float
    ) -> int:
        """Take up to ``qty`` units off the cart, weighing ``grams`` ± ``var_g`` (None: not
        weighed apart); returns how many were there."""
        line = self.lines.get(sku)
        if line is None or line.qty <= 0:
            return 0
        taken = min(qty, line.qty)
        if taken == line.qty:
            line.grams = line.var_g = 0.0
        elif grams is None or taken < qty:
            share = taken / line.qty
            line.grams -= share * line.grams
            line.var_g -= share * line.var_g
        else:  # what is left weighs what was picked less what was put down
            line.grams -= grams
            line.var_g += var_g
        line.qty -= taken
        line.confidences.append(confidence)
        return taken

    def unit(self, product: Product) -> Product:
        """``product`` with the unit weight measured when its units in the cart were picked:
        one unit is known to the scale's precision, several to their mean."""
        line = self.lines[product.sku]
        n = line.qty
        var = product.weight_sd_g**2 * (n - 1) / n + line.var_g / (n * n)
        return product.model_copy(
            update={"weight_g": line.grams / n, "weight_sd_g": max(math.sqrt(var), 0.1)}
        )


@dataclass(frozen=True)
class _Sighting:
    t: float
    origin: np.ndarray
    direction: np.ndarray
    scores: dict[str, float]


@dataclass(frozen=True)
class _Attribution:
    """Who made a shelf change: each candidate's chance, the likeliest first."""

    chances: dict[str, float]
    """Chance of each person who may have made it; they sum to 1 or less."""
    at: tuple[str, ...] = ()
    """People with a hand at the plate while its load changed."""
    sharers: tuple[str, ...] = ()
    """People who reached in together when the change began (see ``EngineConfig.onset_s``):
    a pick of several units may have been shared between them."""

    @property
    def track(self) -> str:
        return next(iter(self.chances))

    @property
    def p(self) -> float:
        return self.chances[self.track]

    def chosen(self, track: str, p: float) -> _Attribution:
        """This attribution with ``track`` the actor at chance ``p``, the others scaled down to
        share the rest."""
        rest = sum(c for t, c in self.chances.items() if t != track)
        scale = (1.0 - p) / rest if rest > 0.0 else 0.0
        chances = {track: p} | {t: c * scale for t, c in self.chances.items() if t != track}
        return replace(self, chances=chances)


@dataclass(frozen=True)
class _Held:
    """A change whose actor was on no visit when it was made (``hold_unbound_s``)."""

    event: ShelfEvent
    who: _Attribution


@dataclass(frozen=True)
class _Waiting:
    """An attributed pick whose product is not clear yet: it waits for product sightings."""

    event: ShelfEvent
    visit: _Visit
    who: _Attribution
    likely: frozenset[str]
    """The products it most likely is: a sighting of one of them ends the wait."""


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
        self._centres = {pid: box.mean(axis=0) for pid, box in self._boxes.items()}
        self._waiting: list[_Waiting] = []
        self._held: deque[_Held] = deque()
        # Checks of waiting changes: the k-th at t0 + k x check_every_s (k < 0: none yet).
        self._check_t0 = 0.0
        self._check_k = -1
        self._next_check = -math.inf
        # Reorder buffer: (time, item) in a queue while items arrive in time order; one older
        # than the newest queued goes to a heap as (time, arrival number, item). Items are
        # processed in (time, arrival) order: an item queued at a time that is also in the
        # heap arrived before the heap's (the queue's newest time never decreases).
        self._queue: deque[_Item] = deque()  # each item holds its time, .t
        self._heap: list[tuple[float, int, _Item]] = []
        self._queue_t = -math.inf  # time of the newest item queued
        self._seq = itertools.count()
        self._window = cfg.reorder_window_s
        self._max_jump = cfg.max_jump_s
        self._jumped = 0  # consecutive messages far ahead of the stream
        self._first = math.inf  # oldest message time seen
        self._latest = -math.inf  # newest message time seen
        # Every message up to this time was processed (the last drain's horizon): older
        # ones are late.
        self._done = -math.inf
        self._now = -math.inf
        self._visits: dict[str, _Visit] = {}  # open visits by token
        self._closed: list[_Visit] = []
        self._visit_of_track: dict[str, _Visit] = {}
        self._sightings: deque[_Sighting] = deque()
        self._tracked = False  # people come from an external 3-D tracker's track messages
        self._people_t = -math.inf  # time of the latest pose or track message processed
        self._event_serial = itertools.count(1)
        self._visit_serial = itertools.count(1)
        self._receipts: list[Receipt] = []
        # Bulk feeding (feed_block): plates at rest lent to compiled code, and the unfinished
        # line of the last block.
        self._bulk: BlockScanner | None = None
        self._tail = b""

    # -- input -------------------------------------------------------------------------------

    def feed_line(self, raw: bytes | str) -> list[CartEvent]:
        """Parse and feed one recording line; a malformed line is counted and skipped."""
        fast = parse_fast(raw)
        if fast is not None:
            return self._admit(fast.t, fast)
        try:
            msg = parse_message(raw)
        except MessageError as exc:
            self._reject(str(exc))
            return []
        return self.feed(msg)

    def feed_block(self, block: bytes, final: bool = False) -> list[CartEvent]:
        """Feed a block of raw recording lines, each ended by a line feed: the events of
        :meth:`feed_line` on each line in turn, exactly, at a fraction of the cost (weight
        messages of plates at rest are applied, and pose frames parsed, in compiled code:
        :mod:`walkout.engine.bulk`).
        The block's unfinished last line waits for the next block, or for :meth:`finish`
        (``final``: the block ends the stream)."""
        bulk = self._bulk
        if bulk is None:
            queued = Counter(i.plate for i in self._queue if type(i) is WeightFields)
            queued.update(i.plate for _, _, i in self._heap if type(i) is WeightFields)
            bulk = self._bulk = BlockScanner(
                self.shelf.detectors,
                self.shelf.params,
                self.shelf.stats,
                self.people.cameras.ids,
                self._max_jump,
                queued,
            )
        data = self._tail + block if self._tail else block
        buf = np.frombuffer(data, dtype=np.uint8)
        out: list[CartEvent] = []
        pos = 0
        while True:
            scan = bulk.scan(buf, pos, final, self._latest, self._queue_t)
            if scan.applied:
                self._jumped = 0
                self.stats.messages += scan.applied
                self.shelf.stats.messages += scan.applied
            for taken in scan.taken:  # in order: the engine's clocks as they were before each
                self._latest, self._queue_t = taken.latest, taken.queue_t
                out += self._drain(taken.latest - self._window)
                out += self._admit(taken.frame.t, taken.frame)
            self._latest, self._queue_t = scan.latest, scan.queue_t
            start, stop = scan.start, scan.stop
            if scan.done:
                self._tail = data[start:]
                return out
            if stop == start:  # no room for more frames
                pos = start
                continue
            # Catch up with the messages applied meanwhile, as feeding them one by one would
            # have: what is late for the next line depends on it.
            out += self._drain(self._latest - self._window)
            for line in data[start:stop].splitlines():  # CR too, as iter_lines splits
                if line and not line.isspace():
                    out += self.feed_line(line)
            pos = stop + 1

    def feed(self, msg: Message | WeightFields | PoseFields) -> list[CartEvent]:
        """Feed one message (a model, or the fields :func:`parse_fast` gave); returns the cart
        events it made final (in time order)."""
        if isinstance(msg, WeightMsg):
            return self._admit(msg.t, WeightFields.of(msg))
        return self._admit(msg.t, msg)

    def _admit(self, t: float, item: _Item) -> list[CartEvent]:
        """Put a message into the reorder buffer and process what is due."""
        self.stats.messages += 1
        if t < self._done:
            self.stats.late += 1
            return []
        latest = self._latest
        if t > latest + self._max_jump and math.isfinite(latest):
            self._jumped += 1
            if self._jumped < self.config.resync_messages:
                self.stats.time_jumps += 1
                return []
        self._jumped = 0
        if self._bulk is not None and type(item) is WeightFields:
            self._bulk.handed(item.plate, t)  # its plate's state must be here to process it
        if t >= self._queue_t:
            self._queue.append(item)
            self._queue_t = t
        else:
            heapq.heappush(self._heap, (t, next(self._seq), item))
        if t > latest:
            self._latest = latest = t
        if t < self._first:
            self._first = t
        return self._drain(latest - self._window)

    def finish(self) -> list[CartEvent]:
        """End of stream: process everything held, flush the shelves and close every visit."""
        out = self.feed_block(b"", final=True) if self._bulk is not None else []
        out += self._drain(math.inf)
        if self._bulk is not None:
            self._bulk.give_back_all()
        self._now = max(self._now, self._latest)  # the newest message, wherever it went
        t = self.now
        for event in self.shelf.flush(t):
            out += self._on_shelf(event)
        out += self._settle(lambda w: True)
        self.people.advance(t)
        out += self._on_people()
        self._forget_held(math.inf)
        for visit in sorted(self._visits.values(), key=lambda v: v.opened):
            out += self._close(visit, t, gate=None)
        return out

    @property
    def now(self) -> float:
        """Stream time up to which messages have been processed (0.0 before any)."""
        return self._now if math.isfinite(self._now) else 0.0

    @property
    def stream_seconds(self) -> float:
        """Stream time covered by the messages fed so far."""
        return max(0.0, self._latest - self._first) if self.stats.messages else 0.0

    def receipts(self) -> Receipts:
        """Every receipt issued so far, in the order the visits closed."""
        return Receipts(receipts=list(self._receipts))

    def floor(self) -> FloorView:
        """The people tracked now, with the token each was bound to at the gate."""
        people = [
            FloorPerson(person=s.track, token=s.token, x=round(s.xy[0], 3), y=round(s.xy[1], 3))
            for s in self.people.tracks()
        ]
        return FloorView(t=max(self.now, 0.0), people=people)

    # -- processing --------------------------------------------------------------------------

    def _reject(self, reason: str) -> None:
        self.stats.rejected += 1
        key = reason.split(":", 1)[0]
        self.stats.reject_reasons[key] = self.stats.reject_reasons.get(key, 0) + 1

    def _drain(self, until: float) -> list[CartEvent]:
        """Process the buffered items up to time ``until`` in (time, arrival) order: the
        earlier head of the queue and the heap first (the queue's on a tie)."""
        out: list[CartEvent] = []
        queue, heap = self._queue, self._heap
        feed_weight = self.shelf.feed_weight
        bulk = self._bulk
        while True:
            if heap and (not queue or heap[0][0] < queue[0].t):
                if heap[0][0] > until:
                    break
                t, _, item = heapq.heappop(heap)
            elif queue and queue[0].t <= until:
                item = queue.popleft()
                t = item.t
            else:
                break
            if t > self._next_check:
                out += self._checks_before(t)
            self._now = t
            if isinstance(item, WeightFields):  # most items: straight to the shelves
                event = feed_weight(item.plate, t, item.hz, item.g)
                if event is not None:
                    out += self._on_shelf(event)
                if bulk is not None:
                    bulk.processed(item.plate, self._charge_awaited)
            else:
                out += self._process(item)
        if until > self._done:
            self._done = until
            if -math.inf < self._next_check <= until < math.inf:
                out += self._checks_before(until, inclusive=True)
        return out

    def _checks_before(self, t: float, inclusive: bool = False) -> list[CartEvent]:
        """The checks of waiting changes due before stream time ``t`` (or at it, when
        ``inclusive``). They fall on a fixed grid, every ``check_every_s`` from the first
        message processed, whatever messages came between: each sees every message up to its
        time processed and none after. Checks that could do nothing are skipped."""
        every = self.config.check_every_s
        if self._check_k < 0:  # the first message: the grid starts there
            self._check_t0, self._check_k, self._next_check = t, 0, t
            return []
        out: list[CartEvent] = []
        while self._next_check < t or (inclusive and self._next_check == t):
            now = self._next_check
            if self._nothing_to_check(now):  # nor until the next message: skip to it
                k = math.ceil((t - self._check_t0) / every) + (1 if inclusive else 0)
                self._check_k = max(self._check_k + 1, k)
            else:
                self._now = now
                self._check_k += 1
                out += self._check_waiting(now)
            nxt = self._check_t0 + self._check_k * every
            # (Past 2**53 x check_every_s a step no longer moves a double: move it anyway.)
            self._next_check = nxt if nxt > now else math.nextafter(now, math.inf)
        return out

    def _nothing_to_check(self, now: float) -> bool:
        """Whether a check at ``now``, and every one after it until another message is
        processed, would do nothing: no pick waits, no change is held, and no pending rise
        can be confirmed: none was seen at its level late enough, or no one has been seen
        for ``put_quiet_s`` (a rise is confirmed when its hands are seen away)."""
        if self._waiting or self._held:
            return False
        quiet = self.config.put_quiet_s
        if now - quiet > self._people_t:
            return True
        latest = now - quiet + self.shelf.params.confirm_hold_s
        return all(rise.t_last < latest for rise in self.shelf.pending())

    def _charge_awaited(self, plate: str) -> bool:
        """Whether a change of ``plate`` awaits its charge (waiting, or held for a person on
        no visit)."""
        return any(w.event.plate == plate for w in self._waiting) or any(
            h.event.plate == plate for h in self._held
        )

    def _process(self, msg: _Other) -> list[CartEvent]:
        """Everything but weights (see ``_drain``)."""
        if isinstance(msg, PoseFields | PoseMsg | PoseArrays):
            self.people.feed_pose(msg)
            self._people_t = msg.t
        elif isinstance(msg, TrackMsg):
            self.people.feed_track(msg)
            self._people_t = msg.t
            self._tracked = True
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
            out += self._recover(binding.track)
        for heir in self.people.pop_continuations():
            visit = self._visit_of_track.get(heir.lost)
            if visit is None or visit.closed:
                continue
            visit.people = [heir.track if p == heir.lost else p for p in visit.people]
            visit.held[heir.track] += visit.held.pop(heir.lost, Counter())
            self._visit_of_track[heir.track] = visit
            if not heir.after_gap:  # found where the track faded: nothing went unseen
                visit.found.add(heir.lost)
                visit.lost.discard(heir.lost)
            out += self._recover(heir.track, heir.p)
        for exit_event in self.people.pop_exits():
            visit = self._visit_of_track.get(exit_event.track)
            if visit is None or visit.closed:
                continue
            visit.exited.add(exit_event.track)
            if visit.exited >= set(visit.people):
                out += self._close(visit, self._now, gate=exit_event.gate)
        for lost in self.people.pop_losses():
            visit = self._visit_of_track.get(lost.track)
            if visit is not None and not visit.closed and lost.track not in visit.found:
                visit.lost.add(lost.track)
        return out

    def _recover(self, track: str, chance: float = 1.0) -> list[CartEvent]:
        """Charge the held changes of a person just bound to a visit, in the order made; the
        person's chance of each is scaled by the ``chance`` that the binding is right."""
        mine = [h for h in self._held if h.who.track == track]
        if not mine:
            return []
        self._held = deque(h for h in self._held if h.who.track != track)
        out: list[CartEvent] = []
        for held in mine:
            self.stats.recovered += 1
            who = held.who
            if chance < 1.0:  # the doubt is the binding's: the others' chances stay theirs
                who = replace(who, chances=who.chances | {track: who.p * chance})
            out += self._charge(held.event, self._visit_of_track.get(track), who)
        return out

    def _forget_held(self, until: float) -> None:
        """Count the held changes made before ``until`` as unattributed, and drop them."""
        while self._held and self._held[0].event.t_end < until:
            self._held.popleft()
            self.stats.unattributed += 1

    def _on_product(self, msg: ProductMsg) -> None:
        cam = self._cameras.get(msg.camera)
        if cam is None:
            self.stats.unknown_camera += 1
            return
        origin, dirs = pixel_rays(cam, np.asarray([msg.at], dtype=float))
        self._sightings.append(_Sighting(msg.t, origin, dirs[0], dict(msg.scores)))
        while self._sightings and self._sightings[0].t < msg.t - self.config.sighting_memory_s:
            self._sightings.popleft()

    def _sighting_near(self, s: _Sighting, centre: np.ndarray) -> bool:
        """Whether a sighting's ray passes within ``sighting_radius_m`` of a point."""
        along = float(np.dot(centre - s.origin, s.direction))
        closest = s.origin + max(along, 0.0) * s.direction
        return bool(np.linalg.norm(closest - centre) <= self.config.sighting_radius_m)

    def _evidence_scores(self, plate: str, t0: float, t1: float) -> dict[str, float] | None:
        """Product-recognition scores seen near a plate around a change, averaged."""
        centre = self._centres[plate]
        sums: dict[str, float] = {}
        n = 0
        for s in self._sightings:
            if not t0 - 1.0 <= s.t <= t1 + 3.0 or not self._sighting_near(s, centre):
                continue
            n += 1
            for sku, p in s.scores.items():
                sums[sku] = sums.get(sku, 0.0) + p
        return {sku: v / n for sku, v in sums.items()} if n else None

    # -- shelf events ------------------------------------------------------------------------

    def _hands_around(self, event: ShelfEvent) -> tuple[list[HandEvidence], list[HandEvidence]]:
        """The hands seen near a plate around a change (``attribution_margin_s`` either side),
        and those of them within ``reach_m`` of its box."""
        cfg = self.config
        hands = self.people.hands_near(
            self.store.plate(event.plate).box,
            event.t_start - cfg.attribution_margin_s,
            event.t_end + cfg.attribution_margin_s,
        )
        return hands, [h for h in hands if h.distance <= cfg.reach_m]

    def _attribute(self, event: ShelfEvent) -> _Attribution | None:
        """Who may have made a shelf change, with their chances; None if nobody could have."""
        cfg = self.config
        at = tuple(self._hands_at(event))
        hands, near = self._hands_around(event)
        # Someone whose hands were both seen away from the plate while its load changed did
        # not change it (a hand at the plate before or after was another of their touches).
        away = self._away(event)
        everyone = self._bodies_near(event)
        bodies = [b for b in everyone if b[1] not in away]
        near = [h for h in near if h.track not in away] or ([] if bodies else near)
        if near:
            chances = sorted(
                zip((h.track for h in near), self._hand_chances(near).tolist(), strict=True),
                key=lambda tc: -tc[1],
            )
            rival = self._rival(near, hands, bodies)
            if rival is not None:
                chances = [(t, c * cfg.ray_only_p) for t, c in chances]
                chances.append((rival, 1.0 - cfg.ray_only_p))
            if not self._tracked:
                chances = self._by_body(chances, everyone)
            chances.sort(key=lambda tc: -tc[1])
            return self._reached_in(event, _Attribution(dict(chances), at))
        # No hand seen within reach: the bodies that could have reached, each the likelier
        # the nearer it stood and the nearer its hands came (``body_scale_m``, ``far_hand_*``).
        reach = bodies or everyone
        if not reach:
            return None
        far = {h.track: min(h.distance, cfg.far_hand_m) for h in hands}
        score = np.array(
            [
                -far.get(track, cfg.far_hand_m) / cfg.far_hand_scale_m - d / cfg.body_scale_m
                for d, track in reach
            ]
        )
        p = np.exp(score - score.max())
        p *= cfg.body_alone_p / p.sum()
        ranked = sorted(zip(p.tolist(), reach, strict=True), key=lambda x: (-x[0], x[1]))
        return _Attribution({track: chance for chance, (_, track) in ranked}, at)

    def _by_body(
        self, chances: list[tuple[str, float]], bodies: list[tuple[float, str]]
    ) -> list[tuple[str, float]]:
        """Hands placed from poses are often tens of centimetres off (one camera's ray), and
        the hand that made a change is mostly hidden in the shelf: weigh each candidate's
        chance by how near their body stood (``body_scale_m``; beyond ``body_reach_m``, that
        far), keeping the chances' sum."""
        if len(chances) < 2:
            return chances
        cfg = self.config
        stood = {track: d for d, track in bodies}
        weights = [
            c * math.exp(-stood.get(t, cfg.body_reach_m) / cfg.body_scale_m) for t, c in chances
        ]
        scale = sum(c for _, c in chances) / sum(weights)
        return [(t, w * scale) for (t, _), w in zip(chances, weights, strict=True)]

    def _rival(
        self,
        near: list[HandEvidence],
        hands: list[HandEvidence],
        bodies: list[tuple[float, str]],
    ) -> str | None:
        """Someone without a hand seen within reach who may have made a change that the hands
        within reach are credited with: when only hands one camera saw came within reach
        (somewhere on their rays), the body that stood nearest, if it is not theirs; when no
        hand was seen in the box, the nearest body whose hands went (nearly) unseen, as a
        hand in a shelf is."""
        cfg = self.config
        mine = {h.track for h in near}
        if all(h.placed > cfg.reach_m for h in near):
            return bodies[0][1] if bodies and bodies[0][1] not in mine else None
        if all(h.distance > 0.0 for h in near):
            seen = {h.track: h.samples for h in hands}
            return next(
                (t for _, t in bodies if t not in mine and seen.get(t, 0) <= cfg.unseen_hands),
                None,
            )
        return None

    def _away(self, event: ShelfEvent) -> set[str]:
        """The people whose hands were both seen beyond ``reach_m`` of a changed plate's box in
        at least ``away_share`` of their observations while its load changed (from half a
        pose window before the change to half one after it)."""
        cfg = self.config
        half = 0.5 * cfg.tracker.window_s
        shares = self.people.hands_away(
            self.store.plate(event.plate).box, event.t_start - half, event.t_end + half, cfg.reach_m
        )
        return {track for track, share in shares.items() if share >= cfg.away_share}

    def _bodies_near(self, event: ShelfEvent) -> list[tuple[float, str]]:
        """The people whose body stood within ``body_reach_m`` of a changed plate's box while
        its load changed, with that distance; nearest first."""
        t_mid = 0.5 * (event.t_start + event.t_end)
        reach: list[tuple[float, str]] = []
        for state in self.people.tracks():
            point = self.people.position(state.track, t_mid, within_s=1.0)
            if point is None:
                continue
            d = self._floor_distance(event.plate, point.xy)
            if d <= self.config.body_reach_m:
                reach.append((d, state.track))
        return sorted(reach)

    def _floor_distance(self, plate: str, xy: tuple[float, float]) -> float:
        """How far a floor point is from a plate's box seen from above (0: under it)."""
        box, point = self._boxes[plate], np.asarray(xy)
        return float(
            np.linalg.norm(np.maximum(np.maximum(box[0, :2] - point, point - box[1, :2]), 0.0))
        )

    @property
    def _hand_error_m(self) -> float:
        """The position error of the hands the engine sees: an external 3-D tracker's, or its
        own triangulation's from poses."""
        cfg = self.config
        return cfg.tracked_distance_scale_m if self._tracked else cfg.distance_scale_m

    def _hand_chances(self, near: list[HandEvidence]) -> np.ndarray:
        """Each hand's chance of having made a change: a hand inside the box first, then the
        longest inside, then the nearest (on the scale of the hands' position error)."""
        scale = self._hand_error_m
        score = np.array([-h.distance / scale + min(h.inside_s, 2.0) for h in near])
        p = np.exp(score - score.max())
        chances: np.ndarray = p / p.sum()
        return chances

    def _people_near(self, event: ShelfEvent, who: _Attribution) -> list[PersonNear]:
        """Who was near a plate while its load changed: where, how close their hands came,
        and the chance attribution gave each candidate."""
        cfg = self.config
        hands, _ = self._hands_around(event)
        closest = {h.track: h.distance for h in hands}
        t_mid = 0.5 * (event.t_start + event.t_end)
        found: list[PersonNear] = []
        for candidate in sorted({*closest, *(s.track for s in self.people.tracks()), who.track}):
            point = self.people.position(candidate, t_mid, within_s=1.0)
            if point is None:
                continue
            p = who.chances.get(candidate)
            if self._floor_distance(event.plate, point.xy) > cfg.near_m and p is None:
                continue
            hand = closest.get(candidate)
            found.append(
                PersonNear(
                    person=candidate,
                    x=round(point.xy[0], 3),
                    y=round(point.xy[1], 3),
                    hand_m=None if hand is None else round(hand, 3),
                    p=None if p is None else round(p, 4),
                )
            )
        return found

    def _on_shelf(self, event: ShelfEvent) -> list[CartEvent]:
        self.stats.shelf_events += 1
        who = self._attribute(event)
        out: list[CartEvent] = []
        if who is not None and event.delta_g > 0 and len(who.chances) > 1:
            # Picks still waiting on this plate or on a candidate's cart come first.
            tokens = {v.token for t in who.chances if (v := self._visit_of_track.get(t))}
            out = self._settle(lambda w: w.event.plate == event.plate or w.visit.token in tokens)
            who = self._weighed_by_carts(event, who)
        if who is None:
            self.stats.unattributed += 1
            return out
        who = self._party_first(who)
        visit = self._visit_of_track.get(who.track)
        if visit is None and self.config.hold_unbound_s > 0:
            self._held.append(_Held(event, who))
            return out
        return out + self._charge(event, visit, who)

    def _charge(
        self, event: ShelfEvent, visit: _Visit | None, who: _Attribution
    ) -> list[CartEvent]:
        """Charge an attributed change to its actor's visit."""
        out: list[CartEvent] = []
        if visit is None or visit.closed:
            self.stats.unattributed += 1
            return out
        if visit.staff:
            self.stats.staff_events += 1
            self._doubt_others(who, (who.track,))
            return out
        # Picks still waiting on this plate or cart come first: this change may depend on them.
        out += self._settle(lambda w: w.event.plate == event.plate or w.visit is visit)
        ident = self._identify(event, visit, who.track)
        best = ident.best
        if best is not None and event.delta_g < 0 and best.probability < self.config.sure_p:
            likely = frozenset(s for h in ident.hypotheses[:4] for s in (h.sku, *h.also_skus))
            if self._cameras and not self._sighted(event, likely):
                self._waiting.append(_Waiting(event, visit, who, likely))
                return out
        return out + self._apply_shared(event, visit, who, ident)

    def _party(self, track: str) -> str:
        """The bill a person is on: their visit's id (someone on no visit is a party alone)."""
        visit = self._visit_of_track.get(track)
        return track if visit is None else visit.id

    def _party_chances(self, who: _Attribution) -> dict[str, float]:
        """Each party's chance of having made a change: its people's chances summed."""
        sums: dict[str, float] = defaultdict(float)
        for t, c in who.chances.items():
            sums[self._party(t)] += c
        return sums

    def _party_first(self, who: _Attribution) -> _Attribution:
        """A bill is a visit's, not a person's: the change goes to the visit whose people's
        chances sum highest, to its likeliest member (people on no visit count alone)."""
        sums = self._party_chances(who)
        if len(sums) == len(who.chances):  # nobody shares a visit: nothing to regroup
            return who
        best = max(sums, key=sums.__getitem__)
        member = next(t for t in who.chances if self._party(t) == best)
        if member == who.track:
            return who
        return replace(who, chances={member: who.chances[member]} | who.chances)

    def _weighed_by_carts(self, event: ShelfEvent, who: _Attribution) -> _Attribution:
        """Between people who may have put something down, weigh each by how well what their
        party holds explains the load that came (``Identification.log_likelihood``): a shopper
        can only put down what they hold. Staff, and people on no open visit, are not weighed
        (they count as well as the best)."""
        logs: dict[str, float] = {}
        for track in who.chances:
            visit = self._visit_of_track.get(track)
            if visit is not None and not visit.closed and not visit.staff:
                logs[track] = self._identify(event, visit, track).log_likelihood
        if not logs:
            return who
        top = max(logs.values())
        weighed = {t: c * math.exp(logs.get(t, top) - top) for t, c in who.chances.items()}
        scale = sum(who.chances.values()) / sum(weighed.values())
        chances = sorted(((t, c * scale) for t, c in weighed.items()), key=lambda tc: -tc[1])
        return replace(who, chances=dict(chances))

    def _hands_at(self, event: ShelfEvent) -> list[str]:
        """The people with a hand at the plate while its load changed."""
        return self._touching(event.plate, event.t_start - 0.1, event.t_end)

    def _touching(self, plate: str, t0: float, t1: float) -> list[str]:
        """The people with a hand within ``put_touch_m`` of a plate's box in ``[t0, t1]``."""
        hands = self.people.hands_near(self.store.plate(plate).box, t0, t1)
        return [h.track for h in hands if h.distance <= self.config.put_touch_m]

    def _reached_in(self, event: ShelfEvent, who: _Attribution) -> _Attribution:
        """Between people whose hands were at the plate at once, the one whose hand had just
        arrived when the load began to change made it (see ``EngineConfig.onset_s``); when
        several had just arrived, they are the change's possible sharers."""
        cfg = self.config
        if len(who.at) < 2:
            return who
        earlier = self.people.hands_near(
            self.store.plate(event.plate).box,
            event.t_start - cfg.onset_s[0],
            event.t_start - cfg.onset_s[1],
        )
        away = {h.track for h in earlier if h.distance > cfg.put_touch_m}
        fresh = [t for t in who.at if t in away]
        if len(fresh) > 1:
            return replace(who, sharers=tuple(fresh))
        if not fresh:
            return who
        return who.chosen(fresh[0], max(who.chances.get(fresh[0], 0.0), cfg.onset_p))

    def _doubt_others(self, who: _Attribution, actors: Sequence[str]) -> None:
        """A change made by ``actors`` may have been another party's whose hand was at the
        plate then: lower that party's ``doubt`` by the chance their hands were given."""
        mine = {v.id for t in actors if (v := self._visit_of_track.get(t)) is not None}
        theirs: dict[str, float] = {}
        parties: dict[str, _Visit] = {}
        for other in who.at:
            v = self._visit_of_track.get(other)
            if v is not None and v.id not in mine:
                theirs[v.id] = theirs.get(v.id, 0.0) + who.chances.get(other, 0.0)
                parties[v.id] = v
        for key, v in parties.items():
            v.doubt = min(v.doubt, 1.0 - theirs[key])

    def _apply_shared(
        self, event: ShelfEvent, visit: _Visit, who: _Attribution, ident: Identification
    ) -> list[CartEvent]:
        """Apply a change; a pick of several units of one product by hands that reached in
        together is shared between them: a unit each, the rest to the likeliest actor. Each
        share's person chance is ``shared_p`` when the units split evenly one each; otherwise it
        is also multiplied by the chance that the rest went to the right one."""
        best = ident.best
        parties = [self._visit_of_track.get(t) for t in who.sharers]
        if (
            len(parties) < 2
            or best is None
            or best.qty > -2
            or best.also
            or any(v is None or v.closed or v.staff for v in parties)
        ):
            self._doubt_others(who, (who.track,))
            return self._apply(event, visit, who, ident)
        n = -best.qty
        sharers = sorted(who.sharers, key=lambda t: -who.chances.get(t, 0.0))[:n]
        among = sum(who.chances.get(t, 0.0) for t in sharers)
        self._doubt_others(who, sharers)
        p = self.config.shared_p
        if n > len(sharers) and among > 0.0:
            p *= who.chances.get(sharers[0], 0.0) / among
        out: list[CartEvent] = []
        for i, track in enumerate(sharers):
            units = 1 + (n - len(sharers) if i == 0 else 0)
            share = replace(event, delta_g=event.delta_g * units / n, sd_g=event.sd_g * units / n)
            part = replace(ident, hypotheses=(replace(best, qty=-units), *ident.hypotheses[1:]))
            mine = who.chosen(track, p)
            out += self._apply(share, self._visit_of_track[track], mine, part)
        return out

    def _identify(self, event: ShelfEvent, visit: _Visit, track: str) -> Identification:
        """What a change may have been, from its weight and the product sightings so far."""
        evidence = self._evidence_scores(event.plate, event.t_start, event.t_end)
        lanes = self._lane_likelihoods(event, track)
        if event.delta_g < 0:
            # Taken: the plate's own products, or items shoppers left there.
            own = self._own[event.plate]
            foreign = [self.store.product(s) for s, n in self._foreign[event.plate].items() if n]
            return identify(
                event.delta_g, event.sd_g, own, foreign, evidence, self.config.identify,
                lanes=lanes,
            )  # fmt: skip
        # Put down: only what is in the cart (units as weighed when picked), as many as are
        # there; most likely back where it came from, and by the person who picked it.
        cfg = self.config
        in_cart = {ln.sku: ln.qty for ln in visit.lines.values() if ln.qty > 0}
        units = [visit.unit(self.store.product(s)) for s in in_cart]
        held = visit.held[track]
        priors = {  # any unit in the cart, those this person holds first
            s: (1.0 if event.plate in visit.origins[s] else cfg.moved_prior)
            * (min(held[s], n) + cfg.held_by_other * max(n - held[s], 0))
            for s, n in in_cart.items()
        }
        sd = math.hypot(event.sd_g, cfg.weigh_floor_g)
        return identify(
            event.delta_g, sd, units, (), evidence, cfg.identify, in_cart, priors, lanes
        )

    def _lane_likelihoods(self, event: ShelfEvent, track: str) -> LaneLikelihoods | None:
        """Which lane of a plate whose products stand in lanes the person's hand was in while
        its load changed (``lane_margin_s`` either side), as evidence of the product."""
        lanes = self.store.lanes_on(event.plate)
        if not lanes:
            return None
        cfg = self.config
        hand = self.people.hand_at(
            track,
            self._boxes[event.plate],
            event.t_start - cfg.lane_margin_s,
            event.t_end + cfg.lane_margin_s,
            cfg.put_touch_m,
        )
        if hand is None:
            return None
        return lane_likelihoods(hand, lanes, self._hand_error_m)

    def _apply(
        self, event: ShelfEvent, visit: _Visit, who: _Attribution, ident: Identification
    ) -> list[CartEvent]:
        """Turn an identified change into cart events on the visit of ``who.track``. The line's
        doubt is whether the change was this visit's: its group's members' chances count."""
        track, person_p = who.track, who.p
        party_p = min(1.0, self._party_chances(who)[visit.id])
        best = ident.best
        if best is None:
            self.stats.unexplained += 1
            return []
        candidates = [
            Candidate(sku=h.sku, qty=h.qty, p=round(h.probability, 4)) for h in ident.hypotheses[:5]
        ]
        confidence = best.probability**self.config.confidence_power * party_p
        chosen = {item.sku for item in best.items}
        for h in ident.hypotheses[1:5]:  # what it may have been instead is in doubt too
            for sku in {h.sku, *h.also_skus} - chosen:
                line = visit.lines.get(sku)
                if line is not None and line.qty > 0:
                    line.confidences.append(confidence)
        proof = Evidence(
            plate=event.plate,
            t_start=event.t_start,
            t_end=event.t_end,
            delta_g=round(event.delta_g, 2),
            person=track,
            person_p=round(person_p, 4),
            party_p=round(party_p, 4),
            candidates=candidates,
            confidence=round(confidence, 4),
        )
        if proof.confidence < self.config.review_threshold:  # staff will review it
            margin = self.config.trace_margin_s
            trace = self.shelf.trace(
                event.plate, event.t_start - margin, event.t_end + margin, self.config.trace_dt_s
            )
            people = self._people_near(event, who)
            proof = proof.model_copy(update={"trace": trace, "people": people})
        weighed_var = event.sd_g**2 + self.config.weigh_floor_g**2  # the change as weighed
        out: list[CartEvent] = []
        for item in best.items:
            if item.qty < 0:
                n = -item.qty
                if best.also:  # a mix: its parts were not weighed apart
                    product = self.store.product(item.sku)
                    grams, var = n * product.weight_g, n * product.weight_sd_g**2
                else:
                    grams, var = -event.delta_g, weighed_var
                visit.add(item.sku, n, confidence, grams, var)
                visit.held[track][item.sku] += n
                visit.origins[item.sku].add(event.plate)
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
                put_g = None if best.also else event.delta_g
                taken = visit.remove(item.sku, item.qty, confidence, put_g, weighed_var)
                held = visit.held[track]
                held[item.sku] -= min(taken, held[item.sku])
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

    # -- waiting picks and rises -------------------------------------------------------------

    def _check_waiting(self, now: float) -> list[CartEvent]:
        """Picks whose sighting came or whose wait is over; rises the hands say are puts."""
        out = self._settle(lambda w: self._waited(w, now))
        self._forget_held(now - self.config.hold_unbound_s)
        for rise in self.shelf.pending():
            if self._hands_gone(rise, now):
                event = self.shelf.confirm(rise.plate, now - self.config.put_quiet_s, now)
                if event is not None:
                    out += self._on_shelf(event)
        return out

    def _waited(self, w: _Waiting, now: float) -> bool:
        """Whether a waiting pick has its sighting, or has waited long enough without one."""
        cfg = self.config
        waited = now - w.event.t_end
        if waited >= cfg.evidence_max_wait_s or self._sighted(w.event, w.likely):
            return True
        if waited < cfg.evidence_wait_s:
            return False
        return w.who.track not in self._touching(w.event.plate, now - cfg.put_quiet_s, now)

    def _settle(self, due: Callable[[_Waiting], bool]) -> list[CartEvent]:
        """Apply the waiting picks that are ``due``, in the order they were made."""
        if not self._waiting:
            return []
        ready: list[_Waiting] = []
        keep: list[_Waiting] = []
        for w in self._waiting:
            (ready if due(w) else keep).append(w)
        self._waiting = keep
        out: list[CartEvent] = []
        for w in ready:
            ident = self._identify(w.event, w.visit, w.who.track)
            out += self._apply_shared(w.event, w.visit, w.who, ident)
        return out

    def _hands_gone(self, rise: PendingRise, now: float) -> bool:
        """Every person whose hand was at the plate while its load rose has been seen since
        ``now - put_quiet_s`` with both hands away from it, and no hand came near."""
        cfg = self.config
        actors = self._touching(rise.plate, rise.t_start, rise.t_settled)
        if not actors:
            return False
        t0 = now - cfg.put_quiet_s
        if self._touching(rise.plate, t0, now):
            return False
        for track in actors:
            # Both hands must be seen away: a hand not seen may still rest on the shelf.
            both: set[float] = set()
            for t in np.arange(now, t0, -0.5 * cfg.check_every_s):
                point = self.people.position(track, float(t), within_s=0.05)
                if point is not None and point.t >= t0 and None not in point.hands:
                    both.add(point.t)
            if len(both) < 2:
                return False
        return True

    def _sighted(self, event: ShelfEvent, likely: frozenset[str]) -> bool:
        """Whether a sighting near the plate that scores one of the ``likely`` products has come
        in since the load settled (the hand is out with the product)."""
        centre = self._centres[event.plate]
        return any(
            s.t >= event.t_end
            and not likely.isdisjoint(s.scores)
            and self._sighting_near(s, centre)
            for s in self._sightings
        )

    # -- closing -----------------------------------------------------------------------------

    def _close(self, visit: _Visit, t: float, gate: str | None) -> list[CartEvent]:
        if visit.closed:
            return []
        settled = self._settle(lambda w: w.visit is visit)
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
        lost = self.config.lost_track_p if visit.lost else 1.0
        doubt = 1.0 if visit.staff else round(min(visit.doubt, lost), 4)
        confidence = min([doubt, *(ln.confidence for ln in lines)])
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
            *settled,
            VisitClosed(id=self._next_id(visit), t=t, visit=visit.id, token=visit.token, gate=gate),
            ReceiptIssued(id=self._next_id(visit), t=t, visit=visit.id, receipt=receipt),
        ]
