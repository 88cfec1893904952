"""The store service's web app: ``create_app`` and ``cli_serve``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from walkout.payments import PaymentProvider
from walkout.service.accounts import service as accounts_service
from walkout.service.accounts.endpoints import router as accounts_router
from walkout.service.accounts.schemas import PersonRole
from walkout.service.agecheck.endpoints import router as agecheck_router
from walkout.service.analytics.endpoints import router as analytics_router
from walkout.service.auth import PUBLIC
from walkout.service.billing import service as billing_service
from walkout.service.billing.endpoints import router as billing_router
from walkout.service.billing.provider import make_provider
from walkout.service.cards.endpoints import router as cards_router
from walkout.service.carts.bus import make_bus
from walkout.service.carts.consumer import running as cart_adapters
from walkout.service.carts.endpoints import router as carts_router
from walkout.service.catalogue import load_catalogue
from walkout.service.db import make_engine, make_sessionmaker, ping, upgrade_head
from walkout.service.deps import Clock, DbSession, Services, system_clock
from walkout.service.disputes import service as disputes_service
from walkout.service.disputes.endpoints import router as disputes_router
from walkout.service.entry.endpoints import router as entry_router
from walkout.service.entry.token import EntryTokenSigner
from walkout.service.errors import DomainError
from walkout.service.floor import service as floor_service
from walkout.service.floor.endpoints import router as floor_router
from walkout.service.floor.live import LiveFloor
from walkout.service.inventory.endpoints import router as inventory_router
from walkout.service.orders import service as orders_service
from walkout.service.orders.code import PickupCodeSigner
from walkout.service.orders.endpoints import router as orders_router
from walkout.service.orders.sweeper import sweeping
from walkout.service.privacy.endpoints import router as privacy_router
from walkout.service.receipts.endpoints import router as receipts_router
from walkout.service.security import BearerTokens, Passwords
from walkout.service.settings import Settings, ensure_secret_key
from walkout.service.suggestions.endpoints import router as suggestions_router
from walkout.service.visits.endpoints import router as visits_router
from walkout.service.web import mount_web_apps

_HTTP_CODES = {401: "not_authenticated", 404: "not_found", 405: "method_not_allowed"}


def _error(
    status: int, detail: str, code: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status, headers=headers)


def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return _error(exc.status, exc.detail, exc.code, exc.headers)


def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return _error(422, problems or "invalid request", "invalid_request")


def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    return _error(exc.status_code, str(exc.detail), code, exc.headers)


def _integrity_error(_: Request, exc: Exception) -> JSONResponse:
    return _error(409, "a concurrent request changed the same data: retry", "conflict")


class ErrorBody(BaseModel):
    """The body of every error response, 422 included."""

    detail: str
    code: str


def _declare_error_body(app: FastAPI) -> None:
    """Make the OpenAPI document describe 422 answers as they are sent: an ``ErrorBody``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = FastAPI.openapi(app)
            components = document.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in components:
                components["HTTPValidationError"] = ErrorBody.model_json_schema()
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


class Health(BaseModel):
    status: Literal["ok"]


def build_services(
    settings: Settings,
    bind: Engine | Connection,
    clock: Clock = system_clock,
    provider: PaymentProvider | None = None,
) -> Services:
    """The service's parts over the database ``bind``; the provider the settings choose unless
    ``provider`` is given."""
    secret = ensure_secret_key(settings)
    catalogue = load_catalogue(settings.store_file)
    return Services(
        settings=settings,
        sessions=make_sessionmaker(bind),
        clock=clock,
        passwords=Passwords.from_settings(settings),
        bearer=BearerTokens.from_secret(secret),
        entry_signer=EntryTokenSigner.from_secret(secret),
        provider=provider if provider is not None else make_provider(settings),
        catalogue=catalogue,
        bus=make_bus(settings, catalogue.store_id),
        floor=LiveFloor(),
        pickup_signer=PickupCodeSigner.from_secret(secret),
    )


def resume_all(services: Services) -> None:
    """Move on the payments and refunds that a stop or an outage left half-way; mark orders
    not collected in time as no-shows."""
    billing_service.resume(services)
    disputes_service.resume(services)
    orders_service.sweep(services)


def create_app(
    settings: Settings,
    clock: Clock = system_clock,
    *,
    bind: Engine | Connection | None = None,
    provider: PaymentProvider | None = None,
) -> FastAPI:
    """The store service over the database in ``settings``, which must be migrated already.

    ``bind``, when given, is used instead of an engine of the app's own (and left open);
    ``provider`` instead of the one the settings choose. Starting resumes unfinished payments.
    """
    owned: Engine | None = None
    if bind is None:
        bind = owned = make_engine(settings.db_url)
    services = build_services(settings, bind, clock, provider)

    @asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(resume_all, services)
        async with (
            cart_adapters(services) as consumer,  # the NATS bus, the event log
            sweeping(services),  # no-shows expire while the service runs
        ):
            started.state.event_log_consumer = consumer
            yield
        await run_in_threadpool(floor_service.write_dwell, services)
        if owned is not None:
            owned.dispose()

    app = FastAPI(
        title="walkout store service",
        version="0.1.0",
        summary="Accounts, entry QR tokens, gate admission, live carts, walk-out payment, "
        "receipts and disputes of a walk-out store.",
        lifespan=lifespan,
    )
    app.state.services = services
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.include_router(accounts_router)
    app.include_router(entry_router)
    app.include_router(visits_router)
    app.include_router(cards_router)
    app.include_router(carts_router)
    app.include_router(billing_router)
    app.include_router(receipts_router)
    app.include_router(disputes_router)
    app.include_router(inventory_router)
    app.include_router(agecheck_router)
    app.include_router(orders_router)
    app.include_router(privacy_router)
    app.include_router(suggestions_router)
    app.include_router(analytics_router)
    app.include_router(floor_router)
    _declare_error_body(app)

    @app.get("/health", dependencies=[PUBLIC], tags=["service"], summary="Liveness and database")
    def health(session: DbSession) -> Health:
        ping(session)
        return Health(status="ok")

    mount_web_apps(app)  # after every API route, so that API paths take precedence
    return app


def cli_serve(port: int = 8000, host: str = "127.0.0.1") -> None:
    """``walkout serve``: migrate the database to the latest schema, then serve HTTP."""
    import uvicorn

    settings = Settings()
    upgrade_head(settings)
    uvicorn.run(create_app(settings), host=host, port=port)


def cli_add_account(email: str, password: str, role: PersonRole) -> int:
    """``walkout service add-account``: create a person's account (the first manager); its id."""
    settings = Settings()
    upgrade_head(settings)
    engine = make_engine(settings.db_url)
    try:
        services = build_services(settings, engine)
        with services.sessions.begin() as session:
            account = accounts_service.create_person(session, services, email, password, role)
            return account.id
    finally:
        engine.dispose()
