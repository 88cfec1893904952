"""Device transport: protocol messages from a store's load cells, cameras and gates.

Live, each device publishes its PROTOCOL messages over MQTT, one JSON message per MQTT
message at QoS 1, on the topic ``walkout/<store>/<type>/<source>``:

- ``<type>`` is the message's ``type`` (``weight``, ``pose``, ``track``, ``gate``, ``product``);
- ``<source>`` is the plate (weight), camera (pose, product) or gate (gate) id, and for
  ``track`` the id of the external tracking system (:data:`TRACKER` by default);
- ids are percent-encoded in a topic level (``/``, ``+``, ``#`` and ``%`` cannot appear raw).

A :class:`SensorSource` yields the messages as :class:`Reading` s with their receive time.
:class:`DeviceInbox` is the embedded one (devices, or a test, hand it topic and payload), and
:class:`MqttSource` feeds the same inbox from Mosquitto, so both check messages identically:
a payload that is not a protocol message, a topic outside the scheme, or a message whose type
or source disagrees with its topic is rejected and counted by reason; QoS 1 may deliver a
message twice, so a repeat of a recent (topic, payload) is dropped and counted. Nothing a
device sends can stop the source. :class:`RecordingSource` reads a recording file instead,
and :func:`publish_recording` plays one to a broker as a fleet of devices would.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from walkout.domain.messages import (
    MESSAGE_TYPES,
    GateMsg,
    Message,
    MessageError,
    PoseMsg,
    ProductMsg,
    WeightMsg,
    parse_message,
)
from walkout.recording import iter_lines

#: The source level of ``track`` topics when the tracking system has no id of its own.
TRACKER = "tracker"


class DeviceTransportError(RuntimeError):
    """The broker cannot be reached or refused us; the reason is in the message."""


def source_of(msg: Message) -> str | None:
    """The device a message comes from, as its topic names it (None: any, for ``track``)."""
    if isinstance(msg, WeightMsg):
        return msg.plate
    if isinstance(msg, PoseMsg | ProductMsg):
        return msg.camera
    if isinstance(msg, GateMsg):
        return msg.gate
    return None


def topic_for(store_id: str, msg: Message, tracker: str = TRACKER) -> str:
    """The MQTT topic a device publishes ``msg`` on."""
    source = source_of(msg)
    levels = (store_id, msg.type, tracker if source is None else source)
    return "walkout/" + "/".join(quote(level, safe="") for level in levels)


def subscription(store_id: str) -> str:
    """The topic filter of every device message of a store."""
    return f"walkout/{quote(store_id, safe='')}/+/+"


@dataclass(frozen=True)
class Reading:
    """One message as received: the message, when it arrived (wall clock) and from where."""

    message: Message
    received: float
    origin: str


@dataclass
class SourceStats:
    """What a source took in: accepted messages, dropped repeats, rejections by reason."""

    received: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: dict[str, int] = field(default_factory=dict)

    def reject(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


class SensorSource(Protocol):
    """Protocol messages as they arrive, with their receive time; ends when the source does."""

    @property
    def stats(self) -> SourceStats:
        """What the source took in and rejected so far."""
        ...

    def __aiter__(self) -> AsyncIterator[Reading]: ...

    def close(self) -> None:
        """End the iteration soon (from any thread): for a clean stop."""
        ...


class _Recent:
    """The last ``size`` keys seen, to drop repeats (QoS 1 delivers at least once)."""

    def __init__(self, size: int) -> None:
        self._order: deque[bytes] = deque()
        self._keys: set[bytes] = set()
        self._size = size

    def seen(self, key: bytes) -> bool:
        if key in self._keys:
            return True
        self._keys.add(key)
        self._order.append(key)
        if len(self._order) > self._size:
            self._keys.discard(self._order.popleft())
        return False


_END = object()


class DeviceInbox:
    """The embedded ``SensorSource``: devices hand it (topic, payload); it checks each message
    as the MQTT source does and yields the good ones in arrival order.

    ``offer`` may be called from any thread and only queues (the MQTT client's network thread
    must keep draining the socket, or the broker drops messages for a slow subscriber); the
    checks run in the reader. The queue holds ``capacity`` messages: a reader that falls that
    far behind loses the newest ones (counted as ``overflow``) instead of the process running
    out of memory.
    """

    def __init__(
        self,
        store_id: str,
        loop: asyncio.AbstractEventLoop | None = None,
        capacity: int = 100_000,
        dedupe: int = 10_000,
    ) -> None:
        self.store_id = store_id
        self.stats = SourceStats()
        self._loop = loop or asyncio.get_running_loop()
        self._queue: asyncio.Queue[tuple[str, bytes, float] | object] = asyncio.Queue()
        self._capacity = capacity
        self._recent = _Recent(dedupe)
        self._closed = False

    def offer(self, topic: str, payload: bytes, received: float | None = None) -> None:
        """Take one device message (any thread); never raises for what a device sent."""
        item = (topic, payload, time.time() if received is None else received)
        with contextlib.suppress(RuntimeError):  # the loop has closed: the source is gone
            self._loop.call_soon_threadsafe(self._put, item)

    def _put(self, item: tuple[str, bytes, float]) -> None:
        if self._closed:
            return
        self.stats.received += 1
        if self._queue.qsize() >= self._capacity:
            self.stats.reject("overflow")
            return
        self._queue.put_nowait(item)

    def _check(self, topic: str, payload: bytes, received: float) -> Reading | None:
        levels = topic.split("/")
        if len(levels) != 4 or levels[0] != "walkout" or levels[2] not in MESSAGE_TYPES:
            self.stats.reject("topic")
            return None
        store, kind, source = (unquote(level) for level in levels[1:])
        if store != self.store_id:
            self.stats.reject("other_store")
            return None
        try:
            msg = parse_message(payload)
        except MessageError:
            self.stats.reject("payload")
            return None
        expected = source_of(msg)
        if msg.type != kind or (expected is not None and expected != source):
            self.stats.reject("topic_mismatch")
            return None
        if self._recent.seen(hashlib.blake2b(topic.encode() + b"\0" + payload).digest()):
            self.stats.duplicates += 1
            return None
        self.stats.accepted += 1
        return Reading(msg, received, topic)

    def close(self) -> None:
        """End the iteration once the queued messages are read (any thread)."""
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._end)

    def _end(self) -> None:
        if not self._closed:
            self._closed = True
            self._queue.put_nowait(_END)

    async def __aiter__(self) -> AsyncIterator[Reading]:
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            assert isinstance(item, tuple)
            reading = self._check(*item)
            if reading is not None:
                yield reading


@dataclass(frozen=True)
class MqttTarget:
    """Where a broker is, from an ``mqtt://[user[:password]@]host[:port]`` URL (``mqtts``:
    TLS with the system's certificate authorities)."""

    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None

    @staticmethod
    def parse(url: str) -> MqttTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"not an MQTT URL (mqtt://host:port): {url!r}")
        tls = parts.scheme == "mqtts"
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError as exc:
            raise ValueError(f"bad port in {url!r}") from exc
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return MqttTarget(parts.hostname, port, tls, user, password)

    def client(self, client_id: str) -> paho.Client:
        """A paho client for this broker (MQTT 5), not connected yet."""
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
        if self.tls:
            client.tls_set()
        if self.username is not None:
            client.username_pw_set(self.username, self.password)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        return client


def _failed(code: ReasonCode | int) -> bool:
    return (code.value if isinstance(code, ReasonCode) else code) >= 0x80


class MqttSource:
    """A ``SensorSource`` subscribed to a store's device topics on an MQTT broker.

    A persistent session (``client_id``, kept ``session_expiry_s`` by the broker) means that
    QoS 1 messages published while the connection was down are delivered on reconnection.
    Use as ``async with MqttSource(...) as source: async for reading in source``; entering
    returns once the subscription is active, leaving ends the iteration.
    """

    def __init__(
        self,
        url: str,
        store_id: str,
        *,
        client_id: str | None = None,
        session_expiry_s: int = 300,
        capacity: int = 100_000,
        connect_timeout_s: float = 10.0,
        receive_maximum: int = 65_535,
    ) -> None:
        self.receive_maximum = receive_maximum
        self.target = MqttTarget.parse(url)
        self.url = url
        self.store_id = store_id
        self.client_id = client_id or f"walkout-engine-{store_id}"
        self.session_expiry_s = session_expiry_s
        self.capacity = capacity
        self.connect_timeout_s = connect_timeout_s
        self._inbox: DeviceInbox | None = None
        self._client: paho.Client | None = None

    @property
    def stats(self) -> SourceStats:
        return self.inbox.stats

    @property
    def inbox(self) -> DeviceInbox:
        if self._inbox is None:
            raise RuntimeError("MqttSource is used outside its 'async with'")
        return self._inbox

    async def __aenter__(self) -> MqttSource:
        loop = asyncio.get_running_loop()
        inbox = self._inbox = DeviceInbox(self.store_id, loop, self.capacity)
        subscribed: asyncio.Future[None] = loop.create_future()

        def settle(error: str | None) -> None:
            if subscribed.done():
                return
            if error is None:
                subscribed.set_result(None)
            else:
                subscribed.set_exception(DeviceTransportError(error))

        def on_connect(
            client: paho.Client,
            _: object,
            flags: paho.ConnectFlags,
            code: ReasonCode,
            properties: Properties | None,
        ) -> None:
            if _failed(code):
                loop.call_soon_threadsafe(settle, f"{self.url} refused the connection: {code}")
                return
            client.subscribe(subscription(self.store_id), qos=1)

        def on_subscribe(
            client: paho.Client,
            _: object,
            mid: int,
            codes: list[ReasonCode],
            properties: Properties | None,
        ) -> None:
            error = None
            if any(map(_failed, codes)):
                error = f"{self.url} refused the subscription: {codes}"
            loop.call_soon_threadsafe(settle, error)

        def on_message(client: paho.Client, _: object, message: paho.MQTTMessage) -> None:
            inbox.offer(message.topic, bytes(message.payload))

        client = self._client = self.target.client(self.client_id)
        client.on_connect = on_connect
        client.on_subscribe = on_subscribe
        client.on_message = on_message
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = self.session_expiry_s
        # The broker may send this many messages before our acknowledgements: a burst waits in
        # our inbox instead of the broker's per-client queue, which drops when full.
        properties.ReceiveMaximum = self.receive_maximum
        try:
            client.connect_async(
                self.target.host,
                self.target.port,
                keepalive=30,
                clean_start=False,
                properties=properties,
            )
            client.loop_start()
            await asyncio.wait_for(subscribed, self.connect_timeout_s)
        except (OSError, TimeoutError, DeviceTransportError) as exc:
            client.loop_stop()
            if isinstance(exc, DeviceTransportError):
                raise
            raise DeviceTransportError(f"cannot subscribe at {self.url}: {exc!r}") from exc
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
        if self._client is not None:
            client, self._client = self._client, None
            await asyncio.to_thread(self._stop, client)

    @staticmethod
    def _stop(client: paho.Client) -> None:
        client.disconnect()
        client.loop_stop()

    def close(self) -> None:
        """End the iteration (any thread); the connection closes when the context ends."""
        if self._inbox is not None:
            self._inbox.close()

    def __aiter__(self) -> AsyncIterator[Reading]:
        return self.inbox.__aiter__()


class Pacer:
    """Waits so that messages go out at ``speed`` times the pace of their timestamps
    (``None``: as fast as possible)."""

    def __init__(self, speed: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive (or None for as fast as possible)")
        self.speed = speed
        self._clock = clock
        self._origin: tuple[float, float] | None = None

    def delay(self, t: float) -> float:
        """Seconds to wait before sending a message stamped ``t``."""
        if self.speed is None:
            return 0.0
        if self._origin is None:
            self._origin = (t, self._clock())
        t0, wall0 = self._origin
        return max(0.0, wall0 + (t - t0) / self.speed - self._clock())


def read_recording(path: Path, stats: SourceStats) -> Iterator[tuple[bytes, Message]]:
    """A recording's lines with their messages; a line that does not parse is counted and
    skipped."""
    for line in iter_lines(path):
        stats.received += 1
        try:
            msg = parse_message(line)
        except MessageError:
            stats.reject("payload")
            continue
        stats.accepted += 1
        yield line, msg


class RecordingSource:
    """The embedded ``SensorSource`` over a recording file (``.jsonl`` or ``.jsonl.gz``),
    at ``speed`` times real time or as fast as possible."""

    def __init__(self, path: Path, speed: float | None = None) -> None:
        self.path = path
        self.pacer = Pacer(speed)
        self.stats = SourceStats()
        self._closed = threading.Event()

    def close(self) -> None:
        self._closed.set()

    async def __aiter__(self) -> AsyncIterator[Reading]:
        for n, (_, msg) in enumerate(read_recording(self.path, self.stats), start=1):
            if self._closed.is_set():
                return
            wait = self.pacer.delay(msg.t)
            if wait > 0 or n % 1000 == 0:
                await asyncio.sleep(wait)  # also lets the loop run between bursts
            yield Reading(msg, time.time(), f"{self.path.name}:{n}")


@dataclass
class PublishStats:
    """What a publisher sent: messages acknowledged by the broker, lines skipped."""

    published: int = 0
    skipped: int = 0


def publish_recording(
    path: Path,
    url: str,
    store_id: str,
    *,
    speed: float | None = None,
    client_id: str | None = None,
    window: int = 1000,
    timeout_s: float = 30.0,
    progress: Callable[[int], None] | None = None,
) -> PublishStats:
    """Publish a recording's messages as its devices would (each on its topic, QoS 1, in the
    recording's order), paced at ``speed`` times real time; returns once the broker has
    acknowledged every one. At most ``window`` messages wait for their acknowledgement."""
    target = MqttTarget.parse(url)
    client = target.client(client_id or f"walkout-publish-{store_id}-{time.monotonic_ns()}")
    client.max_inflight_messages_set(min(window, 65_535))
    connected = threading.Event()
    refused: list[str] = []

    def on_connect(
        client: paho.Client,
        _: object,
        flags: paho.ConnectFlags,
        code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if _failed(code):
            refused.append(str(code))
        connected.set()

    client.on_connect = on_connect
    try:
        client.connect(target.host, target.port, keepalive=30)
    except OSError as exc:
        raise DeviceTransportError(f"cannot connect to {url}: {exc!r}") from exc
    client.loop_start()
    stats = SourceStats()
    sent = PublishStats()
    pacer = Pacer(speed)
    pending: deque[paho.MQTTMessageInfo] = deque()
    try:
        if not connected.wait(timeout_s) or refused:
            raise DeviceTransportError(f"{url} refused the connection: {refused or 'timeout'}")
        for line, msg in read_recording(path, stats):
            wait = pacer.delay(msg.t)
            if wait > 0:
                time.sleep(wait)
            pending.append(client.publish(topic_for(store_id, msg), line, qos=1))
            while len(pending) > window:
                _acked(pending.popleft(), timeout_s, url)
                sent.published += 1
                if progress is not None and sent.published % 10_000 == 0:
                    progress(sent.published)
        while pending:
            _acked(pending.popleft(), timeout_s, url)
            sent.published += 1
    finally:
        client.disconnect()
        client.loop_stop()
    sent.skipped = stats.rejected_total
    return sent


def _acked(info: paho.MQTTMessageInfo, timeout_s: float, url: str) -> None:
    try:
        info.wait_for_publish(timeout_s)
    except (ValueError, RuntimeError) as exc:
        raise DeviceTransportError(f"{url} did not take a message: {exc}") from exc
    if not info.is_published():
        raise DeviceTransportError(f"{url} did not acknowledge a message in {timeout_s} s")
