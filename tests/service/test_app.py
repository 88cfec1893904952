"""The app as a whole: health, OpenAPI, error shapes, no 500s on bad input, CLI entry points."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect

from walkout.service import cli_add_account, cli_serve, create_app
from walkout.service.accounts import repository as accounts_repository
from walkout.service.db import make_engine
from walkout.service.models import Role

from .conftest import make_settings
from .helpers import PASSWORD, Store, TestClient


def test_health(store: Store) -> None:
    r = store.client.get("/health")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})


def test_openapi_documents_bearer_auth(store: Store) -> None:
    spec = store.client.get("/openapi.json").json()
    assert spec["info"]["title"] == "walkout store service"
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "/gates/{gate}/scan" in spec["paths"]


def test_openapi_declares_422_as_the_error_body(store: Store) -> None:
    """Found by the schemathesis fuzz: 422 was documented as FastAPI's list, sent as ours."""
    spec = store.client.get("/openapi.json").json()
    declared = spec["paths"]["/auth/sign-in"]["post"]["responses"]["422"]
    ref = declared["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    body = spec["components"]["schemas"][ref]
    assert body["properties"]["detail"]["type"] == "string"
    assert set(body["required"]) == {"detail", "code"}
    sent = store.client.post("/auth/sign-in", json={}).json()
    assert set(sent) == {"detail", "code"}
    assert isinstance(sent["detail"], str)


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nowhere", 404, "not_found"),
        ("DELETE", "/health", 405, "method_not_allowed"),
    ],
)
def test_http_errors_have_the_error_shape(
    store: Store, method: str, path: str, status: int, code: str
) -> None:
    r = store.client.request(method, path)
    assert r.status_code == status
    assert r.json()["code"] == code
    assert set(r.json()) == {"detail", "code"}


def test_invalid_json_is_422(store: Store) -> None:
    r = store.client.post(
        "/auth/sign-in", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert (r.status_code, r.json()["code"]) == (422, "invalid_request")


def test_a_lost_race_on_a_unique_column_is_409(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sign-ups with one email at once: the loser's insert fails; it gets a 409, no 500."""
    body = {"email": "race@example.com", "password": PASSWORD}
    assert store.client.post("/auth/sign-up", json=body).status_code == 201
    monkeypatch.setattr(accounts_repository, "get_by_email", lambda session, email: None)
    r = store.client.post("/auth/sign-up", json=body)
    assert (r.status_code, r.json()["code"]) == (409, "conflict")
    monkeypatch.undo()
    assert store.sign_in("race@example.com").status_code == 200  # the winner's row is intact


@pytest.mark.parametrize("where", ["email", "device name", "gate"])
def test_control_characters_are_refused_before_the_database(store: Store, where: str) -> None:
    manager = store.person(Role.MANAGER)
    if where == "email":
        body = {"email": "a\x00b@example.com", "password": PASSWORD}
        r = store.client.post("/auth/sign-up", json=body)
    elif where == "device name":
        r = store.client.post("/devices", json={"name": "gate\x00"}, headers=manager.headers)
    else:
        gate = store.device(manager)
        r = store.client.post("/gates/a%00b/scan", json={"token": "x"}, headers=gate.headers)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_request")


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=10,
)
BODY_KEYS = st.sampled_from(["email", "password", "token", "name", "role", "blocked"])
BODIES = JSON | st.dictionaries(BODY_KEYS, JSON, max_size=3)


@pytest.fixture
def fuzz_targets(store: Store) -> list[tuple[str, str, dict[str, str]]]:
    """(method, path, headers) of each endpoint that takes a body, with a caller allowed to."""
    manager = store.person(Role.MANAGER)
    gate = store.device(manager)
    return [
        ("POST", "/auth/sign-up", {}),
        ("POST", "/auth/sign-in", {}),
        ("POST", "/devices", manager.headers),
        ("PATCH", f"/accounts/{gate.account_id}", manager.headers),
        ("POST", "/gates/entry-1/scan", gate.headers),
    ]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), body=BODIES | st.binary(max_size=50))
def test_bad_bodies_never_cause_a_server_error(
    store: Store, fuzz_targets: list[tuple[str, str, dict[str, str]]], data: Any, body: Any
) -> None:
    method, path, headers = data.draw(st.sampled_from(fuzz_targets))
    payload = {"content": body} if isinstance(body, bytes) else {"json": body}
    headers = {**headers, "content-type": "application/json"}
    r = store.client.request(method, path, headers=headers, **payload)
    assert r.status_code < 500
    if r.status_code >= 400:
        assert set(r.json()) == {"detail", "code"}


def test_cli_serve_migrates_then_serves(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WALKOUT_DATA_DIR", str(tmp_path / "data"))
    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
    cli_serve(port=8123)
    assert isinstance(served["app"], FastAPI)
    assert (served["host"], served["port"]) == ("127.0.0.1", 8123)
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'walkout.db'}")
    try:
        assert "visits" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    assert (tmp_path / "data" / "secret_key").exists()


def test_cli_add_account_bootstraps_a_manager(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WALKOUT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WALKOUT_ARGON2_MEMORY_KIB", "8")
    account_id = cli_add_account("boss@example.com", PASSWORD, Role.MANAGER)
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'walkout.db'}", tmp_path))
    with TestClient(app) as client:
        r = client.post("/auth/sign-in", json={"email": "boss@example.com", "password": PASSWORD})
        token = r.json()["access_token"]
        me = client.get("/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert (me["id"], me["role"]) == (account_id, "manager")
