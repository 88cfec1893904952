"""What every request can depend on: the service's parts, a database session, the clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from walkout.payments import PaymentProvider
from walkout.service.carts.bus import CartBus
from walkout.service.catalogue import Catalogue
from walkout.service.entry.token import EntryTokenSigner
from walkout.service.errors import DomainError
from walkout.service.floor.live import LiveFloor
from walkout.service.orders.code import PickupCodeSigner
from walkout.service.security import BearerTokens, Passwords
from walkout.service.settings import Settings

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    """The parts of one running service, built once by ``create_app``."""

    settings: Settings
    sessions: sessionmaker[Session]
    clock: Clock
    passwords: Passwords
    bearer: BearerTokens
    entry_signer: EntryTokenSigner
    provider: PaymentProvider
    catalogue: Catalogue
    bus: CartBus
    #: The people on the floor now, as the engine last posted them.
    floor: LiveFloor
    pickup_signer: PickupCodeSigner


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    """One transaction per request: committed when the endpoint returns, else rolled back.

    Declared with ``scope="function"`` so the commit runs before the response is sent and a
    failing commit becomes an error response instead of a lost write.
    """
    with services.sessions() as session:
        try:
            yield session
        except DomainError as e:
            if e.keep_changes:
                session.commit()
            raise
        session.commit()


DbSession = Annotated[Session, Depends(get_session, scope="function")]
