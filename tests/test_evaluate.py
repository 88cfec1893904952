"""Scored scenarios: the audit of unflagged lines and a pooled evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest

from walkout.domain.truth import Receipt, Receipts, Truth, TruthSession
from walkout.evaluate import audit_unflagged, evaluate
from walkout.sim.scenarios import get_scenario
from walkout.storefile import load_store

CORNER = Path(__file__).resolve().parents[1] / "examples" / "stores" / "corner.json"


def receipt(token: str, items: dict[str, int], flagged: bool) -> Receipt:
    return Receipt(token=token, items=items, total=0, confidence=0.5, flagged=flagged)


def test_audit_counts_wrong_and_missing_lines_of_unflagged_receipts_only() -> None:
    truth = Truth(
        sessions=[
            TruthSession(token="A", people=1, items={"x": 2, "y": 1}),
            TruthSession(token="B", people=1, items={"x": 1}),
        ],
        events=[],
    )
    receipts = Receipts(
        receipts=[
            receipt("A", {"x": 2, "z": 1}, flagged=False),  # x right, z extra, y missing
            receipt("B", {"q": 5}, flagged=True),  # flagged: not audited
        ]
    )
    audit = audit_unflagged(truth, receipts)
    assert (audit.lines, audit.wrong) == (3, 2)
    assert audit.wrong_rate == pytest.approx(2 / 3)


def test_evaluation_pools_seeds(tmp_path: Path) -> None:
    result = evaluate(
        load_store(CORNER),
        get_scenario("quiet"),
        [101, 102],
        tmp_path,
        minutes=0.5,
        vision="track",
    )
    assert [s.seed for s in result.seeds] == [101, 102]
    assert result.sessions == sum(s.score.sessions for s in result.seeds) > 0
    assert 0.0 <= result.f1 <= 1.0
    assert 0.0 <= result.review_rate <= 1.0
    assert (tmp_path / "quiet-101" / "receipts.json").is_file()
    # People tracking pools too: every seed's samples and matches count.
    assert result.tracking.truth == sum(s.tracking.truth for s in result.seeds) > 0
    assert result.tracking.idtp == sum(s.tracking.idtp for s in result.seeds)
    assert result.tracking.mota > 0.9  # a quiet store, people from an external tracker
