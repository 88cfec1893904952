"""The store's catalogue as the service needs it: product names and prices, the currency, and
what each product is made of (meal kits)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from walkout.domain.store import Component, Product
from walkout.storefile import load_store


@dataclass(frozen=True)
class Catalogue:
    """Products by SKU, the currency their prices are in (minor units), and the plates each
    product faces on (in store-file order)."""

    store_id: str
    currency: str
    products: Mapping[str, Product]
    facings: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def name(self, sku: str) -> str:
        """The product's name; the SKU itself for a product the store file does not list."""
        product = self.products.get(sku)
        return product.name if product is not None else sku

    def price(self, sku: str) -> int | None:
        """The product's price, or None when the store file does not list it."""
        product = self.products.get(sku)
        return product.price if product is not None else None

    def faces(self, plate: str, sku: str) -> bool:
        """Whether the store file puts ``sku`` on ``plate``."""
        return plate in self.facings.get(sku, ())

    def parts(self, sku: str) -> Sequence[Component]:
        """The shelf products one unit of ``sku`` takes out of stock: a meal kit's components,
        else the product itself."""
        product = self.products.get(sku)
        if product is not None and product.components:
            return product.components
        return (Component(sku=sku, qty=1),)


@functools.cache
def _load(path: Path, mtime_ns: int) -> Catalogue:
    store = load_store(path)
    facings: dict[str, list[str]] = {}
    for facing in store.facings:
        facings.setdefault(facing.sku, []).extend(facing.plates)
    return Catalogue(store.id, store.currency, {p.sku: p for p in store.products}, facings)


def load_catalogue(path: Path) -> Catalogue:
    """The catalogue of the store file at ``path`` (parsed once per file version)."""
    resolved = path.resolve()
    return _load(resolved, resolved.stat().st_mtime_ns)
