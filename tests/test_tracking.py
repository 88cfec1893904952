"""People-tracking scores on hand-made samples: CLEAR MOT's misses, false positives and
identity switches, IDF1's one-to-one assignment, and bound identity."""

from __future__ import annotations

import numpy as np
import pytest

from walkout.domain.floor import FloorPerson, FloorView
from walkout.sim.timeline import PersonTrack
from walkout.tracking import pool, score_tracking

TIMES = np.arange(0.0, 10.01, 1.0)  # 11 samples


def person(index: int, token: str, y: float) -> PersonTrack:
    """A person walking along x at height y, 0.5 m/s, from t=0 to t=10."""
    xy = np.stack([0.5 * TIMES, np.full_like(TIMES, y)], axis=-1)
    return PersonTrack(
        person=index,
        token=token,
        height_m=1.7,
        t=TIMES,
        xy=xy,
        heading=np.zeros_like(TIMES),
        hands=np.zeros((len(TIMES), 2, 3)),
    )


def views(tracks: dict[str, tuple[str | None, list[float | None]]]) -> list[FloorView]:
    """Samples at TIMES; each track id: its token and its y per sample (None: not shown),
    always at the walkers' x."""
    out = []
    for i, t in enumerate(TIMES):
        people = [
            FloorPerson(person=tid, token=token, x=0.5 * t, y=ys[i])
            for tid, (token, ys) in tracks.items()
            if ys[i] is not None
        ]
        out.append(FloorView(t=float(t), people=people))
    return out


PEOPLE = [person(0, "A", 1.0), person(1, "B", 3.0)]


def test_perfect_tracking_scores_one() -> None:
    result = score_tracking(views({"p1": ("A", [1.0] * 11), "p2": ("B", [3.0] * 11)}), PEOPLE)
    assert (result.mota, result.idf1, result.bound_rate) == (1.0, 1.0, 1.0)
    assert result.switches == []
    assert (result.truth, result.matches, result.misses, result.false_positives) == (22, 22, 0, 0)


def test_a_swap_is_two_switches_and_costs_idf1_and_bound_identity() -> None:
    # From sample 6 on, p1 follows B and p2 follows A (their tokens stay with the tracks).
    a = [1.0] * 6 + [3.0] * 5
    b = [3.0] * 6 + [1.0] * 5
    result = score_tracking(views({"p1": ("A", a), "p2": ("B", b)}), PEOPLE)
    assert [(s.t, s.person, s.before, s.after) for s in result.switches] == [
        (6.0, 0, "p1", "p2"),
        (6.0, 1, "p2", "p1"),
    ]
    assert result.switches[0].nearest_m == pytest.approx(2.0)
    assert result.mota == pytest.approx(1 - 2 / 22)
    assert result.idf1 == pytest.approx(12 / 22)  # each person keeps 6 of 11 samples
    assert result.bound_rate == pytest.approx(12 / 22)


def test_misses_false_positives_and_the_match_distance() -> None:
    # p1 appears late (3 misses of A), p2 sits 0.7 m off B (too far: a miss and a false
    # positive each sample) and a ghost p3 stands where nobody is.
    p1: list[float | None] = [None] * 3 + [1.1] * 8
    result = score_tracking(
        views({"p1": ("A", p1), "p2": (None, [3.7] * 11), "p3": (None, [6.0] * 11)}), PEOPLE
    )
    assert result.misses == 3 + 11
    assert result.false_positives == 11 + 11
    assert result.mean_error_m == pytest.approx(0.1)
    assert result.mota == pytest.approx(1 - (14 + 22) / 22)
    wide = score_tracking(
        views({"p1": ("A", p1), "p2": (None, [3.7] * 11), "p3": (None, [6.0] * 11)}),
        PEOPLE,
        match_m=1.0,
    )
    assert wide.misses == 3
    assert wide.false_positives == 11


def test_a_person_keeps_their_track_while_it_stays_within_reach() -> None:
    # CLEAR MOT: p1 stays on A although p2 comes nearer to A for a while.
    near: list[float | None] = [3.0] * 4 + [1.05] * 3 + [3.0] * 4
    result = score_tracking(views({"p1": ("A", [1.3] * 11), "p2": ("B", near)}), PEOPLE)
    assert result.switches == []
    assert result.misses == 3  # B has no track while p2 is over at A


def test_pooled_scores_add_the_runs_counts() -> None:
    swap = views({"p1": ("A", [1.0] * 6 + [3.0] * 5), "p2": ("B", [3.0] * 6 + [1.0] * 5)})
    perfect = views({"p1": ("A", [1.0] * 11), "p2": ("B", [3.0] * 11)})
    a, b = score_tracking(swap, PEOPLE), score_tracking(perfect, PEOPLE)
    both = pool([a, b])
    assert (both.truth, both.matches, both.idtp) == (44, 44, 12 + 22)
    assert both.idf1 == pytest.approx(34 / 44)
    assert both.mota == pytest.approx(1 - 2 / 44)
    assert both.switches == a.switches
    assert both.bound_rate == pytest.approx((12 + 22) / 44)
    assert pool([]).mota == 1.0
