"""Scoring follows PROTOCOL section 5 exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walkout.domain.truth import Receipt, Receipts, Truth, TruthSession
from walkout.scoring import score


def truth_of(sessions: dict[str, dict[str, int]]) -> Truth:
    return Truth(
        sessions=[TruthSession(token=t, people=1, items=i) for t, i in sessions.items()],
        events=[],
    )


def receipts_of(receipts: dict[str, dict[str, int]]) -> Receipts:
    return Receipts(
        receipts=[Receipt(token=t, items=i, total=0, confidence=1.0) for t, i in receipts.items()]
    )


def test_worked_example() -> None:
    truth = truth_of({"T1": {"a": 2, "b": 1}, "T2": {"c": 1}, "T3": {}})
    receipts = receipts_of({"T1": {"a": 1, "b": 1, "d": 1}, "T3": {}, "T9": {"a": 1}})
    s = score(truth, receipts)
    # T1: tp 2, fp 1 (d), fn 1 (a); T2 missing receipt: fn 1; T3 exact; T9 unknown: fp 1.
    assert (s.tp, s.fp, s.fn) == (2, 2, 2)
    assert s.precision == pytest.approx(0.5)
    assert s.recall == pytest.approx(0.5)
    assert s.f1 == pytest.approx(0.5)
    assert (s.sessions, s.exact) == (3, 1)
    wrong = {e.token: e for e in s.errors}
    assert wrong["T1"].missing == {"a": 1}
    assert wrong["T1"].extra == {"d": 1}
    assert not wrong["T2"].has_receipt
    assert wrong["T9"].extra == {"a": 1}
    assert "T3" not in wrong


items_st = st.dictionaries(st.sampled_from("abcdef"), st.integers(0, 4), max_size=4)
sessions_st = st.dictionaries(st.sampled_from(["T1", "T2", "T3", "T4"]), items_st, max_size=4)


@given(sessions_st)
def test_perfect_receipts_score_one(sessions: dict[str, dict[str, int]]) -> None:
    s = score(truth_of(sessions), receipts_of(sessions))
    assert s.f1 == 1.0
    assert s.exact == s.sessions == len(sessions)
    assert s.errors == []


@given(sessions_st, sessions_st)
def test_counts_are_consistent(
    truth_items: dict[str, dict[str, int]], predicted: dict[str, dict[str, int]]
) -> None:
    s = score(truth_of(truth_items), receipts_of(predicted))
    assert s.tp + s.fn == sum(sum(i.values()) for i in truth_items.values())
    assert s.tp + s.fp == sum(sum(i.values()) for i in predicted.values())
    assert 0.0 <= s.f1 <= 1.0
    assert s.exact + len([e for e in s.errors if e.token in truth_items]) == s.sessions
