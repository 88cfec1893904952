"""How well the engine follows people: CLEAR MOT and IDF1 against the simulator's truth.

Receipts say whether a visit came out right; these scores say why one did not. The people on
the floor are sampled every ``every_s`` seconds of stream time (:class:`FloorSampler`: the
first time the engine has processed that far), while `walkout score-people` replays a run
without its weight lines (people tracking never reads them, so the tracks are those of a full
replay; only the sampling instants differ) or while `walkout evaluate` replays it whole. Each
sample is matched to the true positions of ``people.npz``:

- **CLEAR MOT** (Bernardin and Stiefelhagen, 2008): per sample, a true person keeps the track
  it was matched to last while that track is within ``match_m``; the rest are matched by the
  Hungarian method within ``match_m``. A miss is a true person without a track, a false
  positive a track without a person, an identity switch a person matched to another track than
  before. MOTA = 1 − (misses + false positives + switches) / true person-samples.
- **IDF1** (Ristani et al., 2016): each true person is given the one track that follows them
  most often overall (a one-to-one assignment); IDF1 is the share of person-samples and
  track-samples that agree with it.
- **Bound identity**: what receipts depend on. A track bound to a token should be on a person
  of that token; of the samples of bound tracks, the share that are (matched to a person
  who shops on the token).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from walkout.domain.floor import FloorView
from walkout.domain.messages import WeightFields, parse_fast
from walkout.engine.core import Engine, EngineConfig
from walkout.recording import find_recording, iter_lines, read_people
from walkout.sim.timeline import PersonTrack
from walkout.storefile import load_store

#: Seconds of stream time between samples of the floor, by default.
SAMPLE_S = 0.2


@dataclass(frozen=True, slots=True)
class IdSwitch:
    """At stream time ``t`` true person ``person`` (index in ``people.npz``) went from track
    ``before`` to track ``after``; ``nearest_m`` is how far the nearest other true person
    stood (inf: nobody else on the floor)."""

    t: float
    person: int
    before: str
    after: str
    nearest_m: float


@dataclass(frozen=True)
class TrackingScore:
    """People-tracking scores of one run (see the module docstring)."""

    samples: int
    truth: int  # true person-samples
    tracked: int  # track-samples
    matches: int
    misses: int
    false_positives: int
    mean_error_m: float  # over matches (MOTP, in metres)
    idtp: int
    bound: int  # samples of tracks bound to a token
    bound_right: int
    switches: list[IdSwitch] = field(default_factory=list)

    @property
    def mota(self) -> float:
        errors = self.misses + self.false_positives + len(self.switches)
        return 1.0 - errors / self.truth if self.truth else 1.0

    @property
    def idf1(self) -> float:
        total = self.truth + self.tracked
        return 2 * self.idtp / total if total else 1.0

    @property
    def bound_rate(self) -> float:
        return self.bound_right / self.bound if self.bound else 1.0

    def summary(self) -> dict[str, float | int]:
        return {
            "samples": self.samples,
            "truth": self.truth,
            "tracked": self.tracked,
            "mota": round(self.mota, 6),
            "idf1": round(self.idf1, 6),
            "id_switches": len(self.switches),
            "misses": self.misses,
            "false_positives": self.false_positives,
            "mean_error_m": round(self.mean_error_m, 4),
            "bound_identity": round(self.bound_rate, 6),
        }


class FloorSampler:
    """Called after each line fed to ``engine``: keeps the people on the floor whenever
    another ``every_s`` seconds of stream time have been processed (in :attr:`views`)."""

    def __init__(self, engine: Engine, every_s: float = SAMPLE_S) -> None:
        if every_s <= 0:
            raise ValueError("every_s must be positive")
        self.engine, self.every_s = engine, every_s
        self.views: list[FloorView] = []
        self._due = -math.inf

    def __call__(self) -> None:
        if self.engine.now >= self._due:  # the floor is built only when a sample is due
            view = self.engine.floor()
            self.views.append(view)
            self._due = (view.t // self.every_s + 1) * self.every_s


def follow(
    run_dir: Path, every_s: float = SAMPLE_S, config: EngineConfig | None = None
) -> list[FloorView]:
    """The people on the floor every ``every_s`` seconds of stream time, as the engine tracks
    them while replaying ``run_dir``'s recording (weight lines are skipped: they change no
    track)."""
    engine = Engine(load_store(run_dir / "store.json"), config)
    sample = FloorSampler(engine, every_s)
    for line in iter_lines(find_recording(run_dir)):
        fast = parse_fast(line)  # decoded once: a pose line is fed as its fields
        if isinstance(fast, WeightFields):
            continue
        if fast is None:
            engine.feed_line(line)
        else:
            engine.feed(fast)
        sample()
    return sample.views


def score_tracking(
    views: Sequence[FloorView], people: Iterable[PersonTrack], match_m: float = 0.5
) -> TrackingScore:
    """Score the sampled ``views`` against the true ``people`` (see the module docstring)."""
    truth = list(people)
    last: dict[int, str] = {}  # each true person's last matched track
    pairs: dict[tuple[int, str], int] = {}  # (person, track): samples matched within match_m
    switches: list[IdSwitch] = []
    n_truth = n_tracked = matches = misses = false_pos = bound = bound_right = 0
    error_sum = 0.0
    for view in views:
        here = [p for p in truth if p.t_enter <= view.t <= p.t_exit]
        true_xy = np.array([_position(p, view.t) for p in here]).reshape(-1, 2)
        track_xy = np.array([(q.x, q.y) for q in view.people], dtype=float).reshape(-1, 2)
        dist = np.linalg.norm(true_xy[:, None] - track_xy[None], axis=-1)
        n_truth += len(here)
        n_tracked += len(view.people)
        within = dist <= match_m
        for i, j in zip(*np.nonzero(within), strict=True):
            key = (here[i].person, view.people[j].person)
            pairs[key] = pairs.get(key, 0) + 1
        match = _match(here, view, dist, within, last)
        for i, j in match.items():
            person, track = here[i].person, view.people[j].person
            before = last.get(person)
            if before is not None and before != track:
                others = np.delete(true_xy, i, axis=0)
                nearest = float(
                    np.min(np.linalg.norm(others - true_xy[i], axis=-1), initial=np.inf)
                )
                switches.append(IdSwitch(view.t, person, before, track, nearest))
            last[person] = track
            error_sum += float(dist[i, j])
        matches += len(match)
        misses += len(here) - len(match)
        false_pos += len(view.people) - len(match)
        on = {j: here[i] for i, j in match.items()}
        for j, q in enumerate(view.people):
            if q.token is not None:
                bound += 1
                bound_right += j in on and on[j].token == q.token
    return TrackingScore(
        samples=len(views),
        truth=n_truth,
        tracked=n_tracked,
        matches=matches,
        misses=misses,
        false_positives=false_pos,
        mean_error_m=error_sum / matches if matches else 0.0,
        idtp=_idtp(pairs),
        bound=bound,
        bound_right=bound_right,
        switches=switches,
    )


def pool(scores: Sequence[TrackingScore]) -> TrackingScore:
    """Several runs' scores as one: their counts added (each run's people and tracks are its
    own, so IDF1's assignments add up too)."""
    matches = sum(s.matches for s in scores)
    return TrackingScore(
        samples=sum(s.samples for s in scores),
        truth=sum(s.truth for s in scores),
        tracked=sum(s.tracked for s in scores),
        matches=matches,
        misses=sum(s.misses for s in scores),
        false_positives=sum(s.false_positives for s in scores),
        mean_error_m=sum(s.mean_error_m * s.matches for s in scores) / matches if matches else 0.0,
        idtp=sum(s.idtp for s in scores),
        bound=sum(s.bound for s in scores),
        bound_right=sum(s.bound_right for s in scores),
        switches=[w for s in scores for w in s.switches],
    )


def score_run(run_dir: Path, every_s: float = SAMPLE_S, match_m: float = 0.5) -> TrackingScore:
    """Replay ``run_dir`` (which needs ``people.npz``) and score its people tracking."""
    people_file = run_dir / "people.npz"
    if not people_file.is_file():
        raise FileNotFoundError(f"{people_file} is missing: tracking is scored against it")
    return score_tracking(follow(run_dir, every_s), read_people(people_file), match_m)


def _position(person: PersonTrack, t: float) -> tuple[float, float]:
    return (
        float(np.interp(t, person.t, person.xy[:, 0])),
        float(np.interp(t, person.t, person.xy[:, 1])),
    )


def _match(
    here: Sequence[PersonTrack],
    view: FloorView,
    dist: np.ndarray,
    within: np.ndarray,
    last: dict[int, str],
) -> dict[int, int]:
    """CLEAR MOT's correspondence for one sample: true person index -> track index. A person
    keeps last sample's track while it is within reach; the others go to the Hungarian
    method."""
    column = {q.person: j for j, q in enumerate(view.people)}
    match: dict[int, int] = {}
    for i, p in enumerate(here):
        j = column.get(last.get(p.person, ""))
        if j is not None and within[i, j]:
            match[i] = j
    rows = [i for i in range(len(here)) if i not in match]
    taken = set(match.values())
    cols = [j for j in range(len(view.people)) if j not in taken]
    if rows and cols:
        sub = np.where(within[np.ix_(rows, cols)], dist[np.ix_(rows, cols)], 1e6)
        for r, c in zip(*linear_sum_assignment(sub), strict=True):
            if sub[r, c] < 1e6:
                match[rows[r]] = cols[c]
    return match


def _idtp(pairs: dict[tuple[int, str], int]) -> int:
    """IDF1's true positives: the most samples a one-to-one assignment of true people to
    tracks keeps."""
    if not pairs:
        return 0
    people = sorted({p for p, _ in pairs})
    tracks = sorted({t for _, t in pairs})
    row = {p: i for i, p in enumerate(people)}
    col = {t: j for j, t in enumerate(tracks)}
    counts = np.zeros((len(people), len(tracks)))
    for (p, t), n in pairs.items():
        counts[row[p], col[t]] = n
    r, c = linear_sum_assignment(counts, maximize=True)
    return int(counts[r, c].sum())
