"""Test support for the payment contract suite: localstripe as a shared process, fault plans.

localstripe (GPL-3.0) is only ever run as a separate process. It keeps its state in one fixed
file (/tmp/localstripe.pickle), so one instance serves every test process on the machine
(pytest-xdist workers, concurrent runs): the first user starts it, the last one stops it.
Two `flock`s coordinate this: an exclusive "state" lock around start and stop, and a shared
"users" lock held while an instance is in use (the kernel drops it if a process dies).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import stripe

from walkout.payments import PaymentProvider

API_KEY = "sk_test_walkout"
_TMP = Path(tempfile.gettempdir())
_STATE_LOCK = _TMP / "walkout-localstripe.lock"
_USERS_LOCK = _TMP / "walkout-localstripe.users"
_INFO = _TMP / "walkout-localstripe.json"
_LOG = _TMP / "walkout-localstripe.log"
_START_TIMEOUT_S = 20.0


class LocalStripeUnavailable(RuntimeError):
    """localstripe could not be started."""


def _answers(url: str) -> bool:
    request = urllib.request.Request(
        f"{url}/v1/customers?limit=1", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=1.0) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start() -> tuple[subprocess.Popen[bytes], str]:
    beside = Path(sys.executable).with_name("localstripe")
    executable = str(beside) if beside.exists() else shutil.which("localstripe")
    if executable is None:
        raise LocalStripeUnavailable("no localstripe executable (pip install localstripe)")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with _LOG.open("wb") as log:
        proc = subprocess.Popen(
            [executable, "--port", str(port), "--from-scratch"],
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not _answers(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc.pid, proc)
            tail = _LOG.read_text(errors="replace")[-2000:]
            raise LocalStripeUnavailable(f"localstripe did not answer on {url}:\n{tail}")
        time.sleep(0.05)
    return proc, url


def _stop(pid: int, proc: subprocess.Popen[bytes] | None) -> None:
    """Stop the localstripe we started (checked by its command line before signalling)."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists() and b"localstripe" not in cmdline.read_bytes():
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if proc is not None:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _running() -> tuple[int, str] | None:
    try:
        info = json.loads(_INFO.read_text())
    except (OSError, ValueError):
        return None
    pid, url = int(info["pid"]), str(info["url"])
    return (pid, url) if _answers(url) else None


@contextmanager
def shared_localstripe() -> Iterator[str]:
    """Use the machine's localstripe instance, starting it if needed; yield its base URL."""
    with ExitStack() as files:
        state = files.enter_context(_STATE_LOCK.open("a"))
        users = files.enter_context(_USERS_LOCK.open("a"))
        proc: subprocess.Popen[bytes] | None = None
        fcntl.flock(state, fcntl.LOCK_EX)
        try:
            running = _running()
            if running is None:
                proc, url = _start()
                _INFO.write_text(json.dumps({"pid": proc.pid, "url": url}))
            else:
                url = running[1]
            fcntl.flock(users, fcntl.LOCK_SH)
        finally:
            fcntl.flock(state, fcntl.LOCK_UN)
        try:
            yield url
        finally:
            fcntl.flock(state, fcntl.LOCK_EX)
            try:
                fcntl.flock(users, fcntl.LOCK_UN)
                try:
                    fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    pass  # another process still uses it; the last one stops it
                else:
                    running = _running()
                    if running is not None:
                        pid = running[0]
                        _stop(pid, proc if proc is not None and proc.pid == pid else None)
                    _INFO.unlink(missing_ok=True)
                    fcntl.flock(users, fcntl.LOCK_UN)
            finally:
                fcntl.flock(state, fcntl.LOCK_UN)


class FaultPlan:
    """Which calls fail next: `arm("capture", 2)` makes the next two captures fail retryably."""

    def __init__(self) -> None:
        self._remaining: dict[str, int] = {}
        self._lock = threading.Lock()

    def arm(self, operation: str, times: int) -> None:
        with self._lock:
            self._remaining[operation] = times

    def take(self, operation: str) -> bool:
        """True (and one fewer to go) when this call of `operation` must fail."""
        with self._lock:
            left = self._remaining.get(operation, 0)
            if left > 0:
                self._remaining[operation] = left - 1
            return left > 0


def stripe_operation(method: str, url: str) -> str | None:
    """The provider operation behind a Stripe API request, as named in `FaultPlan`."""
    path = url.split("?")[0]
    if method.lower() != "post":
        return None
    if path.endswith("/v1/payment_intents"):
        return "authorize"
    if path.endswith("/capture"):
        return "capture"
    if path.endswith("/v1/refunds"):
        return "refund"
    return None


class FaultyTransport(stripe.HTTPClient):
    """A Stripe HTTP client that fails planned requests before sending them, else delegates."""

    name = "faulty"

    def __init__(self, plan: FaultPlan) -> None:
        super().__init__()
        self._plan = plan
        self._inner = stripe.new_default_http_client()

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        operation = stripe_operation(method, url)
        if operation is not None and self._plan.take(operation):
            raise stripe.APIConnectionError("injected: connection reset")  # type: ignore[no-untyped-call]
        return self._inner.request(method, url, headers, post_data)

    def close(self) -> None:
        self._inner.close()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Harness:
    """A provider under contract test, with what the tests need to look behind it."""

    name: str
    provider: PaymentProvider
    faults: FaultPlan
    count_authorizations: Callable[[str], int]
    count_captures: Callable[[str], int]


@contextmanager
def localstripe_for_tests() -> Iterator[str]:
    """The machine's shared localstripe for a test session: skipped locally if it cannot
    start, failed under ``CI=true``."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(shared_localstripe())
        except LocalStripeUnavailable as e:
            if os.environ.get("CI") == "true":
                pytest.fail(f"localstripe is required under CI=true: {e}")
            pytest.skip(f"localstripe could not start: {e}")
        yield url
