"""Request and response bodies of the accounts endpoints."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from walkout.service.fields import Label
from walkout.service.models import Role

_PART = r"[^@\s\x00-\x1f\x7f]"
_EMAIL = re.compile(rf"{_PART}+@{_PART}+\.{_PART}+")


def _email(value: str) -> str:
    value = value.strip().lower()
    if not _EMAIL.fullmatch(value):
        raise ValueError("not an email address")
    return value


Email = Annotated[str, Field(max_length=320), AfterValidator(_email)]
Password = Annotated[str, Field(min_length=10, max_length=256)]
PersonRole = Literal[Role.SHOPPER, Role.STAFF, Role.MANAGER]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignUp(_Request):
    email: Email
    password: Password = Field(description="At least 10 characters.")


class SignIn(_Request):
    email: Email
    password: Annotated[str, Field(max_length=256)]


class AccountUpdate(_Request):
    """A manager's change to a person's account; omitted fields stay as they are."""

    role: PersonRole | None = None
    blocked: bool | None = None


class DeviceCreate(_Request):
    name: Label = Field(description="e.g. 'entry-1'.")


class AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str | None
    name: str | None
    role: Role
    blocked: bool
    has_payment_method: bool = Field(
        description="Whether a payment method is on file (set by the payments module); "
        "the entry gates admit shoppers only with one."
    )
    created_at: datetime


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime | None


class DeviceCreated(BaseModel):
    account: AccountRead
    token: TokenRead = Field(description="Shown once: only its hash is stored.")
