"""Domain errors: each carries its HTTP status and a machine-readable code."""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A refusal the client can act on; the app answers ``{"detail": ..., "code": ...}``."""

    status: int = 400
    code: str = "bad_request"
    #: True when the request's changes must be committed although it fails (a counted failure).
    keep_changes: ClassVar[bool] = False

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"

    def __init__(self, detail: str = "a valid bearer token is required") -> None:
        super().__init__(detail, {"WWW-Authenticate": "Bearer"})


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class AccountBlocked(DomainError):
    status = 403
    code = "account_blocked"

    def __init__(self) -> None:
        super().__init__("this account is blocked")


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
