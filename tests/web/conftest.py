"""Fixtures of the browser tests: headless Chromium against the real service on a free port.

Each test gets its own service (a copy of a SQLite database migrated once per session, the
ledger payment provider, the repository's test store) served by uvicorn in a thread, so the
browser talks to it exactly as a phone would: real HTTP, real Server-Sent Events. The
``live`` helpers reuse the service tests' shortcuts (``tests/service/helpers.py`` and
``shop.py``) over HTTP.

Chromium is Debian's (``/usr/bin/chromium``): browsers cannot be downloaded here. Without it
the tests are skipped, unless ``CI=true``, where they fail.

``pytest tests/web --screenshots`` also writes a PNG of each main screen into
``docs/screenshots/`` (``snap(page, "app-cart")`` in a test), so the pictures in the docs are
the screens the tests check.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright
from pydantic import BaseModel

from service.conftest import make_settings
from service.helpers import Caller, Store
from service.shop import Feed, add_card, enter, post_events
from walkout.demo import bind_socket
from walkout.service import create_app
from walkout.service.db import upgrade_head
from walkout.service.deps import Services
from walkout.service.models import Role

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The shopper app is mobile-first: an iPhone 12-14 sized viewport.
PHONE = {"width": 390, "height": 844}
#: How long a browser expectation may take before the test fails (ms).
EXPECT_TIMEOUT_MS = 5000
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        action="store_true",
        help=f"write a PNG of each main screen of the web apps into {SCREENSHOTS}",
    )


Snap = Callable[[Page, str], None]


@pytest.fixture
def snap(request: pytest.FixtureRequest) -> Snap:
    """``snap(page, "app-cart")`` saves docs/screenshots/app-cart.png with --screenshots."""
    enabled = bool(request.config.getoption("--screenshots"))

    def save(page: Page, name: str) -> None:
        if enabled:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{name}.png", animations="disabled")

    return save


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session (each test gets a fresh context)."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (make test installs Debian's chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true: the browser tests must run")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once; each test serves a copy of it."""
    directory = tmp_path_factory.mktemp("template")
    path = directory / "walkout.db"
    upgrade_head(make_settings(f"sqlite:///{path}", directory))
    return path


class Live(Store):
    """The running service: its URL, its parts, and the service tests' shortcuts over HTTP."""

    def __init__(self, url: str, client: httpx.Client, services: Services) -> None:
        # Store's helpers only use the client's request methods, which httpx.Client shares
        # with the TestClient they were written for.
        super().__init__(client, services)  # type: ignore[arg-type]
        self.url = url

    def shopper(self, *, card: bool = True) -> Caller:
        """A signed-up shopper, with a saved ledger card unless ``card`` is False."""
        person = self.person(Role.SHOPPER, payment=False)
        if card:
            add_card(self, person)
        return person

    def enter(self, gate: Caller, person: Caller) -> int:
        """Admit ``person`` at ``gate`` with a fresh entry token; the visit id."""
        return enter(self, gate, person)

    def feed(self, visit_id: int) -> Feed:
        """A builder of the engine's cart events for ``visit_id``."""
        return Feed(visit_id, self.services.catalogue)

    def post_events(self, device: Caller, events: Sequence[BaseModel]) -> list[str]:
        """Send a batch as the store's engine would; the outcome of each event."""
        return post_events(self, device, events)


@dataclass
class _Server:
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _serve(app: object, sock: socket.socket) -> _Server:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live service did not start")
        time.sleep(0.01)
    return _Server(server, thread)


@pytest.fixture
def live_settings() -> dict[str, object]:
    """Settings of the ``live`` service beyond the tests' defaults; a test changes them with
    ``@pytest.mark.parametrize("live_settings", [{"store_file": ...}])``."""
    return {}


@pytest.fixture
def live(migrated_sqlite: Path, tmp_path: Path, live_settings: dict[str, object]) -> Iterator[Live]:
    """The real store service on a free port of 127.0.0.1, with its own fresh database."""
    db = tmp_path / "walkout.db"
    shutil.copyfile(migrated_sqlite, db)
    settings = make_settings(f"sqlite:///{db}", tmp_path, **live_settings)
    app = create_app(settings)
    sock = bind_socket("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    running = _serve(app, sock)
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            yield Live(url, client, app.state.services)
    finally:
        running.stop()
        sock.close()


def new_page(browser: Browser, viewport: dict[str, int], locale: str = "en-GB") -> Page:
    """A page in a fresh browser context (no storage shared with other tests)."""
    context = browser.new_context(viewport=viewport, locale=locale)  # type: ignore[arg-type]
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    return context.new_page()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A phone-sized page in a fresh context; tests that need a wider one call ``new_page``."""
    opened = new_page(browser, PHONE)
    yield opened
    opened.context.close()


def open_app(page: Page, live: Live, person: Caller | None = None, route: str = "") -> None:
    """Open the shopper app at ``#/route``, signed in as ``person`` (its bearer token put where
    the app keeps it) or signed out."""
    if person is not None:
        page.add_init_script(f"localStorage.setItem('walkout.token', {person.token!r})")
    page.goto(f"{live.url}/app/#/{route}")


_UNNAMED = """() => {
  const named = (el) =>
    (el.labels && el.labels.length > 0) || el.getAttribute("aria-label") ||
    el.getAttribute("aria-labelledby") || (el.tagName === "IMG" && el.hasAttribute("alt")) ||
    (el.tagName !== "INPUT" && el.tagName !== "SELECT" && el.tagName !== "TEXTAREA" &&
     el.tagName !== "IMG" && el.textContent.trim());
  return [...document.querySelectorAll("input, select, textarea, button, a[href], img")]
    .filter((el) => el.type !== "hidden" && el.getClientRects().length > 0 && !named(el))
    .map((el) => el.outerHTML.slice(0, 120));
}"""


def assert_labelled(page: Page) -> None:
    """Every visible field, button, link and image on the page has an accessible name."""
    unnamed = page.evaluate(_UNNAMED)
    assert unnamed == [], unnamed
