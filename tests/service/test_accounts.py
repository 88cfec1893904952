"""Accounts over HTTP: sign-up, sign-in and its rate limit, sign-out, devices, managers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, select

from walkout.service import Settings
from walkout.service.models import Account, ApiToken, Role

from .conftest import make_settings, open_store
from .helpers import PASSWORD, FakeClock, Store


def test_sign_up_makes_a_shopper_without_payment_method(store: Store) -> None:
    r = store.client.post(
        "/auth/sign-up", json={"email": " Ann@Example.COM ", "password": PASSWORD}
    )
    assert r.status_code == 201
    body = r.json()
    assert body["email"] == "ann@example.com"
    assert body["role"] == "shopper"
    assert body["has_payment_method"] is False
    assert body["blocked"] is False
    assert "password" not in str(body)


def test_password_is_stored_as_argon2id(store: Store) -> None:
    caller = store.person()
    with store.services.sessions() as session:
        account = session.get(Account, caller.account_id)
        assert account is not None
        assert account.password_hash is not None
        assert account.password_hash.startswith("$argon2id$")
        assert PASSWORD not in account.password_hash


def test_sign_up_twice_is_a_conflict(store: Store) -> None:
    body = {"email": "bob@example.com", "password": PASSWORD}
    assert store.client.post("/auth/sign-up", json=body).status_code == 201
    body["email"] = "BOB@example.com"
    r = store.client.post("/auth/sign-up", json=body)
    assert (r.status_code, r.json()["code"]) == (409, "email_taken")


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "a@example.com", "password": "short"},
        {"email": "a@example.com"},
        {"email": "a@example.com", "password": PASSWORD, "role": "manager"},
    ],
)
def test_sign_up_rejects_bad_input(store: Store, body: dict[str, str]) -> None:
    r = store.client.post("/auth/sign-up", json=body)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_request"
    assert r.json()["detail"]


def test_sign_in_token_authenticates_and_expires(store: Store, clock: FakeClock) -> None:
    caller = store.person()
    r = store.client.get("/me", headers=caller.headers)
    assert r.status_code == 200
    assert r.json()["id"] == caller.account_id
    assert caller.token.startswith("wo_s_")
    clock.advance(store.services.settings.session_ttl.total_seconds())
    r = store.client.get("/me", headers=caller.headers)
    assert (r.status_code, r.json()["code"]) == (401, "not_authenticated")
    assert r.headers["WWW-Authenticate"] == "Bearer"


def test_only_the_token_hash_is_stored(store: Store) -> None:
    caller = store.person()
    with store.services.sessions() as session:
        stored = list(session.scalars(select(ApiToken.token_hash)))
    assert caller.token not in stored
    assert store.services.bearer.hash(caller.token) in stored


def test_wrong_password_and_unknown_email_look_the_same(store: Store) -> None:
    caller = store.person()
    email = store.client.get("/me", headers=caller.headers).json()["email"]
    wrong = store.sign_in(email, "wrong password!")
    unknown = store.sign_in("nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "detail": "wrong email or password",
            "code": "invalid_credentials",
        }
    )


def test_sign_in_is_rate_limited_per_account(store: Store, clock: FakeClock) -> None:
    caller = store.person()
    email = store.client.get("/me", headers=caller.headers).json()["email"]
    for _ in range(5):
        clock.advance(10)
        assert store.sign_in(email, "wrong password!").status_code == 401
    clock.advance(10)
    r = store.sign_in(email)  # even the right password waits
    assert (r.status_code, r.json()["code"]) == (429, "too_many_attempts")
    # The first failure, 50 s ago, leaves the 5-minute window in 250 s.
    assert r.headers["Retry-After"] == "250"
    clock.advance(250)
    assert store.sign_in(email).status_code == 200


@pytest.fixture
def other_client_store(
    settings: Settings, clock: FakeClock, connection: Connection
) -> Iterator[Store]:
    with open_store(settings, clock, connection, client=("203.0.113.9", 4000)) as store:
        yield store


def test_sign_in_is_rate_limited_per_client(store: Store, other_client_store: Store) -> None:
    for n in range(5):
        assert store.sign_in(f"guess{n}@example.com", "wrong password!").status_code == 401
    email = "fresh@example.com"  # an account with no failures of its own
    store.client.post("/auth/sign-up", json={"email": email, "password": PASSWORD})
    r = store.sign_in(email)
    assert (r.status_code, r.json()["code"]) == (429, "too_many_attempts")
    assert r.headers["Retry-After"] == "300"
    assert other_client_store.sign_in(email).status_code == 200


def test_success_clears_the_account_count_not_the_client_count(
    store: Store, other_client_store: Store
) -> None:
    caller = store.person()
    email = store.client.get("/me", headers=caller.headers).json()["email"]
    for _ in range(4):
        assert store.sign_in(email, "wrong password!").status_code == 401
    assert store.sign_in(email).status_code == 200
    # The account starts over: four more failures (from elsewhere) still leave it open ...
    for _ in range(4):
        assert other_client_store.sign_in(email, "wrong password!").status_code == 401
    assert other_client_store.sign_in(email).status_code == 200
    # ... while the first client has spent its five.
    assert store.sign_in("x@example.com", "wrong password!").status_code == 401
    assert store.sign_in(email).status_code == 429


def test_sign_out_ends_only_this_sign_in(store: Store) -> None:
    first = store.person()
    email = store.client.get("/me", headers=first.headers).json()["email"]
    second = store.sign_in(email).json()["access_token"]
    assert store.client.post("/auth/sign-out", headers=first.headers).status_code == 204
    assert store.client.get("/me", headers=first.headers).status_code == 401
    assert store.client.get("/me", headers={"Authorization": f"Bearer {second}"}).status_code == 200


def test_sign_out_everywhere_ends_every_sign_in(store: Store) -> None:
    first = store.person()
    email = store.client.get("/me", headers=first.headers).json()["email"]
    second = store.sign_in(email).json()["access_token"]
    r = store.client.post("/auth/sign-out", params={"everywhere": True}, headers=first.headers)
    assert r.status_code == 204
    assert store.client.get("/me", headers=first.headers).status_code == 401
    assert store.client.get("/me", headers={"Authorization": f"Bearer {second}"}).status_code == 401


def test_blocked_account_cannot_sign_in_or_use_its_token(store: Store) -> None:
    caller = store.person()
    email = store.client.get("/me", headers=caller.headers).json()["email"]
    store.edit_account(caller.account_id, blocked=True)
    r = store.client.get("/me", headers=caller.headers)
    assert (r.status_code, r.json()["code"]) == (403, "account_blocked")
    r = store.sign_in(email)
    assert (r.status_code, r.json()["code"]) == (403, "account_blocked")


@pytest.mark.parametrize("header", ["Bearer", "Bearer wo_s_nope", "Basic dXNlcjpwdw==", "x"])
def test_bad_authorization_header_is_401(store: Store, header: str) -> None:
    r = store.client.get("/me", headers={"Authorization": header})
    assert (r.status_code, r.json()["code"]) == (401, "not_authenticated")


def test_manager_creates_a_device_whose_token_never_expires(store: Store, clock: FakeClock) -> None:
    device = store.device()
    assert device.token.startswith("wo_d_")
    clock.advance(10 * 365 * 86400)
    r = store.client.get("/me", headers=device.headers)
    assert r.status_code == 200
    assert r.json()["role"] == "device"
    assert r.json()["email"] is None
    assert r.json()["name"] == "entry-1"


def test_device_cannot_sign_in_with_a_password(store: Store) -> None:
    store.device()
    assert store.sign_in("entry-1", PASSWORD).status_code == 422  # not even an email


def test_manager_promotes_and_blocks(store: Store) -> None:
    manager = store.person(Role.MANAGER)
    shopper = store.person()
    url = f"/accounts/{shopper.account_id}"
    r = store.client.patch(url, json={"role": "staff"}, headers=manager.headers)
    assert (r.status_code, r.json()["role"]) == (200, "staff")
    r = store.client.patch(url, json={"blocked": True}, headers=manager.headers)
    assert (r.status_code, r.json()["blocked"], r.json()["role"]) == (200, True, "staff")
    assert store.client.get("/me", headers=shopper.headers).status_code == 403


@pytest.mark.parametrize(
    ("target", "body", "status", "code"),
    [
        ("self", {"blocked": True}, 409, "conflict"),
        ("device", {"role": "staff"}, 409, "conflict"),
        ("missing", {"blocked": True}, 404, "not_found"),
        ("huge", {"blocked": True}, 422, "invalid_request"),
        ("shopper", {"role": "device"}, 422, "invalid_request"),
        ("shopper", {"role": "owner"}, 422, "invalid_request"),
    ],
)
def test_manager_changes_that_are_refused(
    store: Store, target: str, body: dict[str, object], status: int, code: str
) -> None:
    manager = store.person(Role.MANAGER)
    ids = {
        "self": manager.account_id,
        "device": store.device(manager).account_id,
        "missing": 10**9,
        "huge": 2**40,
        "shopper": store.person().account_id,
    }
    r = store.client.patch(f"/accounts/{ids[target]}", json=body, headers=manager.headers)
    assert (r.status_code, r.json()["code"]) == (status, code)


def test_sign_in_rehashes_a_password_hashed_with_old_parameters(
    settings: Settings, clock: FakeClock, connection: Connection
) -> None:
    with open_store(settings, clock, connection) as cheap:
        caller = cheap.person()
        email = cheap.client.get("/me", headers=caller.headers).json()["email"]
    stronger = make_settings(settings.db_url, settings.data_dir, argon2_time_cost=2)
    with open_store(stronger, clock, connection) as store:
        assert store.sign_in(email).status_code == 200
        with store.services.sessions() as session:
            account = session.get(Account, caller.account_id)
            assert account is not None
            assert account.password_hash is not None
            assert ",t=2," in account.password_hash
