"""The entry QR token and the gate: who is admitted, on which visit, and every refusal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Connection, select

from walkout.service import Settings
from walkout.service.entry.token import EntryToken, EntryTokenSigner
from walkout.service.models import Admission, Role, VisitStatus

from .conftest import make_settings, open_store
from .helpers import Caller, FakeClock, Store


@pytest.fixture
def gate(store: Store) -> Caller:
    return store.device()


def refusal(store: Store, gate: Caller, token: str) -> str:
    r = store.scan(gate, token)
    assert r.status_code == 403, r.text
    code: str = r.json()["code"]
    return code


def test_entry_token_is_short_lived_and_not_cached(store: Store, clock: FakeClock) -> None:
    shopper = store.person()
    r = store.client.get("/entry/token", headers=shopper.headers)
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    issued = datetime.fromisoformat(body["issued_at"])
    expires = datetime.fromisoformat(body["expires_at"])
    assert issued == clock.now
    assert (expires - issued).total_seconds() == 30
    assert body["token"] != store.entry_token(shopper)  # each call rotates


def test_qr_svg_encodes_a_fresh_token(store: Store, clock: FakeClock) -> None:
    shopper = store.person()
    r = store.client.get("/entry/qr.svg", headers=shopper.headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("image/svg+xml")
    assert r.headers["Cache-Control"] == "no-store"
    assert datetime.fromisoformat(r.headers["X-Entry-Token-Expires-At"]) > clock.now
    assert r.text.lstrip().startswith("<?xml")
    assert "<svg" in r.text
    assert "<path" in r.text


def test_scan_opens_a_visit(store: Store, gate: Caller) -> None:
    shopper = store.person()
    r = store.scan(gate, store.entry_token(shopper), gate="entry-2")
    assert r.status_code == 200
    admitted = r.json()
    assert admitted["account_id"] == shopper.account_id
    assert admitted["role"] == "shopper"
    assert admitted["people"] == 1
    assert admitted["new_visit"] is True
    current = store.client.get("/visits/current", headers=shopper.headers).json()
    assert current["id"] == admitted["visit_id"]
    assert current["status"] == "open"
    assert current["entry_gate"] == "entry-2"
    assert current["people"] == 1


def test_a_fresh_token_of_the_same_account_admits_a_group_member(
    store: Store, gate: Caller, clock: FakeClock
) -> None:
    shopper = store.person()
    first = store.scan(gate, store.entry_token(shopper)).json()
    clock.advance(5)
    second = store.scan(gate, store.entry_token(shopper)).json()
    assert second["visit_id"] == first["visit_id"]
    assert (second["people"], second["new_visit"]) == (2, False)
    assert store.client.get("/visits/current", headers=shopper.headers).json()["people"] == 2
    with store.services.sessions() as session:
        admissions = session.scalars(select(Admission)).all()
    assert [a.visit_id for a in admissions] == [first["visit_id"]] * 2


def test_after_a_paid_visit_the_next_scan_opens_a_new_one(store: Store, gate: Caller) -> None:
    shopper = store.person()
    first = store.scan(gate, store.entry_token(shopper)).json()
    store.set_visit_status(first["visit_id"], VisitStatus.PAID)
    second = store.scan(gate, store.entry_token(shopper)).json()
    assert second["new_visit"] is True
    assert second["visit_id"] != first["visit_id"]


def test_no_current_visit_is_404(store: Store) -> None:
    shopper = store.person()
    r = store.client.get("/visits/current", headers=shopper.headers)
    assert (r.status_code, r.json()["code"]) == (404, "no_open_visit")


@pytest.mark.parametrize("role", [Role.STAFF, Role.MANAGER])
def test_staff_enter_as_staff_without_payment_method(
    store: Store, gate: Caller, role: Role
) -> None:
    worker = store.person(role, payment=False)
    r = store.scan(gate, store.entry_token(worker))
    assert r.status_code == 200
    assert r.json()["role"] == "staff"


# One test per refusal reason.


def test_refused_replayed(store: Store, gate: Caller) -> None:
    token = store.entry_token(store.person())
    assert store.scan(gate, token).status_code == 200
    assert refusal(store, gate, token) == "replayed"
    assert refusal(store, store.device(), token) == "replayed"  # at another gate too


def test_refused_expired(store: Store, gate: Caller, clock: FakeClock) -> None:
    token = store.entry_token(store.person())
    clock.advance(29.999)
    fresh = store.entry_token(store.person())
    clock.advance(0.001)
    assert refusal(store, gate, token) == "expired"
    assert store.scan(gate, fresh).status_code == 200


@pytest.mark.parametrize("how", ["tampered", "truncated", "garbage", "other-key"])
def test_refused_forged(store: Store, gate: Caller, clock: FakeClock, how: str) -> None:
    shopper = store.person()
    token = store.entry_token(shopper)
    foreign = EntryTokenSigner.from_secret(b"another key" * 4)
    forged = {
        "tampered": token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),
        "truncated": token[:-1],
        "garbage": "hello",
        "other-key": foreign.sign(
            EntryToken.issue(shopper.account_id, clock.now, timedelta(seconds=30))
        ),
    }[how]
    assert refusal(store, gate, forged) == "forged"
    assert store.scan(gate, token).status_code == 200


def test_refused_revoked_after_sign_out_everywhere(store: Store, gate: Caller) -> None:
    shopper = store.person()
    token = store.entry_token(shopper)
    r = store.client.post("/auth/sign-out", params={"everywhere": True}, headers=shopper.headers)
    assert r.status_code == 204
    assert refusal(store, gate, token) == "revoked"


def test_plain_sign_out_leaves_entry_tokens_valid(store: Store, gate: Caller) -> None:
    shopper = store.person()
    token = store.entry_token(shopper)
    assert store.client.post("/auth/sign-out", headers=shopper.headers).status_code == 204
    assert store.scan(gate, token).status_code == 200


def test_refused_blocked(store: Store, gate: Caller) -> None:
    shopper = store.person()
    token = store.entry_token(shopper)
    store.edit_account(shopper.account_id, blocked=True)
    assert refusal(store, gate, token) == "blocked"


def test_refused_no_payment_method(store: Store, gate: Caller) -> None:
    shopper = store.person(payment=False)
    assert refusal(store, gate, store.entry_token(shopper)) == "no_payment_method"
    store.edit_account(shopper.account_id, has_payment_method=True)
    assert store.scan(gate, store.entry_token(shopper)).status_code == 200


def test_refused_unpaid_visit(store: Store, gate: Caller) -> None:
    shopper = store.person()
    visit = store.scan(gate, store.entry_token(shopper)).json()
    store.set_visit_status(visit["visit_id"], VisitStatus.UNPAID)
    assert refusal(store, gate, store.entry_token(shopper)) == "unpaid_visit"
    store.set_visit_status(visit["visit_id"], VisitStatus.PAID)
    assert store.scan(gate, store.entry_token(shopper)).status_code == 200


@pytest.fixture
def staff_only_store(
    settings: Settings, clock: FakeClock, connection: Connection
) -> Iterator[Store]:
    staff_only = make_settings(settings.db_url, settings.data_dir, access_policy="staff_only")
    with open_store(staff_only, clock, connection) as store:
        yield store


def test_refused_staff_only(staff_only_store: Store) -> None:
    store = staff_only_store
    gate = store.device()
    assert refusal(store, gate, store.entry_token(store.person())) == "staff_only"
    assert store.scan(gate, store.entry_token(store.person(Role.STAFF))).status_code == 200


def test_a_refused_token_is_not_consumed(store: Store, gate: Caller) -> None:
    shopper = store.person(payment=False)
    token = store.entry_token(shopper)
    assert refusal(store, gate, token) == "no_payment_method"
    store.edit_account(shopper.account_id, has_payment_method=True)
    assert store.scan(gate, token).status_code == 200


def entry_status(store: Store, person: Caller) -> dict[str, object]:
    r = store.client.get("/entry/status", headers=person.headers)
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def test_entry_status_tells_the_app_what_the_gate_would_say(store: Store, gate: Caller) -> None:
    shopper = store.person(payment=False)
    status = entry_status(store, shopper)
    assert status["allowed"] is False
    assert status["code"] == refusal(store, gate, store.entry_token(shopper))
    assert status["code"] == "no_payment_method"
    store.edit_account(shopper.account_id, has_payment_method=True)
    assert entry_status(store, shopper) == {"allowed": True, "code": None, "detail": None}
    visit = store.scan(gate, store.entry_token(shopper)).json()
    store.set_visit_status(visit["visit_id"], VisitStatus.UNPAID)
    status = entry_status(store, shopper)
    assert (status["allowed"], status["code"]) == (False, "unpaid_visit")
    assert status["detail"] == "a previous visit is not paid"


def test_entry_status_of_staff_only_store(staff_only_store: Store) -> None:
    store = staff_only_store
    assert entry_status(store, store.person())["code"] == "staff_only"
    assert entry_status(store, store.person(Role.STAFF, payment=False))["allowed"] is True


def test_entry_status_of_a_blocked_account_is_the_guards_403(store: Store) -> None:
    shopper = store.person()
    store.edit_account(shopper.account_id, blocked=True)
    r = store.client.get("/entry/status", headers=shopper.headers)
    assert (r.status_code, r.json()["code"]) == (403, "account_blocked")
