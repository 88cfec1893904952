"""Pure scoring of a shopper's own baskets: favourites to re-order and items bought together.

No I/O: the service reads the baskets, these functions rank them, and property tests pin the
rules down. A basket counts by how long ago it was bought, halving every ``half_life``, so a
habit that stopped fades and this month's shopping leads.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

#: A basket this old counts half as much as one bought now.
HALF_LIFE = timedelta(days=30)
#: Two products are "bought together" only when they shared at least this many baskets: once is
#: a coincidence.
MIN_PAIR_BASKETS = 2


@dataclass(frozen=True)
class Basket:
    """What a shopper took home once (a receipt or a picked-up order): units per SKU."""

    at: datetime
    items: Mapping[str, int]


@dataclass(frozen=True)
class Favourite:
    """A product the shopper buys again and again."""

    sku: str
    score: float
    baskets: int
    units: int
    last_bought: datetime


@dataclass(frozen=True)
class Pair:
    """Two products (``first`` < ``second``) the shopper often buys in the same basket."""

    first: str
    second: str
    score: float
    baskets: int


def weight(at: datetime, now: datetime, half_life: timedelta = HALF_LIFE) -> float:
    """How much a basket bought at ``at`` counts at ``now``: 1 now, ½ one half-life ago; a
    basket dated after ``now`` (clock skew) counts 1, never more."""
    age = max(timedelta(0), now - at)
    return float(0.5 ** (age / half_life))


def _bought(basket: Basket) -> list[str]:
    return sorted(sku for sku, qty in basket.items.items() if qty > 0)


def favourites(
    baskets: Iterable[Basket], now: datetime, limit: int, half_life: timedelta = HALF_LIFE
) -> list[Favourite]:
    """The ``limit`` products bought most often, recency weighted, best first.

    The score is the weighted number of baskets holding the product, not its units: the bread
    bought every week is a better re-order than the twelve cans bought once. Ties go to more
    units, then to the SKU, so the order is total and repeatable; sums are exact (``fsum``) so
    that the order baskets come in cannot change a score.
    """
    weights: dict[str, list[float]] = {}
    units: dict[str, int] = {}
    last: dict[str, datetime] = {}
    for basket in baskets:
        w = weight(basket.at, now, half_life)
        for sku in _bought(basket):
            weights.setdefault(sku, []).append(w)
            units[sku] = units.get(sku, 0) + basket.items[sku]
            last[sku] = max(last.get(sku, basket.at), basket.at)
    found = [
        Favourite(sku, math.fsum(ws), len(ws), units[sku], last[sku]) for sku, ws in weights.items()
    ]
    found.sort(key=lambda f: (-f.score, -f.units, f.sku))
    return found[:limit]


def bought_together(
    baskets: Iterable[Basket],
    now: datetime,
    limit: int,
    half_life: timedelta = HALF_LIFE,
    min_baskets: int = MIN_PAIR_BASKETS,
) -> list[Pair]:
    """The ``limit`` pairs of products that shared at least ``min_baskets`` baskets, scored by
    the weighted number of baskets holding both, best first (ties: more baskets, then SKUs)."""
    weights: dict[tuple[str, str], list[float]] = {}
    for basket in baskets:
        w = weight(basket.at, now, half_life)
        for pair in itertools.combinations(_bought(basket), 2):
            weights.setdefault(pair, []).append(w)
    found = [
        Pair(a, b, math.fsum(ws), len(ws))
        for (a, b), ws in weights.items()
        if len(ws) >= min_baskets
    ]
    found.sort(key=lambda p: (-p.score, -p.baskets, p.first, p.second))
    return found[:limit]
