"""``walkout run-engine`` and ``walkout publish``: the engine as a process between Mosquitto
and JetStream, and the simulator as a device fleet."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from walkout.adapters.eventlog import NatsEventLog
from walkout.cli import app
from walkout.domain.events import CART_EVENT_ADAPTER, CartEvent
from walkout.replay import replay
from walkout.storefile import load_store

from .brokers import MQTT_URL, NATS_URL, require, unique
from .runs import quiet_run, shelf_store

WALKOUT = Path(sys.executable).parent / "walkout"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short quiet run of a store of its own (its topics and stream are this module's)."""
    out = quiet_run(tmp_path_factory.mktemp("run"), shelf_store(unique("cli")))
    replay(out)  # evidence.jsonl: the events of a direct replay
    return out


def evidence(run: Path) -> list[CartEvent]:
    lines = (run / "evidence.jsonl").read_bytes().splitlines()
    return [CART_EVENT_ADAPTER.validate_json(line) for line in lines]


def test_run_engine_on_a_recording_prints_the_replays_events(run: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["run-engine", "--store", str(run / "store.json"),
         "--recording", str(run / "recording.jsonl.gz")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    printed = [CART_EVENT_ADAPTER.validate_json(line) for line in result.stdout.splitlines()]
    assert printed == evidence(run)
    assert "finished" in result.stderr


def test_run_engine_needs_exactly_one_source(run: Path) -> None:
    result = CliRunner().invoke(app, ["run-engine", "--store", str(run / "store.json")])
    assert result.exit_code == 1
    assert "--mqtt" in result.stderr


@pytest.fixture
def engine(run: Path, request: pytest.FixtureRequest) -> Iterator[subprocess.Popen[bytes]]:
    """``walkout run-engine`` on the run's store reading Mosquitto, as its own process,
    once it is subscribed (the broker keeps nothing for a client that never connected)."""
    require("Mosquitto")
    extra: list[str] = getattr(request, "param", [])
    command = [str(WALKOUT), "run-engine", "--store", str(run / "store.json"),
               "--mqtt", MQTT_URL, "--client-id", unique("engine"), *extra]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        assert first.startswith(b"reading walkout/"), first + process.stderr.read()
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def read_stream(store_id: str) -> list[CartEvent]:
    log = await NatsEventLog.connect(NATS_URL, store_id)
    try:
        async with log.consumer("check") as consumer:
            batch = await consumer.fetch(10_000, timeout_s=2)
            await batch.ack()
        return batch.events
    finally:
        await log.delete()
        await log.close()


@pytest.mark.parametrize(
    "engine", [["--event-log", NATS_URL, "--idle-finish", "1.5"]], indirect=True
)
def test_devices_through_the_engine_process_to_jetstream(
    run: Path, engine: subprocess.Popen[bytes]
) -> None:
    require("NATS")
    published = CliRunner().invoke(app, ["publish", str(run), "--mqtt", MQTT_URL, "--speed", "0"])
    assert published.exit_code == 0, published.output
    assert "skipped 0" in published.stdout
    assert engine.wait(timeout=60) == 0
    assert engine.stderr is not None
    assert b"finished" in engine.stderr.read()
    assert asyncio.run(read_stream(load_store(run / "store.json").id)) == evidence(run)


def test_the_engine_process_stops_cleanly_on_sigterm(engine: subprocess.Popen[bytes]) -> None:
    engine.send_signal(signal.SIGTERM)
    assert engine.wait(timeout=20) == 0
    assert engine.stderr is not None
    assert b"stopped, visits left open" in engine.stderr.read()
