"""The real brokers of the adapter tests: Mosquitto and NATS JetStream on 127.0.0.1.

A test that needs one calls :func:`require`: it skips with the reason when the broker is down,
and fails under ``CI=true``, where every broker must run. Names (stores, consumers, client ids)
come from :func:`unique`, so parallel test processes never share a stream or a topic.
"""

from __future__ import annotations

import functools
import os
import socket
import uuid

import pytest

NATS_URL = "nats://127.0.0.1:4222"
MQTT_URL = "mqtt://127.0.0.1:1883"
_PORTS = {"NATS": 4222, "Mosquitto": 1883}


@functools.cache
def _problem(name: str) -> str | None:
    try:
        socket.create_connection(("127.0.0.1", _PORTS[name]), timeout=2).close()
    except OSError as e:
        return f"{name} at 127.0.0.1:{_PORTS[name]} is unreachable: {e}"
    return None


def require(name: str) -> None:
    """Skip (or, under CI=true, fail) unless the broker ``name`` is up."""
    problem = _problem(name)
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{problem} (CI=true: the broker tests must run)")
    pytest.skip(problem)


def unique(prefix: str) -> str:
    """A name no other test run uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
