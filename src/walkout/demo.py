"""``walkout demo``: the whole store at once.

The simulator's shoppers get accounts and ledger cards in a live store service; as the recording
plays, each gate message becomes a real entry token scanned at the service's gate, and its token
is replaced by the visit id the gate answers (ADR 4) before the engine sees it; the engine's cart
events go to ``/events`` in small batches as they are made; the service charges the ledger when
each receipt arrives; about twice a second the engine's floor view (who is where) goes to
``/floor``. The service's receipts are then read back over its API, next to the truth.

While the API stays up, :func:`keep_busy` keeps the store busy: round after round it simulates
new shoppers (a new seed each) and plays them through the gates, the engine and the service at
real time, so the staff console shows people moving and carts changing. The demo's own shopper
("you") is one of them in every round, so a person signed in as them sees their cart live.
"""

from __future__ import annotations

import itertools
import shutil
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
import uvicorn
from pydantic import BaseModel
from rich.table import Table

from walkout.adapters.devices import Pacer
from walkout.domain.events import CartEvent, ReceiptIssued
from walkout.domain.floor import FloorView
from walkout.domain.messages import GateMsg, MessageError, parse_message
from walkout.domain.store import Store
from walkout.domain.truth import Receipt, Receipts, Truth
from walkout.engine.core import Engine
from walkout.payments.ledger import LedgerEntry, LedgerProvider, Status
from walkout.recording import find_recording, iter_lines, read_json, write_json
from walkout.scoring import Score, score
from walkout.service.accounts import service as accounts_service
from walkout.service.accounts.schemas import AccountRead, DeviceCreated, PersonRole, TokenRead
from walkout.service.app import create_app
from walkout.service.carts.schemas import EventsApplied
from walkout.service.db import upgrade_head
from walkout.service.deps import Services
from walkout.service.entry.schemas import Admitted, EntryTokenRead
from walkout.service.floor.schemas import FloorPosted
from walkout.service.inventory import service as inventory_service
from walkout.service.models import PaymentState, Role
from walkout.service.receipts.schemas import ReceiptRead, ReceiptSummary
from walkout.service.settings import ProviderName, Settings
from walkout.sim.behaviour import STOCK_UNITS
from walkout.sim.run import VisionMode, simulate
from walkout.sim.scenarios import get_scenario

#: Every demo account's password (printed, so that a person can sign in and look around).
PASSWORD = "walk out demo"
#: The ledger's test card that always pays.
CARD = "4242 4242 4242 4242"
MANAGER_EMAIL = "manager@example.com"
STAFF_EMAIL = "staff@example.com"
#: The demo's own shopper: whoever signs in as them in the shopper app watches their cart.
YOU_EMAIL = "you@example.com"
#: Payment states after which nothing more happens without staff.
_SETTLED = frozenset(
    {PaymentState.CAPTURED, PaymentState.CANCELED, PaymentState.DECLINED, PaymentState.FAILED}
)

M = TypeVar("M", bound=BaseModel)


class DemoError(RuntimeError):
    """The demo's store service answered something unexpected."""


@dataclass(frozen=True)
class Login:
    """A signed-in account of the demo (for a device, ``email`` is its name)."""

    email: str
    account_id: int
    bearer: str
    role: Role

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.bearer}"}


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``port`` on ``host``, or to a free port when that one is taken."""
    for candidate in (port, 0):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Connections inherit it: without it, a response's body waits behind its headers for
        # the client's delayed ACK, some 40 ms per call on a kept-alive connection.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((host, candidate))
        except OSError:
            sock.close()
            continue
        return sock
    raise DemoError(f"no free TCP port on {host}")


class DemoService:
    """The store service on embedded defaults (SQLite and the ledger in ``data_dir``, the given
    store as catalogue), served by uvicorn from a background thread."""

    def __init__(self, data_dir: Path, store_file: Path, port: int, host: str = "127.0.0.1"):
        shutil.rmtree(data_dir, ignore_errors=True)
        self.settings = Settings(
            data_dir=data_dir,
            database_url=f"sqlite:///{data_dir / 'walkout.db'}",
            store_file=store_file.resolve(),
            payment_provider=ProviderName.LEDGER,
        )
        upgrade_head(self.settings)
        self.ledger = LedgerProvider()
        self.app = create_app(self.settings, provider=self.ledger)
        self._socket = bind_socket(host, port)
        bound_host, bound_port = self._socket.getsockname()[:2]
        self.url = f"http://{bound_host}:{bound_port}"
        config = uvicorn.Config(self.app, log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    def start(self, timeout_s: float = 30.0) -> None:
        """Serve, and return once the service answers."""
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise DemoError(f"the store service did not start on {self.url}")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def serve_until_interrupted(self) -> None:
        """Block while the service runs; Ctrl-C returns."""
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            return

    def count_shelves(self) -> None:
        """Staff count every facing full (as the simulator fills its shelves), so that the
        floor map shows stock levels and the shoppers' picks run them down to restock tasks."""
        with self.services.sessions.begin() as session:
            for sku, plates in self.services.catalogue.facings.items():
                for plate in plates:
                    inventory_service.set_count(
                        session, self.services, plate, sku, STOCK_UNITS[1], None
                    )

    def add_person(self, email: str, role: PersonRole) -> int:
        """Create a staff or manager account directly, as ``walkout service add-account`` does."""
        with self.services.sessions.begin() as session:
            account = accounts_service.create_person(session, self.services, email, PASSWORD, role)
            return account.id


@contextmanager
def running_service(data_dir: Path, store_file: Path, port: int) -> Iterator[DemoService]:
    """A started :class:`DemoService`, stopped on leaving."""
    service = DemoService(data_dir, store_file, port)
    service.start()
    try:
        yield service
    finally:
        service.stop()


class StoreClient:
    """The demo's HTTP calls to the store service, as the apps, the gates and the engine make."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30.0)

    def close(self) -> None:
        self.http.close()

    def _call(
        self,
        method: str,
        path: str,
        model: type[M],
        status: int = 200,
        *,
        json: object = None,
        headers: Mapping[str, str] | None = None,
    ) -> M:
        r = self.http.request(method, path, json=json, headers=headers)
        if r.status_code != status:
            raise DemoError(f"{method} {path}: {r.status_code} {r.text}")
        return model.model_validate_json(r.content)

    def sign_in(self, email: str, role: Role, account_id: int) -> Login:
        body = {"email": email, "password": PASSWORD}
        token = self._call("POST", "/auth/sign-in", TokenRead, json=body)
        return Login(email, account_id, token.access_token, role)

    def sign_up(self, email: str) -> Login:
        body = {"email": email, "password": PASSWORD}
        account = self._call("POST", "/auth/sign-up", AccountRead, 201, json=body)
        return self.sign_in(email, Role.SHOPPER, account.id)

    def add_card(self, login: Login, number: str = CARD) -> None:
        form = {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
        r = self.http.post("/cards/ledger-token", json=form, headers=login.headers)
        if r.status_code != 200:
            raise DemoError(f"POST /cards/ledger-token: {r.status_code} {r.text}")
        r = self.http.post("/cards", json={"token": r.json()["token"]}, headers=login.headers)
        if r.status_code != 201:
            raise DemoError(f"POST /cards: {r.status_code} {r.text}")

    def create_device(self, manager: Login, name: str) -> Login:
        body = {"name": name}
        created = self._call(
            "POST", "/devices", DeviceCreated, 201, json=body, headers=manager.headers
        )
        return Login(name, created.account.id, created.token.access_token, Role.DEVICE)

    def entry_token(self, login: Login) -> str:
        return self._call("GET", "/entry/token", EntryTokenRead, headers=login.headers).token

    def scan(self, device: Login, gate: str, token: str) -> Admitted | str:
        """The admission, or the reason the gate refused."""
        r = self.http.post(f"/gates/{gate}/scan", json={"token": token}, headers=device.headers)
        if r.status_code == 403:
            return str(r.json()["code"])
        if r.status_code != 200:
            raise DemoError(f"POST /gates/{gate}/scan: {r.status_code} {r.text}")
        return Admitted.model_validate_json(r.content)

    def post_events(self, device: Login, events: Sequence[CartEvent]) -> EventsApplied:
        body = [e.model_dump(mode="json") for e in events]
        return self._call("POST", "/events", EventsApplied, json=body, headers=device.headers)

    def post_floor(self, device: Login, view: FloorView) -> FloorPosted:
        body = view.model_dump(mode="json")
        return self._call("POST", "/floor", FloorPosted, json=body, headers=device.headers)

    def receipts(self, login: Login) -> list[ReceiptSummary]:
        r = self.http.get("/receipts", headers=login.headers)
        if r.status_code != 200:
            raise DemoError(f"GET /receipts: {r.status_code} {r.text}")
        return [ReceiptSummary.model_validate(item) for item in r.json()]

    def receipt(self, login: Login, receipt_id: int) -> ReceiptRead:
        return self._call("GET", f"/receipts/{receipt_id}", ReceiptRead, headers=login.headers)


def email_of(token: str, staff: bool, prefix: str = "") -> str:
    """The demo account of a simulated token (``prefix`` tells apart the busy store's rounds)."""
    return f"{'staff' if staff else 'shopper'}-{prefix}{token.lower()}@example.com"


@dataclass(frozen=True)
class DemoAccounts:
    """The accounts printed for people to sign in with, and the gates' and engine's device."""

    manager: Login
    staff: Login
    you: Login
    device: Login


def open_accounts(service: DemoService, client: StoreClient) -> DemoAccounts:
    """A manager, a staff member, the demo's own shopper (with a card) and the device."""
    manager = client.sign_in(
        MANAGER_EMAIL, Role.MANAGER, service.add_person(MANAGER_EMAIL, Role.MANAGER)
    )
    staff = client.sign_in(STAFF_EMAIL, Role.STAFF, service.add_person(STAFF_EMAIL, Role.STAFF))
    you = client.sign_up(YOU_EMAIL)
    client.add_card(you)
    device = client.create_device(manager, "gates-and-engine")
    return DemoAccounts(manager, staff, you, device)


def sign_up_people(
    service: DemoService,
    client: StoreClient,
    truth: Truth,
    *,
    prefix: str = "",
    you: Login | None = None,
) -> dict[str, Login]:
    """An account per token of the truth: shoppers sign up and save a ledger card; staff are
    created like the CLI does and need no card. ``you``, when given, shops as the first
    shopper."""
    people: dict[str, Login] = {}
    for session in truth.sessions:
        if you is not None and not session.staff:
            people[session.token], you = you, None
            continue
        email = email_of(session.token, session.staff, prefix)
        if session.staff:
            account_id = service.add_person(email, Role.STAFF)
            people[session.token] = client.sign_in(email, Role.STAFF, account_id)
        else:
            login = people[session.token] = client.sign_up(email)
            client.add_card(login)
    return people


@dataclass
class LiveRun:
    """What happened while the recording played through the gates, the engine and the service."""

    receipts: Receipts  # the engine's; each token is a service visit id
    visits: dict[int, str] = field(default_factory=dict)  # visit id -> simulated token
    refused: dict[str, str] = field(default_factory=dict)  # simulated token -> gate's reason
    outcomes: Counter[str] = field(default_factory=Counter)  # of /events, per outcome
    lines: int = 0
    batches: int = 0
    floor_views: int = 0  # posted to /floor
    stream_s: float = 0.0
    wall_s: float = 0.0


LiveProgress = Callable[[int, int], None]


class _Gates:
    """The entry gates: scan a fresh entry token per person; the visit id for the engine."""

    def __init__(self, store: Store, client: StoreClient, device: Login, run: LiveRun):
        self.admitting = {g.id for g in store.gates if g.admits}
        self.client = client
        self.device = device
        self.run = run
        self.visit_of: dict[str, int] = {}

    def admit(self, msg: GateMsg, people: Mapping[str, Login]) -> GateMsg:
        login = people.get(msg.token)
        if login is not None and msg.gate in self.admitting:
            answer = self.client.scan(self.device, msg.gate, self.client.entry_token(login))
            if isinstance(answer, str):
                self.run.refused[msg.token] = answer
            else:
                self.visit_of[msg.token] = answer.visit_id
                self.run.visits[answer.visit_id] = msg.token
        visit = self.visit_of.get(msg.token)
        return msg if visit is None else msg.model_copy(update={"token": str(visit)})


def run_live(
    recording: Path,
    store: Store,
    client: StoreClient,
    device: Login,
    people: Mapping[str, Login],
    *,
    speed: float | None = None,
    batch_s: float = 1.0,
    floor_s: float = 0.5,
    stop: threading.Event | None = None,
    progress: LiveProgress | None = None,
) -> LiveRun:
    """Play ``recording`` through the gates and the engine, posting the engine's cart events to
    the service at most ``batch_s`` of stream time after they are made and its floor view every
    ``floor_s``; paced at ``speed`` times real time, or as fast as possible when None. When
    ``stop`` is set the rest of the recording is skipped and the visits still open are closed."""
    engine = Engine(store)
    run = LiveRun(receipts=Receipts(receipts=[]))
    gates = _Gates(store, client, device, run)
    pending: list[CartEvent] = []
    sent_receipts = 0
    started = time.perf_counter()
    pacer = Pacer(speed, time.perf_counter)
    last_post = last_floor = -float("inf")
    stop = stop or threading.Event()

    def post(now: float) -> None:
        nonlocal last_post, sent_receipts
        last_post = now
        if not pending:
            return
        applied = client.post_events(device, pending)
        run.outcomes.update(result.outcome for result in applied.results)
        run.batches += 1
        sent_receipts += sum(isinstance(e, ReceiptIssued) for e in pending)
        pending.clear()
        if progress is not None:
            progress(run.lines, sent_receipts)

    for line in iter_lines(recording):
        if stop.is_set():
            break
        run.lines += 1
        try:
            msg = parse_message(line)
        except MessageError:
            engine.feed_line(line)  # counted as rejected by the engine
            continue
        delay = pacer.delay(msg.t)
        if delay > 0.002 and stop.wait(delay):
            break
        if isinstance(msg, GateMsg):
            msg = gates.admit(msg, people)
        pending += engine.feed(msg)
        if pending and msg.t - last_post >= batch_s:
            post(msg.t)
        if msg.t - last_floor >= floor_s:
            last_floor = msg.t
            client.post_floor(device, engine.floor())
            run.floor_views += 1
    pending += engine.finish()
    post(last_post)
    # The recording is over and every visit closed: nobody of it is left on the floor.
    client.post_floor(device, engine.floor().model_copy(update={"people": []}))
    run.floor_views += 1
    run.receipts = engine.receipts()
    run.stream_s = engine.stream_seconds
    run.wall_s = time.perf_counter() - started
    return run


@dataclass(frozen=True)
class VisitReceipt:
    """The service's receipt of one visit, read over its API, and what the visit truly took."""

    visit_id: int
    token: str  # the simulated token
    receipt: ReceiptRead
    truth: dict[str, int]

    @property
    def items(self) -> dict[str, int]:
        items: Counter[str] = Counter()
        for line in self.receipt.lines:
            items[line.sku] += line.qty
        return dict(items)

    @property
    def exact(self) -> bool:
        return self.items == {sku: n for sku, n in self.truth.items() if n}


def _settled(summary: ReceiptSummary) -> bool:
    """Whether the receipt's payment is over, or waits for staff review."""
    payment = summary.payment
    if payment is None or payment.state in _SETTLED:
        return True
    return payment.held and payment.state is PaymentState.AUTHORISED


def collect_receipts(
    client: StoreClient,
    people: Mapping[str, Login],
    run: LiveRun,
    truth: Truth,
    timeout_s: float = 60.0,
) -> list[VisitReceipt]:
    """Each visit's receipt from the service, once its payment has settled or is held."""
    expected = {int(r.token) for r in run.receipts.receipts if r.token.isdigit()}
    expected &= run.visits.keys()
    owners = {people[token] for token in set(run.visits.values())}
    deadline = time.monotonic() + timeout_s
    while True:
        found = {
            summary.visit_id: (login, summary)
            for login in owners
            for summary in client.receipts(login)
            if summary.visit_id in run.visits
        }
        if expected <= found.keys() and all(_settled(s) for _, s in found.values()):
            break
        if time.monotonic() > deadline:
            raise DemoError(f"payments still running after {timeout_s:g} s")
        time.sleep(0.1)
    true_items = {s.token: s.items for s in truth.sessions}
    return [
        VisitReceipt(
            visit_id,
            run.visits[visit_id],
            client.receipt(login, summary.id),
            true_items.get(run.visits[visit_id], {}),
        )
        for visit_id, (login, summary) in sorted(found.items())
    ]


def as_receipts(visits: Sequence[VisitReceipt]) -> Receipts:
    """The service's receipts under the simulated tokens, as ``walkout score`` reads them."""
    return Receipts(
        receipts=[
            Receipt(
                token=v.token,
                items=v.items,
                total=v.receipt.total,
                confidence=v.receipt.confidence,
                flagged=v.receipt.flagged,
            )
            for v in visits
        ]
    )


@dataclass(frozen=True)
class DemoResult:
    """The demo's store after the recording: receipts, payments, score and who can sign in."""

    live: LiveRun
    visits: list[VisitReceipt]
    score: Score
    ledger: list[LedgerEntry]
    names: dict[str, str]
    accounts: DemoAccounts
    shopper: Login | None
    """A simulated shopper of the run."""

    @property
    def captured(self) -> list[LedgerEntry]:
        """The ledger's captured payments."""
        return [e for e in self.ledger if e.status is Status.CAPTURED]


def run_store(
    service: DemoService,
    run_dir: Path,
    store: Store,
    truth: Truth,
    recording: Path,
    *,
    speed: float | None = None,
    progress: LiveProgress | None = None,
) -> DemoResult:
    """Sign everyone up, play the recording live through the gates, engine and service, and
    read back the receipts; the service's receipts are written to ``run_dir/receipts.json``."""
    client = StoreClient(service.url)
    try:
        accounts = open_accounts(service, client)
        service.count_shelves()
        people = sign_up_people(service, client, truth)
        live = run_live(
            recording, store, client, accounts.device, people, speed=speed, progress=progress
        )
        visits = collect_receipts(client, people, live, truth)
    finally:
        client.close()
    receipts = as_receipts(visits)
    write_json(run_dir / "receipts.json", receipts)
    shopper = next((login for login in people.values() if login.role is Role.SHOPPER), None)
    return DemoResult(
        live=live,
        visits=visits,
        score=score(truth, receipts),
        ledger=service.ledger.entries(),
        names={p.sku: p.name for p in store.products},
        accounts=accounts,
        shopper=shopper,
    )


BusyReport = Callable[[int, LiveRun], None]


def keep_busy(
    service: DemoService,
    accounts: DemoAccounts,
    store: Store,
    work_dir: Path,
    stop: threading.Event,
    *,
    scenario: str = "busy",
    seed: int = 1,
    minutes: float = 2.0,
    vision: VisionMode = "track",
    speed: float | None = 1.0,
    report: BusyReport | None = None,
) -> None:
    """Keep ``store`` busy until ``stop`` is set: round after round, simulate ``minutes`` of
    arrivals with a new seed (``seed`` + round) in ``work_dir`` and play them through the gates,
    the engine and the service at ``speed`` times real time (None: at once). ``accounts.you``
    is the first shopper of every round. ``report`` hears of each round played."""
    client = StoreClient(service.url)
    try:
        for round_no in itertools.count(1):
            if stop.is_set():
                return
            shutil.rmtree(work_dir, ignore_errors=True)
            simulate(
                store,
                get_scenario(scenario),
                seed + round_no,
                work_dir,
                minutes=minutes,
                vision=vision,
            )
            truth = read_json(work_dir / "truth.json", Truth)
            people = sign_up_people(
                service, client, truth, prefix=f"r{round_no}-", you=accounts.you
            )
            recording = find_recording(work_dir)
            live = run_live(
                recording, store, client, accounts.device, people, speed=speed, stop=stop
            )
            if report is not None:
                report(round_no, live)
    finally:
        client.close()


def _money(cents: int) -> str:
    return f"{cents / 100:.2f}"


def _payment(receipt: ReceiptRead) -> str:
    payment = receipt.payment
    if payment is None:
        return "nothing owed"
    text = payment.state.value
    if payment.captured_amount is not None:
        text += f" {_money(payment.captured_amount)}"
    return text + (" (held for review)" if payment.held else "")


def receipts_table(result: DemoResult, limit: int = 12) -> Table:
    """The service's receipts (lines, total, payment) next to the truth, first ``limit``."""
    shown = result.visits[:limit]
    table = Table(
        title=f"the service's receipts next to the truth ({len(shown)} of {len(result.visits)})",
        show_lines=True,
    )
    for column in ("visit", "service's receipt", "total", "payment", "truth", "exact"):
        table.add_column(column)
    for v in shown:
        lines = "\n".join(
            f"{line.qty}× {line.name} @ {_money(line.unit_price)}" for line in v.receipt.lines
        )
        truth = "\n".join(
            f"{n}× {result.names.get(sku, sku)}" for sku, n in sorted(v.truth.items()) if n
        )
        table.add_row(
            f"{v.visit_id}\n{v.token}",
            lines or "-",
            _money(v.receipt.total),
            _payment(v.receipt),
            truth or "-",
            "✓" if v.exact else "✗",
        )
    return table
