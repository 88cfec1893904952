"""Stock for order ahead: what can be ordered, and taking sold units off the facings.

A product offers the units on its facings (the inventory's counts; a facing staff never counted
offers ``pickup_uncounted_units``) less the units open orders reserve. A meal kit offers as
many kits as its scarcest component allows. Selling a kit takes its components (the kit is
assembled from them); the kit's own facing, if it has one, moves with the engine's events like
any product's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from walkout.service.catalogue import Catalogue
from walkout.service.deps import Services
from walkout.service.inventory import repository as inventory_repository
from walkout.service.inventory import service as inventory
from walkout.service.models import Receipt, Stock
from walkout.service.orders import repository
from walkout.service.receipts import repository as receipts_repository


@dataclass(frozen=True)
class Availability:
    """Units free for order ahead, per shelf product, at one moment."""

    catalogue: Catalogue
    free: Mapping[str, int]

    def units(self, sku: str) -> int:
        """Free units of a shelf product."""
        return self.free.get(sku, 0)

    def of_product(self, sku: str) -> int:
        """Units of ``sku`` that can be ordered: a kit counts the kits its components make."""
        return min(self.units(part.sku) // part.qty for part in self.catalogue.parts(sku))


@dataclass(frozen=True)
class Shortage:
    """A shelf product an order needs more of than is free."""

    sku: str
    wanted: int
    free: int


def availability(session: Session, services: Services) -> Availability:
    """What can be ordered now."""
    rows = {(r.plate, r.sku): r for r in inventory_repository.all_stock(session)}
    uncounted = services.settings.pickup_uncounted_units
    on_facings: dict[str, int] = {}
    for sku, plates in services.catalogue.facings.items():
        for plate in plates:
            row = rows.get((plate, sku))
            units = row.units if row is not None and row.units is not None else uncounted
            on_facings[sku] = on_facings.get(sku, 0) + units
    held = repository.reserved(session)
    free = {sku: max(0, units - held.get(sku, 0)) for sku, units in on_facings.items()}
    return Availability(services.catalogue, free)


class Counted(Protocol):
    """Something sold in a quantity: an order line, a receipt line."""

    @property
    def sku(self) -> str: ...

    @property
    def qty(self) -> int: ...


def needs(catalogue: Catalogue, items: Iterable[Counted]) -> dict[str, int]:
    """Shelf units that selling ``items`` takes, meal kits expanded, per product."""
    units: dict[str, int] = {}
    for item in items:
        for part in catalogue.parts(item.sku):
            units[part.sku] = units.get(part.sku, 0) + part.qty * item.qty
    return units


def shortages(free: Availability, wanted: Mapping[str, int]) -> list[Shortage]:
    """The products of ``wanted`` (shelf units) that are not all free, by SKU."""
    return [
        Shortage(sku, qty, free.units(sku))
        for sku, qty in sorted(wanted.items())
        if qty > free.units(sku)
    ]


def take(session: Session, services: Services, sku: str, qty: int) -> None:
    """Take ``qty`` sold units of a shelf product off its counted facings, in store-file order,
    never below zero; restock tasks follow as for any count. Uncounted facings stay unknown."""
    left = qty
    for plate in services.catalogue.facings.get(sku, ()):
        if left == 0:
            return
        row: Stock | None = inventory_repository.lock_stock(session, plate, sku)
        if row is None or row.units is None or row.units == 0:
            continue
        taken = min(row.units, left)
        inventory.set_count(session, services, plate, sku, row.units - taken, row.threshold)
        left -= taken


def on_receipt(session: Session, services: Services, receipt: Receipt) -> None:
    """A walk-out receipt was issued: take the components of the meal kits it sold."""
    products = services.catalogue.products
    lines = receipts_repository.lines(session, receipt.id)
    kits = [line for line in lines if (p := products.get(line.sku)) is not None and p.is_kit]
    for sku, qty in needs(services.catalogue, kits).items():
        take(session, services, sku, qty)
