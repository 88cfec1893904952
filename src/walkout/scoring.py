"""Receipt scoring (PROTOCOL section 5): pooled precision, recall, F1 and exact receipts.

For each token, with predicted count ``p`` and true count ``q`` of each SKU:
TP = Σ min(p, q), FP = Σ max(p − q, 0), FN = Σ max(q − p, 0), pooled over all tokens.
A true session with no receipt counts as an empty receipt; a receipt for a token that has no
true session is all false positives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from walkout.domain.truth import Receipts, Truth


@dataclass(frozen=True)
class SessionError:
    """One session whose receipt differs from the truth: what it lacks and what it adds."""

    token: str
    missing: dict[str, int]
    extra: dict[str, int]
    has_receipt: bool


@dataclass(frozen=True)
class Score:
    tp: int
    fp: int
    fn: int
    sessions: int
    exact: int
    errors: list[SessionError] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def exact_rate(self) -> float:
        return self.exact / self.sessions if self.sessions else 1.0

    def summary(self) -> dict[str, float | int]:
        return {
            "sessions": self.sessions,
            "exact": self.exact,
            "exact_rate": round(self.exact_rate, 6),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 6),
            "recall": round(self.recall, 6),
            "f1": round(self.f1, 6),
        }


def _positive(items: dict[str, int]) -> dict[str, int]:
    return {sku: n for sku, n in items.items() if n > 0}


def score(truth: Truth, receipts: Receipts) -> Score:
    """Score receipts against the truth (PROTOCOL section 5)."""
    predicted: dict[str, dict[str, int]] = {}
    for receipt in receipts.receipts:
        merged = predicted.setdefault(receipt.token, {})
        for sku, n in receipt.items.items():
            merged[sku] = merged.get(sku, 0) + n
    true_by_token: dict[str, dict[str, int]] = {}
    for session in truth.sessions:
        merged = true_by_token.setdefault(session.token, {})
        for sku, n in session.items.items():
            merged[sku] = merged.get(sku, 0) + n

    tp = fp = fn = exact = 0
    errors: list[SessionError] = []
    for token in sorted(true_by_token.keys() | predicted.keys()):
        q = _positive(true_by_token.get(token, {}))
        p = _positive(predicted.get(token, {}))
        missing = {s: q[s] - p.get(s, 0) for s in sorted(q) if q[s] > p.get(s, 0)}
        extra = {s: p[s] - q.get(s, 0) for s in sorted(p) if p[s] > q.get(s, 0)}
        tp += sum(min(p.get(s, 0), n) for s, n in q.items())
        fp += sum(extra.values())
        fn += sum(missing.values())
        if token in true_by_token and not missing and not extra:
            exact += 1
        if missing or extra:
            errors.append(SessionError(token, missing, extra, token in predicted))
    return Score(tp=tp, fp=fp, fn=fn, sessions=len(true_by_token), exact=exact, errors=errors)
