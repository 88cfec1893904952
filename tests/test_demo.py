"""``walkout demo``: the whole store end to end, from simulated shoppers to payments on the
ledger, through a live store service over HTTP."""

from __future__ import annotations

import socket
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import walkout.demo
from walkout.cli import app
from walkout.demo import DemoResult, bind_socket
from walkout.domain.truth import Receipts, Truth
from walkout.payments.ledger import Status
from walkout.recording import read_json
from walkout.scoring import score
from walkout.service.models import PaymentState

ROOT = Path(__file__).resolve().parents[1]
CORNER = ROOT / "examples" / "stores" / "corner.json"


@dataclass(frozen=True)
class Demo:
    out: Path
    output: str
    result: DemoResult
    truth: Truth


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """One short demo (seed 1 has a group of two on one token), its output and its result."""
    out = tmp_path_factory.mktemp("demo")
    results: list[DemoResult] = []
    run_store = walkout.demo.run_store

    def capture(*args: Any, **kwargs: Any) -> DemoResult:
        results.append(run_store(*args, **kwargs))
        return results[-1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(walkout.demo, "run_store", capture)
        # Cheap password hashing: the demo's other settings are fixed, these come from WALKOUT_*.
        mp.setenv("WALKOUT_ARGON2_TIME_COST", "1")
        mp.setenv("WALKOUT_ARGON2_MEMORY_KIB", "8")
        cli = CliRunner().invoke(
            app,
            ["demo", "--out", str(out), "--store", str(CORNER), "--minutes", "0.3",
             "--seed", "1", "--port", "0", "--no-serve"],
        )  # fmt: skip
    assert cli.exit_code == 0, cli.output
    assert len(results) == 1
    return Demo(out, cli.output, results[0], read_json(out / "truth.json", Truth))


def test_writes_the_run_the_plots_and_the_service_data(demo: Demo) -> None:
    for name in ("recording.jsonl.gz", "truth.json", "floor.png", "weight.png", "receipts.json"):
        assert (demo.out / name).is_file(), name
    assert (demo.out / "service" / "walkout.db").is_file()


def test_every_token_is_admitted_once_per_visit_and_every_event_applied(demo: Demo) -> None:
    live = demo.result.live
    assert any(s.people > 1 for s in demo.truth.sessions)  # a group shares one visit
    assert sorted(live.visits.values()) == sorted(s.token for s in demo.truth.sessions)
    assert live.refused == {}
    assert live.outcomes
    assert set(live.outcomes) == {"applied"}


def test_the_services_receipts_are_the_engines(demo: Demo) -> None:
    engine = {int(r.token): r for r in demo.result.live.receipts.receipts}
    service = {v.visit_id: v for v in demo.result.visits}
    assert engine.keys() == service.keys() == demo.result.live.visits.keys()
    for visit_id, receipt in engine.items():
        v = service[visit_id]
        assert v.items == receipt.items
        assert v.receipt.total == receipt.total
        assert v.receipt.flagged == bool(receipt.flagged)


def test_every_visit_with_items_is_paid_on_the_ledger(demo: Demo) -> None:
    ledger = demo.result.ledger
    captured = Counter(e.captured for e in ledger if e.status is Status.CAPTURED)
    held = Counter(e.authorized for e in ledger if e.status is Status.AUTHORIZED)
    expect_captured: Counter[int] = Counter()
    expect_held: Counter[int] = Counter()
    for v in demo.result.visits:
        payment = v.receipt.payment
        if v.receipt.total == 0:
            assert payment is None
            continue
        assert payment is not None
        age_check = any(line.held_for_age_check for line in v.receipt.lines)
        if v.receipt.flagged or age_check:  # staff review or check ID before the capture
            assert payment.held
            assert payment.state is PaymentState.AUTHORISED
            expect_held[v.receipt.total] += 1
        else:
            assert payment.state is PaymentState.CAPTURED
            assert payment.captured_amount == v.receipt.total
            expect_captured[v.receipt.total] += 1
    assert sum(expect_captured.values()) + sum(expect_held.values()) > 0
    assert captured == expect_captured
    assert held == expect_held


def test_receipts_json_is_the_services_receipts_under_the_true_tokens(demo: Demo) -> None:
    written = read_json(demo.out / "receipts.json", Receipts)
    assert {r.token for r in written.receipts} == {s.token for s in demo.truth.sessions}
    assert score(demo.truth, written) == demo.result.score


def test_output_shows_receipts_next_to_the_truth_and_how_to_look_around(demo: Demo) -> None:
    output = demo.output
    assert "the service's receipts next to the truth" in output
    assert "receipt score" in output
    assert "ledger:" in output
    assert "payments captured" in output
    assert "/docs" in output
    assert walkout.demo.MANAGER_EMAIL in output
    for v in demo.result.visits[:3]:
        assert v.token in output


def test_a_taken_port_falls_back_to_a_free_one() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        sock = bind_socket("127.0.0.1", port)
        with sock:
            assert sock.getsockname()[1] not in (port, 0)
