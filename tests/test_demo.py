"""``walkout demo``: the whole store end to end, from simulated shoppers to payments on the
ledger, through a live store service over HTTP."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

import walkout.demo
from walkout.cli import app
from walkout.demo import (
    DemoResult,
    LiveRun,
    Login,
    StoreClient,
    bind_socket,
    keep_busy,
    open_accounts,
    running_service,
)
from walkout.domain.truth import Receipts, Truth
from walkout.payments.ledger import Status
from walkout.recording import read_json
from walkout.scoring import score
from walkout.service.models import FloorDwell, PaymentState, Stock, Visit
from walkout.sim.behaviour import STOCK_UNITS
from walkout.storefile import load_store

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
    assert "/app/" in output
    assert "/staff/" in output
    for email in (walkout.demo.MANAGER_EMAIL, walkout.demo.STAFF_EMAIL, walkout.demo.YOU_EMAIL):
        assert email in output
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


def test_the_engine_posts_the_floor_twice_a_second_and_dwell_adds_up(demo: Demo) -> None:
    live = demo.result.live
    assert live.floor_views >= 2 * live.stream_s - 1
    engine = create_engine(f"sqlite:///{demo.out / 'service' / 'walkout.db'}")
    try:
        with engine.connect() as conn:
            dwell = conn.execute(select(func.sum(FloorDwell.seconds))).scalar_one()
            stock = conn.execute(select(Stock.units)).scalars().all()
    finally:
        engine.dispose()
    # Every shopper spent time on the floor: at least a few seconds each.
    assert dwell >= 5.0 * len(demo.truth.sessions)
    # The shelves were counted full, then the shoppers' picks ran some of them down.
    assert stock
    assert None not in stock
    assert sum(u or 0 for u in stock) < len(stock) * STOCK_UNITS[1]


def get(client: StoreClient, login: Login, path: str) -> Any:
    r = client.http.get(path, headers=login.headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_busy_store_plays_new_rounds_with_the_demo_shopper_until_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WALKOUT_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("WALKOUT_ARGON2_MEMORY_KIB", "8")
    rounds: list[LiveRun] = []
    stop = threading.Event()
    views: list[Any] = []

    with running_service(tmp_path / "service", CORNER, 0) as service:
        client = StoreClient(service.url)
        accounts = open_accounts(service, client)

        def played(round_no: int, live: LiveRun) -> None:
            rounds.append(live)
            views.append(get(client, accounts.staff, "/staff/floor"))
            if round_no == 2:
                stop.set()

        keep_busy(
            service, accounts, load_store(CORNER), tmp_path / "busy", stop,
            scenario="quiet", seed=5, minutes=0.2, speed=None, report=played,
        )  # fmt: skip
        heat = get(client, accounts.manager, "/staff/analytics/heatmap")
        you = [r["visit_id"] for r in get(client, accounts.you, "/receipts")]
        with service.services.sessions() as session:
            your_visits = session.scalars(
                select(Visit.id).where(Visit.account_id == accounts.you.account_id)
            ).all()
        client.close()
    assert len(rounds) == 2
    assert all(r.visits and r.floor_views > 0 for r in rounds)
    assert set(rounds[0].visits).isdisjoint(rounds[1].visits)  # new shoppers each round
    assert len(your_visits) == 2  # the demo's shopper shopped in both rounds
    assert set(you) <= set(your_visits)
    assert heat["total_s"] > 0
    assert all(v["t"] is not None and v["people"] == [] for v in views)  # everyone left
