"""The sensor source contract, run against the embedded inbox and Mosquitto alike; the
recording source, the publisher and the topic scheme."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
import paho.mqtt.client as paho
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from walkout.adapters.devices import (
    DeviceInbox,
    MqttSource,
    MqttTarget,
    Pacer,
    Reading,
    RecordingSource,
    SensorSource,
    publish_recording,
    subscription,
    topic_for,
)
from walkout.domain.messages import GateMsg, WeightMsg, parse_message

from .brokers import MQTT_URL, require, unique

pytestmark = pytest.mark.anyio

WEIGHT = {"type": "weight", "plate": "G1-A-S1-P1", "t": 100.0, "hz": 60, "g": [5.0, None, 5.5]}
GATE = {"type": "gate", "gate": "entry-1", "t": 100.5, "token": "42"}
TRACK = {"type": "track", "t": 101.0, "people": [{"id": "p1", "head": [1, 2, 1.7], "hands": []}]}


def payload(message: dict[str, object]) -> bytes:
    return orjson.dumps(message)


@dataclass
class Harness:
    """A source of store ``store`` and a way to send it what a device publishes."""

    store: str
    source: SensorSource
    send: Callable[[str, bytes], Awaitable[None]]
    close: Callable[[], None]
    burst: Callable[[str, list[bytes]], Awaitable[None]]


@pytest.fixture(params=["inbox", "mqtt"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    store = unique("store")
    if request.param == "inbox":
        inbox = DeviceInbox(store)

        async def offer(topic: str, data: bytes) -> None:
            inbox.offer(topic, data)

        async def offer_all(topic: str, payloads: list[bytes]) -> None:
            for data in payloads:
                inbox.offer(topic, data)

        yield Harness(store, inbox, offer, inbox.close, offer_all)
        return
    require("Mosquitto")
    device = MqttTarget.parse(MQTT_URL).client(unique("device"))
    device.max_inflight_messages_set(1000)  # a fleet of devices publishes in parallel
    device.connect("127.0.0.1", 1883)
    device.loop_start()

    async def publish(topic: str, data: bytes) -> None:
        info = device.publish(topic, data, qos=1)
        await asyncio.to_thread(info.wait_for_publish, 5)

    async def publish_all(topic: str, payloads: list[bytes]) -> None:
        """As fast as the broker takes them (the device does not wait for each)."""
        infos = [device.publish(topic, data, qos=1) for data in payloads]
        for info in infos:
            await asyncio.to_thread(info.wait_for_publish, 10)

    source = MqttSource(MQTT_URL, store, client_id=unique("engine"), session_expiry_s=0)
    try:
        async with source:
            yield Harness(store, source, publish, source.close, publish_all)
    finally:
        device.disconnect()
        device.loop_stop()


async def take(source: SensorSource, n: int, timeout_s: float = 5.0) -> list[Reading]:
    """The next ``n`` readings (fewer if the source ends)."""
    got: list[Reading] = []

    async def read() -> None:
        async for reading in source:
            got.append(reading)
            if len(got) == n:
                return

    await asyncio.wait_for(read(), timeout_s)
    return got


async def test_messages_arrive_in_order_with_topic_and_receive_time(harness: Harness) -> None:
    sent = [WEIGHT, GATE, TRACK]
    for message in sent:
        msg = parse_message(payload(message))
        await harness.send(topic_for(harness.store, msg), payload(message))
    got = await take(harness.source, 3)
    assert [r.message for r in got] == [parse_message(payload(m)) for m in sent]
    assert [r.origin for r in got] == [
        f"walkout/{harness.store}/weight/G1-A-S1-P1",
        f"walkout/{harness.store}/gate/entry-1",
        f"walkout/{harness.store}/track/tracker",
    ]
    assert all(r.received > 1.7e9 for r in got)  # wall-clock seconds, not stream time
    assert harness.source.stats.accepted == 3


async def test_bad_payloads_and_topics_are_rejected_counted_and_harmless(
    harness: Harness,
) -> None:
    store = harness.store
    await harness.send(f"walkout/{store}/weight/G1-A-S1-P1", b"{not json")
    await harness.send(f"walkout/{store}/weight/G1-A-S1-P1", payload({**WEIGHT, "hz": -1}))
    await harness.send(f"walkout/{store}/weight/OTHER-PLATE", payload(WEIGHT))
    await harness.send(f"walkout/{store}/gate/G1-A-S1-P1", payload(WEIGHT))
    await harness.send(f"walkout/{store}/weight/x/extra", payload(WEIGHT))  # outside the scheme
    good = parse_message(payload(GATE))
    await harness.send(topic_for(store, good), payload(GATE))
    got = await take(harness.source, 1)
    assert [r.message for r in got] == [good]
    stats = harness.source.stats
    # The broker never delivers topics outside the subscription; the inbox counts them.
    assert stats.rejected.pop("topic", 1) == 1
    assert stats.rejected == {"payload": 2, "topic_mismatch": 2}


async def test_a_repeated_delivery_is_dropped(harness: Harness) -> None:
    msg = parse_message(payload(WEIGHT))
    for _ in range(2):
        await harness.send(topic_for(harness.store, msg), payload(WEIGHT))
    later = {**WEIGHT, "t": 100.2}
    await harness.send(topic_for(harness.store, msg), payload(later))
    got = await take(harness.source, 2)
    assert [r.message.t for r in got] == [100.0, 100.2]
    assert harness.source.stats.duplicates == 1


async def test_ids_that_are_not_topic_safe_travel_encoded(harness: Harness) -> None:
    odd = {**WEIGHT, "plate": "aisle/1+#%"}
    msg = parse_message(payload(odd))
    topic = topic_for(harness.store, msg)
    assert topic == f"walkout/{harness.store}/weight/aisle%2F1%2B%23%25"
    await harness.send(topic, payload(odd))
    got = await take(harness.source, 1)
    assert isinstance(got[0].message, WeightMsg)
    assert got[0].message.plate == "aisle/1+#%"


async def test_a_burst_waits_for_a_slow_reader_without_loss(harness: Harness) -> None:
    # More than the broker queues per client (Mosquitto: 20 in flight + 1000 queued by
    # default): the source must take them in faster than the engine reads.
    burst = [{**WEIGHT, "t": 100.0 + n / 100} for n in range(3000)]
    topic = topic_for(harness.store, parse_message(payload(WEIGHT)))
    await harness.burst(topic, [payload(m) for m in burst])
    got = await take(harness.source, len(burst), timeout_s=20)
    assert [r.message.t for r in got] == [m["t"] for m in burst]


async def test_closing_ends_the_iteration(harness: Harness) -> None:
    harness.close()
    assert await take(harness.source, 1) == []


async def test_messages_of_another_store_are_not_taken() -> None:
    inbox = DeviceInbox("corner")
    inbox.offer("walkout/grocery/gate/entry-1", payload(GATE))
    inbox.close()
    assert await take(inbox, 1) == []
    assert inbox.stats.rejected == {"other_store": 1}
    assert subscription("a/b") == "walkout/a%2Fb/+/+"


async def test_a_full_inbox_drops_and_counts_instead_of_growing() -> None:
    inbox = DeviceInbox("corner", capacity=2)
    for n in range(4):
        inbox.offer("walkout/corner/gate/entry-1", payload({**GATE, "t": 100.0 + n}))
    await asyncio.sleep(0)  # the hand-offs run on the loop
    inbox.close()
    got = await take(inbox, 4)
    assert [r.message.t for r in got] == [100.0, 101.0]
    assert inbox.stats.rejected == {"overflow": 2}


def write_recording(path: Path, lines: list[bytes]) -> Path:
    with gzip.open(path, "wb") as fh:
        fh.write(b"\n".join(lines) + b"\n")
    return path


async def test_a_recording_source_reads_every_good_line(tmp_path: Path) -> None:
    lines = [payload(WEIGHT), b"garbage", payload(GATE)]
    source = RecordingSource(write_recording(tmp_path / "recording.jsonl.gz", lines))
    got = [r async for r in source]
    assert [r.message.type for r in got] == ["weight", "gate"]
    assert [r.origin for r in got] == ["recording.jsonl.gz:1", "recording.jsonl.gz:2"]
    assert (source.stats.accepted, source.stats.rejected) == (2, {"payload": 1})


def test_the_pacer_spaces_messages_by_their_timestamps() -> None:
    now = [1000.0]
    pacer = Pacer(2.0, clock=lambda: now[0])
    assert pacer.delay(50.0) == 0.0
    assert pacer.delay(51.0) == 0.5  # one stream second at twice real time
    now[0] += 2.0
    assert pacer.delay(52.0) == 0.0  # behind schedule: no wait
    assert Pacer(None).delay(1e9) == 0.0
    with pytest.raises(ValueError, match="positive"):
        Pacer(0)


async def test_publishing_a_recording_delivers_it_as_the_devices_would(tmp_path: Path) -> None:
    require("Mosquitto")
    store = unique("store")
    messages = [{**WEIGHT, "t": 100.0 + n / 5} for n in range(50)] + [GATE]
    path = write_recording(
        tmp_path / "recording.jsonl.gz", [payload(m) for m in messages] + [b"{bad"]
    )
    async with MqttSource(MQTT_URL, store, client_id=unique("engine"), session_expiry_s=0) as src:
        sent = await asyncio.to_thread(publish_recording, path, MQTT_URL, store, window=8)
        got = await take(src, len(messages))
    assert (sent.published, sent.skipped) == (len(messages), 1)
    assert [r.message for r in got] == [parse_message(payload(m)) for m in messages]
    assert isinstance(got[-1].message, GateMsg)


async def test_a_session_keeps_messages_sent_while_the_source_was_away() -> None:
    require("Mosquitto")
    store, engine = unique("store"), unique("engine")
    async with MqttSource(MQTT_URL, store, client_id=engine, session_expiry_s=30):
        pass  # the broker now keeps the session (and its subscription) for 30 s
    device = MqttTarget.parse(MQTT_URL).client(unique("device"))
    device.connect("127.0.0.1", 1883)
    device.loop_start()
    try:
        msg = parse_message(payload(GATE))
        info = device.publish(topic_for(store, msg), payload(GATE), qos=1)
        await asyncio.to_thread(info.wait_for_publish, 5)
    finally:
        device.disconnect()
        device.loop_stop()
    async with MqttSource(MQTT_URL, store, client_id=engine, session_expiry_s=0) as src:
        got = await take(src, 1)
    assert [r.message for r in got] == [msg]


def test_mqtt_urls() -> None:
    target = MqttTarget.parse("mqtts://user:p%40ss@broker.example:8884")
    assert (target.host, target.port, target.tls) == ("broker.example", 8884, True)
    assert (target.username, target.password) == ("user", "p@ss")
    assert MqttTarget.parse("mqtt://127.0.0.1").port == 1883
    for bad in ("http://x", "mqtt://", "mqtt://h:99999"):
        with pytest.raises(ValueError, match=r"MQTT URL|port"):
            MqttTarget.parse(bad)
    assert isinstance(MqttTarget.parse(MQTT_URL).client("x"), paho.Client)


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    plate=st.text(min_size=1, max_size=128),
    store=st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True),
)
def test_any_id_survives_the_topic_round_trip(plate: str, store: str) -> None:
    async def main() -> list[Reading]:
        inbox = DeviceInbox(store)
        msg = parse_message(payload({**WEIGHT, "plate": plate}))
        inbox.offer(topic_for(store, msg), payload({**WEIGHT, "plate": plate}))
        inbox.close()
        return [r async for r in inbox]

    got = asyncio.run(main())
    assert len(got) == 1
    assert isinstance(got[0].message, WeightMsg)
    assert got[0].message.plate == plate


@hypothesis_settings(max_examples=200, deadline=None)
@given(topic=st.text(max_size=60), data=st.binary(max_size=200))
def test_nothing_a_device_sends_stops_the_inbox(topic: str, data: bytes) -> None:
    async def main() -> tuple[list[Reading], DeviceInbox]:
        inbox = DeviceInbox("corner")
        inbox.offer(topic, data)
        inbox.offer("walkout/corner/gate/entry-1", payload(GATE))
        inbox.close()
        return [r async for r in inbox], inbox

    got, inbox = asyncio.run(main())
    assert got[-1].message == parse_message(payload(GATE))
    assert inbox.stats.received == 2
    assert inbox.stats.accepted + inbox.stats.rejected_total + inbox.stats.duplicates == 2
