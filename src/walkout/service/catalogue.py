"""The store's catalogue as the service needs it: product names and prices, and the currency."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from walkout.domain.store import Product
from walkout.storefile import load_store


@dataclass(frozen=True)
class Catalogue:
    """Products by SKU and the currency their prices are in (minor units)."""

    store_id: str
    currency: str
    products: Mapping[str, Product]

    def name(self, sku: str) -> str:
        """The product's name; the SKU itself for a product the store file does not list."""
        product = self.products.get(sku)
        return product.name if product is not None else sku

    def price(self, sku: str) -> int | None:
        """The product's price, or None when the store file does not list it."""
        product = self.products.get(sku)
        return product.price if product is not None else None


@functools.cache
def _load(path: Path, mtime_ns: int) -> Catalogue:
    store = load_store(path)
    return Catalogue(store.id, store.currency, {p.sku: p for p in store.products})


def load_catalogue(path: Path) -> Catalogue:
    """The catalogue of the store file at ``path`` (parsed once per file version)."""
    resolved = path.resolve()
    return _load(resolved, resolved.stat().st_mtime_ns)
