"""Which products, how many: ranked hypotheses for a plate's weight change.

A hypothesis is a signed count of one product (negative = taken), or, on a plate carrying
several products, a small same-sign mix of them (1 of A + 1 of B). Each is scored with a
Gaussian likelihood of the measured change,

    delta_g ~ N(sum q_i w_i,  sum |q_i| sd_i^2 + sd_g^2),

where ``w_i`` and ``sd_i`` are the products' unit weight and its spread, times a prior that
favours the plate's own products and small counts. Products faced elsewhere (an item put back
on the wrong plate, or a misplaced one taken again) share a small prior. A broad "unexplained"
alternative (a bag or phone set down, a merged rest) takes what no product explains. Optional
camera evidence (``product`` message scores) and, on a plate whose products stand in lanes,
where the hand was (:func:`lane_likelihoods`) reweight the products among themselves.

Look-alike weights give split probabilities: that split is the engine's confidence signal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

from walkout.domain.store import Box, Product, Store

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
_LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True, slots=True)
class IdentifyParams:
    """Priors and limits of the hypothesis space."""

    max_qty: int = 6
    """Largest count of one of the plate's own products in one change."""
    qty_decay: float = 0.3
    """Prior ratio of ``n + 1`` units to ``n`` units."""
    other_max_qty: int = 2
    other_prior: float = 0.03
    """Prior share of all products not faced on the plate together."""
    mixed_prior: float = 0.05
    """Prior of a mix of two own products relative to a single product with as many units: a
    hand takes one product at a time, so a mix is mostly two hands at once."""
    mixed_max_units: int = 3
    """Most units in a mix (both products together)."""
    unexplained_prior: float = 0.01
    unexplained_range_g: float = 5000.0
    """The unexplained change is uniform on ±this range."""
    evidence_floor: float = 0.05
    """Added to every camera score, so that a product no camera saw is not ruled out."""
    lane_floor: float = 0.02
    """Added to every lane likelihood (relative to the likeliest), so that a hand seen in the
    wrong lane, or a wrong person's hand, does not rule a product out."""
    min_probability: float = 1e-4
    max_hypotheses: int = 20


@dataclass(frozen=True, slots=True)
class ItemCount:
    """A signed count of one product (negative = taken)."""

    sku: str
    qty: int


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """``qty`` units of ``sku`` (plus ``also`` for a mix) moved; negative means taken."""

    sku: str
    qty: int
    probability: float
    z: float
    """Residual of the measured change under this hypothesis, in standard deviations."""
    on_plate: bool
    """Every product of the hypothesis is faced on the plate."""
    also: tuple[ItemCount, ...] = ()

    @property
    def items(self) -> tuple[ItemCount, ...]:
        return (ItemCount(self.sku, self.qty), *self.also)

    @property
    def also_skus(self) -> tuple[str, ...]:
        return tuple(i.sku for i in self.also)


@dataclass(frozen=True, slots=True)
class Identification:
    """Ranked hypotheses; with ``unexplained`` their probabilities sum to 1 (less the dropped
    tail below ``min_probability``)."""

    hypotheses: tuple[Hypothesis, ...]
    unexplained: float
    log_likelihood: float = 0.0
    """Log density of the measured change under all the hypotheses and the unexplained one
    together, with their priors: how well this candidate set explains the change at all."""

    @property
    def best(self) -> Hypothesis | None:
        return self.hypotheses[0] if self.hypotheses else None


@dataclass(frozen=True)
class Candidates:
    """The products a change on one plate may be: its own first, then the others."""

    skus: tuple[str, ...]
    weights: FloatArray
    var: FloatArray
    n_own: int

    @classmethod
    def build(
        cls, plate_products: Sequence[Product], other_products: Sequence[Product] = ()
    ) -> Candidates:
        own = list({p.sku: p for p in plate_products}.values())
        seen = {p.sku for p in own}
        others = [p for p in {p.sku: p for p in other_products}.values() if p.sku not in seen]
        products = own + others
        return cls(
            skus=tuple(p.sku for p in products),
            weights=np.array([p.weight_g for p in products], dtype=float),
            var=np.array([p.weight_sd_g**2 for p in products], dtype=float),
            n_own=len(own),
        )


def identify(
    delta_g: float,
    sd_g: float,
    plate_products: Sequence[Product],
    other_products: Sequence[Product] = (),
    evidence: Mapping[str, float] | None = None,
    params: IdentifyParams | None = None,
    limits: Mapping[str, int] | None = None,
    priors: Mapping[str, float] | None = None,
    lanes: LaneLikelihoods | None = None,
) -> Identification:
    """Rank what a change of ``delta_g`` ± ``sd_g`` grams on a plate may have been.

    ``limits`` caps the units of a product that can have moved (a cart's count, for a put);
    ``priors`` scales each product's prior (positive; default 1); ``lanes`` are the relative
    likelihoods of where the hand was."""
    candidates = Candidates.build(plate_products, other_products)
    return identify_candidates(delta_g, sd_g, candidates, evidence, params, limits, priors, lanes)


@dataclass(frozen=True)
class _Group:
    """Hypotheses of one prior group as parallel arrays: up to two parts (candidate index,
    signed qty; ``k2 = -1`` for a single product) and the log prior."""

    k1: IntArray
    q1: IntArray
    k2: IntArray
    q2: IntArray
    log_prior: FloatArray

    def capped(self, cap: IntArray) -> _Group:
        """The hypotheses moving at most ``cap[k]`` units of each candidate ``k``."""
        two = self.k2 >= 0
        ok = (np.abs(self.q1) <= cap[self.k1]) & (
            ~two | (np.abs(self.q2) <= cap[np.where(two, self.k2, 0)])
        )
        return _Group(self.k1[ok], self.q1[ok], self.k2[ok], self.q2[ok], self.log_prior[ok])

    def moments(self, c: Candidates) -> tuple[FloatArray, FloatArray]:
        """Mean and variance of the change under each hypothesis, from product spreads."""
        two = self.k2 >= 0
        k2 = np.where(two, self.k2, 0)
        mean = self.q1 * c.weights[self.k1] + np.where(two, self.q2 * c.weights[k2], 0.0)
        var = np.abs(self.q1) * c.var[self.k1] + np.where(two, np.abs(self.q2) * c.var[k2], 0.0)
        return mean, var


def _own_group(c: Candidates, p: IdentifyParams) -> _Group:
    rows: list[tuple[int, int, int, int]] = []
    raw: list[float] = []
    for i in range(c.n_own):
        for units in range(1, p.max_qty + 1):
            for sign in (-1, 1):
                rows.append((i, sign * units, -1, 0))
                raw.append(p.qty_decay ** (units - 1))
    for i, j in combinations(range(c.n_own), 2):
        for ui in range(1, p.mixed_max_units):
            for uj in range(1, p.mixed_max_units - ui + 1):
                for sign in (-1, 1):
                    rows.append((i, sign * ui, j, sign * uj))
                    raw.append(p.mixed_prior * p.qty_decay ** (ui + uj - 1))
    cols = np.array(rows, dtype=np.int64).reshape(-1, 4).T
    return _Group(cols[0], cols[1], cols[2], cols[3], np.log(np.array(raw, dtype=float)))


def _other_group(c: Candidates, p: IdentifyParams) -> _Group:
    idx = np.arange(c.n_own, len(c.skus), dtype=np.int64)
    qty = np.array([s * u for u in range(1, p.other_max_qty + 1) for s in (-1, 1)], dtype=np.int64)
    q = np.tile(qty, len(idx))
    raw = p.qty_decay ** (np.abs(q) - 1.0)
    none = np.full(len(q), -1, dtype=np.int64)
    return _Group(np.repeat(idx, len(qty)), q, none, np.zeros_like(q), np.log(raw))


def identify_candidates(
    delta_g: float,
    sd_g: float,
    candidates: Candidates,
    evidence: Mapping[str, float] | None = None,
    params: IdentifyParams | None = None,
    limits: Mapping[str, int] | None = None,
    priors: Mapping[str, float] | None = None,
    lanes: LaneLikelihoods | None = None,
) -> Identification:
    """:func:`identify` over prebuilt :class:`Candidates` (see :class:`StoreIdentifier`)."""
    p = params or IdentifyParams()
    if not (math.isfinite(delta_g) and math.isfinite(sd_g)):
        raise ValueError(f"delta_g and sd_g must be finite, got {delta_g!r} and {sd_g!r}")
    c = candidates
    weighted_groups = [(_own_group(c, p), 1.0 - p.other_prior), (_other_group(c, p), p.other_prior)]
    if limits is not None:
        cap = np.array([limits.get(sku, 0) for sku in c.skus], dtype=np.int64)
        weighted_groups = [(g.capped(cap), m) for g, m in weighted_groups]
    weighted_groups = [(g, m) for g, m in weighted_groups if len(g.k1)]
    log_unexplained = math.log(p.unexplained_prior / (2.0 * p.unexplained_range_g))
    if not weighted_groups:
        return Identification((), 1.0, log_unexplained)
    groups = [g for g, _ in weighted_groups]
    k1 = np.concatenate([g.k1 for g in groups])
    q1 = np.concatenate([g.q1 for g in groups])
    k2 = np.concatenate([g.k2 for g in groups])
    q2 = np.concatenate([g.q2 for g in groups])
    moments = [g.moments(c) for g in groups]
    mean = np.concatenate([m for m, _ in moments])
    var = np.concatenate([v for _, v in moments]) + sd_g * sd_g + 1e-6
    # Each group's prior is normalised to its share of the products' mass.
    scale = (1.0 - p.unexplained_prior) / sum(m for _, m in weighted_groups)
    log_prior = np.concatenate(
        [
            g.log_prior - np.logaddexp.reduce(g.log_prior) + math.log(m * scale)
            for g, m in weighted_groups
        ]
    )
    if priors is not None:
        log_w = np.log(np.array([priors.get(sku, 1.0) for sku in c.skus], dtype=float))
        two = k2 >= 0
        log_prior += log_w[k1] + np.where(two, log_w[np.where(two, k2, 0)], 0.0)
        log_prior += math.log(1.0 - p.unexplained_prior) - np.logaddexp.reduce(log_prior)
    resid = delta_g - mean
    log_post = log_prior - 0.5 * (resid * resid / var + np.log(var) + _LOG_2PI)
    log_total = float(np.logaddexp(np.logaddexp.reduce(log_post), log_unexplained))
    prob = np.exp(log_post - log_total)
    unexplained = math.exp(log_unexplained - log_total)
    # Cameras and the hand's lane say which product, not whether: they reweight products
    # among themselves.
    if evidence:
        scores = np.array([p.evidence_floor + evidence.get(sku, 0.0) for sku in c.skus])
        prob = _reweighted(prob, scores, k1, k2)
    if lanes is not None:
        scores = np.array([p.lane_floor + lanes.of(sku) for sku in c.skus])
        prob = _reweighted(prob, scores, k1, k2)
    order = np.argsort(-prob, kind="stable")[: p.max_hypotheses]
    hypotheses = []
    for i in order.tolist():
        if prob[i] < p.min_probability:
            break
        a, j = int(k1[i]), int(k2[i])
        hypotheses.append(
            Hypothesis(
                sku=c.skus[a],
                qty=int(q1[i]),
                probability=float(prob[i]),
                z=float(resid[i] / math.sqrt(var[i])),
                on_plate=a < c.n_own and j < c.n_own,
                also=(ItemCount(c.skus[j], int(q2[i])),) if j >= 0 else (),
            )
        )
    return Identification(tuple(hypotheses), unexplained, log_total)


def _reweighted(prob: FloatArray, scores: FloatArray, k1: IntArray, k2: IntArray) -> FloatArray:
    """Hypothesis probabilities times their products' scores (a mix: the mean of its two),
    keeping their total."""
    two = k2 >= 0
    factor = np.where(two, (scores[k1] + scores[np.where(two, k2, 0)]) / 2.0, scores[k1])
    weighted: FloatArray = prob * factor
    total = float(weighted.sum())
    if total > 0.0:  # all zero when the change is unexplained: nothing to reweight
        weighted *= float(prob.sum()) / total
        return weighted
    return prob


@dataclass(frozen=True)
class LaneLikelihoods:
    """How likely it is that a hand seen at the plate reached for each of its products, relative
    to the likeliest (1): ``by_sku`` for the products in lanes, ``other`` for any other
    product (one left on the plate may lie anywhere on it)."""

    by_sku: Mapping[str, float]
    other: float

    def of(self, sku: str) -> float:
        return self.by_sku.get(sku, self.other)


def lane_likelihoods(
    hand: Sequence[float], lanes: Mapping[str, Box], sd_m: float
) -> LaneLikelihoods | None:
    """Where a hand was at a plate whose products stand in lanes (``Store.lanes_on``), as
    evidence of which product it reached for; None when it is far from every lane.

    A hand reaching for a product is anywhere in its lane, seen with an error of ``sd_m`` on
    each axis: the density of where it is seen is the lane's uniform density smoothed by that
    error. A product outside the lanes may be anywhere on the plate: its density is the lanes'
    mean."""
    x = np.asarray(hand, dtype=float)
    density: dict[str, float] = {}
    for sku, (lo, hi) in lanes.items():
        a, b = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        # The chance that a hand seen at x is in [a, b], each side's tail taken from where
        # it is small (no cancellation far out).
        above = x > (a + b) / 2
        inside = np.where(
            above,
            ndtr((b - x) / sd_m) - ndtr((a - x) / sd_m),
            ndtr((x - a) / sd_m) - ndtr((x - b) / sd_m),
        )
        density[sku] = float(np.prod(inside / np.maximum(b - a, sd_m)))
    other = sum(density.values()) / len(density)
    top = max(density.values())
    if top <= 0.0:
        return None
    return LaneLikelihoods({sku: d / top for sku, d in density.items()}, other / top)


class StoreIdentifier:
    """:func:`identify` for the plates of one store, with each plate's candidates cached."""

    def __init__(
        self, store: Store, params: IdentifyParams | None = None, include_store: bool = True
    ) -> None:
        self.store = store
        self.params = params or IdentifyParams()
        self.include_store = include_store
        self._cache: dict[str, Candidates] = {}

    def candidates(self, plate_id: str) -> Candidates:
        cands = self._cache.get(plate_id)
        if cands is None:
            own = [self.store.product(s) for s in self.store.skus_on(plate_id)]
            cands = Candidates.build(own, self.store.products if self.include_store else ())
            self._cache[plate_id] = cands
        return cands

    def identify(
        self,
        plate_id: str,
        delta_g: float,
        sd_g: float,
        evidence: Mapping[str, float] | None = None,
    ) -> Identification:
        """Rank what a change on ``plate_id`` may have been (unknown plates: store-wide)."""
        return identify_candidates(delta_g, sd_g, self.candidates(plate_id), evidence, self.params)
