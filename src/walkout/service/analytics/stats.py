"""Pure statistics of store analytics: distributions, histograms and small-count suppression.

No I/O, no identities: the service hands in plain numbers, one per visit or basket.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

#: Bin edges of time in store, in seconds: 2, 5, 10, 20, 30 and 60 minutes.
TIME_IN_STORE_EDGES = (0, 120, 300, 600, 1200, 1800, 3600)
#: Bin edges of basket size, in units.
BASKET_SIZE_EDGES = (0, 1, 2, 3, 5, 10, 20)


@dataclass(frozen=True)
class Bin:
    """Values in [lower, upper) (``upper`` None: no bound); ``count`` None when suppressed."""

    lower: int
    upper: int | None
    count: int | None


@dataclass(frozen=True)
class Distribution:
    """How values spread: how many (None when suppressed), the median, the 90th percentile
    and a histogram."""

    count: int | None
    median: float | None
    p90: float | None
    bins: list[Bin]


def suppress(count: int, k: int) -> int | None:
    """``count`` when it is 0 or at least ``k``; None when 1 to k-1 visits would be exposed."""
    return count if count == 0 or count >= k else None


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 < q ≤ 100) of non-empty ``values``: always one
    of the values, never an interpolation no visit had."""
    if not values:
        raise ValueError("no values")
    if not 0 < q <= 100:
        raise ValueError(f"q must be in (0, 100], got {q}")
    ordered = sorted(values)
    return ordered[math.ceil(q / 100 * len(ordered)) - 1]


def histogram(values: Sequence[float], edges: Sequence[int], k: int) -> list[Bin]:
    """Counts of ``values`` in the bins between ascending ``edges`` (the last bin unbounded);
    values below the first edge count in the first bin; small counts suppressed."""
    counts = [0] * len(edges)
    for value in values:
        index = max(0, sum(1 for edge in edges if value >= edge) - 1)
        counts[index] += 1
    uppers: list[int | None] = [*edges[1:], None]
    return [
        Bin(lower, upper, suppress(count, k))
        for lower, upper, count in zip(edges, uppers, counts, strict=True)
    ]


def distribution(values: Sequence[float], edges: Sequence[int], k: int) -> Distribution:
    """The distribution of ``values`` (median and p90 only with at least ``k`` values)."""
    enough = len(values) >= k and len(values) > 0
    return Distribution(
        count=suppress(len(values), k),
        median=float(statistics.median(values)) if enough else None,
        p90=float(percentile(values, 90)) if enough else None,
        bins=histogram(values, edges, k),
    )
