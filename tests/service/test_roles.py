"""Every endpoint declares who may call it; the whole matrix is walked over HTTP."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from walkout.service.auth import PublicAccess, RoleGuard
from walkout.service.models import Role

from .helpers import Store

S, T, M, D = Role.SHOPPER, Role.STAFF, Role.MANAGER, Role.DEVICE
PUBLIC = None
#: (method, path) -> the roles allowed, or PUBLIC. A new endpoint must be added here.
MATRIX: dict[tuple[str, str], frozenset[Role] | None] = {
    ("GET", "/health"): PUBLIC,
    ("POST", "/auth/sign-up"): PUBLIC,
    ("POST", "/auth/sign-in"): PUBLIC,
    ("POST", "/auth/sign-out"): frozenset({S, T, M}),
    ("GET", "/me"): frozenset({S, T, M, D}),
    ("POST", "/devices"): frozenset({M}),
    ("PATCH", "/accounts/{account_id}"): frozenset({M}),
    ("GET", "/entry/token"): frozenset({S, T, M}),
    ("GET", "/entry/qr.svg"): frozenset({S, T, M}),
    ("GET", "/entry/status"): frozenset({S, T, M}),
    ("POST", "/gates/{gate}/scan"): frozenset({D}),
    ("GET", "/visits/current"): frozenset({S, T, M}),
    ("POST", "/cards/ledger-token"): frozenset({S, T, M}),
    ("POST", "/cards"): frozenset({S, T, M}),
    ("GET", "/cards"): frozenset({S, T, M}),
    ("DELETE", "/cards/{card_id}"): frozenset({S, T, M}),
    ("POST", "/events"): frozenset({D}),
    ("GET", "/visits/current/cart"): frozenset({S, T, M}),
    ("GET", "/staff/visits/{visit_id}/cart"): frozenset({T, M}),
    ("GET", "/visits/current/events"): frozenset({S, T, M}),
    ("POST", "/visits/{visit_id}/settle"): frozenset({S, T, M}),
    ("GET", "/staff/reviews"): frozenset({T, M}),
    ("POST", "/staff/receipts/{receipt_id}/approve"): frozenset({T, M}),
    ("POST", "/staff/receipts/{receipt_id}/correct"): frozenset({T, M}),
    ("POST", "/staff/payments/resume"): frozenset({M}),
    ("GET", "/receipts"): frozenset({S, T, M}),
    ("GET", "/receipts/{receipt_id}"): frozenset({S, T, M}),
    ("POST", "/receipts/{receipt_id}/disputes"): frozenset({S, T, M}),
    ("GET", "/staff/disputes"): frozenset({T, M}),
    ("POST", "/staff/disputes/{dispute_id}/approve"): frozenset({T, M}),
    ("POST", "/staff/disputes/{dispute_id}/deny"): frozenset({T, M}),
    ("GET", "/staff/inventory"): frozenset({T, M}),
    ("PUT", "/staff/inventory/{plate}/{sku}"): frozenset({T, M}),
    ("GET", "/staff/tasks"): frozenset({T, M}),
    ("POST", "/staff/tasks/{task_id}/done"): frozenset({T, M}),
    ("POST", "/staff/visits/{visit_id}/age-check"): frozenset({T, M}),
    ("GET", "/me/consent"): frozenset({S, T, M}),
    ("PUT", "/me/consent"): frozenset({S, T, M}),
    ("GET", "/me/export"): frozenset({S, T, M}),
    ("DELETE", "/me"): frozenset({S, T, M}),
    ("GET", "/me/suggestions"): frozenset({S, T, M}),
    ("GET", "/staff/analytics"): frozenset({T, M}),
    ("GET", "/staff/analytics/products.csv"): frozenset({T, M}),
    ("GET", "/staff/analytics/hours.csv"): frozenset({T, M}),
    ("GET", "/catalog"): frozenset({S, T, M}),
    ("GET", "/pickup/slots"): frozenset({S, T, M}),
    ("POST", "/orders"): frozenset({S}),
    ("GET", "/orders"): frozenset({S}),
    ("GET", "/orders/{order_id}"): frozenset({S}),
    ("GET", "/orders/{order_id}/pickup-code"): frozenset({S}),
    ("GET", "/orders/{order_id}/pickup-qr.svg"): frozenset({S}),
    ("POST", "/orders/{order_id}/cancel"): frozenset({S}),
    ("GET", "/staff/orders"): frozenset({T, M}),
    ("GET", "/staff/orders/{order_id}"): frozenset({T, M}),
    ("POST", "/staff/orders/{order_id}/picking"): frozenset({T, M}),
    ("POST", "/staff/orders/{order_id}/ready"): frozenset({T, M}),
    ("POST", "/staff/orders/{order_id}/cancel"): frozenset({T, M}),
    ("POST", "/pickup/handover"): frozenset({T, M, D}),
    ("POST", "/staff/orders/expire"): frozenset({M}),
    ("POST", "/floor"): frozenset({D}),
    ("GET", "/staff/floor"): frozenset({T, M}),
    ("GET", "/store/layout"): frozenset({T, M}),
    ("GET", "/staff/plates/{plate}"): frozenset({T, M}),
    ("GET", "/staff/analytics/heatmap"): frozenset({T, M}),
}
#: A value for each path parameter: an id that does not exist.
PATH_VALUES = {
    "account_id": 10**9,
    "gate": "entry-1",
    "card_id": 10**9,
    "visit_id": 10**9,
    "receipt_id": 10**9,
    "dispute_id": 10**9,
    "plate": "no-plate",
    "sku": "no-sku",
    "task_id": 10**9,
    "order_id": 10**9,
}


def _guards(dependant: Dependant) -> list[RoleGuard | PublicAccess]:
    found = [dependant.call] if isinstance(dependant.call, RoleGuard | PublicAccess) else []
    for sub in dependant.dependencies:
        found += _guards(sub)
    return found


def declared(route: APIRoute) -> frozenset[Role] | None:
    guards = set(_guards(route.dependant))
    assert len(guards) == 1, f"{route.path} must declare exactly one role guard: {guards}"
    (guard,) = guards
    return guard.roles if isinstance(guard, RoleGuard) else PUBLIC


def api_routes(store: Store) -> list[tuple[str, str, APIRoute]]:
    """(method, path, route) of every endpoint, included routers' too."""
    app = store.client.app
    assert isinstance(app, FastAPI)
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path is not None:
            found += [(method, context.path, route) for method in sorted(route.methods or ())]
    return found


def test_every_endpoint_declares_the_role_in_the_matrix(store: Store) -> None:
    assert {(m, p): declared(r) for m, p, r in api_routes(store)} == MATRIX
    spec = store.client.get("/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert documented == set(MATRIX)


def test_the_matrix_holds_over_http(store: Store) -> None:
    outcomes = []
    for method, template, _ in api_routes(store):
        allowed = MATRIX[(method, template)]
        path = template.format(**PATH_VALUES)
        for role in [None, *Role]:
            headers = {} if role is None else store.caller(role).headers
            r = store.client.request(method, path, json={}, headers=headers)
            json_body = r.content and r.headers["content-type"] == "application/json"
            body = r.json() if json_body else None
            code = body.get("code") if isinstance(body, dict) else None
            if allowed is PUBLIC or (role is not None and role in allowed):
                expected = "allowed"
            elif role is None:
                expected = "not_authenticated"
            else:
                expected = "forbidden"
            got = code if code in ("not_authenticated", "forbidden") else "allowed"
            outcomes.append((method, template, role, expected, got))
    wrong = [o for o in outcomes if o[3] != o[4]]
    assert wrong == []
    assert len(outcomes) == len(MATRIX) * (len(Role) + 1)
