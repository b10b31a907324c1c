"""Judging results measured over seeds: the mean and spread of each number, who wins (only
outside the spread, else a tie), and whether a target is met.

A result over seeds is an :class:`Estimate`: the mean and the sample standard deviation. Two
methods differ only when the gap between their means exceeds the sum of their spreads; otherwise
they are tied, and a report lists every method tied with the best.
"""

import math
import statistics
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Tuple

from solo_tricl.common.thresholds import Target


@dataclass(frozen=True)
class Estimate:
    """A number measured on ``n`` seeds: its mean and sample standard deviation (0 for one seed)."""

    mean: float
    spread: float
    n: int

    def text(self, digits: int = 3) -> str:
        if self.n == 0 or math.isnan(self.mean):
            return "-"
        return f"{self.mean:.{digits}f} ± {self.spread:.{digits}f}" if self.n > 1 else f"{self.mean:.{digits}f}"

    def __sub__(self, other: "Estimate") -> "Estimate":
        """The difference of two independent estimates; its spread is the sum of theirs (the
        same rule as :func:`apart`)."""
        return Estimate(self.mean - other.mean, self.spread + other.spread, min(self.n, other.n))


def estimate(values: Iterable[Optional[float]]) -> Estimate:
    """The :class:`Estimate` of the values that were measured (None and NaN are left out)."""
    kept = [v for v in values if v is not None and not math.isnan(v)]
    if not kept:
        return Estimate(float("nan"), float("nan"), 0)
    return Estimate(statistics.mean(kept), statistics.stdev(kept) if len(kept) > 1 else 0.0, len(kept))


def apart(first: Estimate, second: Estimate) -> bool:
    """Whether two estimates differ: the gap between the means exceeds the sum of the spreads."""
    return abs(first.mean - second.mean) > first.spread + second.spread


@dataclass(frozen=True)
class Verdict:
    """Who wins among candidates: ``winner`` when one is apart from every other, else None and
    ``tied`` lists the best and every candidate not apart from it (best first)."""

    best: str
    tied: Tuple[str, ...]

    @property
    def winner(self) -> Optional[str]:
        return self.best if len(self.tied) == 1 else None

    def text(self, estimates: Dict[str, Estimate]) -> str:
        if self.winner:
            runner_up = max(
                (name for name in estimates if name != self.best and estimates[name].n),
                key=lambda name: estimates[name].mean,
                default=None,
            )
            beaten = "" if runner_up is None else f", ahead of {runner_up} {estimates[runner_up].text()}"
            return f"{self.best} {estimates[self.best].text()}{beaten}"
        return "tie: " + ", ".join(f"{name} {estimates[name].text()}" for name in self.tied)


def verdict(estimates: Dict[str, Estimate]) -> Verdict:
    """The best candidate by mean, and every candidate whose difference from it is within the spread."""
    measured = {name: e for name, e in estimates.items() if e.n}
    if not measured:
        raise ValueError("no candidate was measured")
    best = max(measured, key=lambda name: measured[name].mean)
    tied = [best] + sorted(
        (name for name in measured if name != best and not apart(measured[best], measured[name])),
        key=lambda name: -measured[name].mean,
    )
    return Verdict(best, tuple(tied))


def target_verdict(target: Target, value: Estimate) -> str:
    """``met`` or ``MISSED`` by the mean, and ``(within the spread)`` when the spread straddles the
    threshold: another set of seeds could decide otherwise."""
    if not value.n:
        return "not measured"
    met = target.met(value.mean)
    straddles = value.spread > 0 and abs(value.mean - target.threshold) <= value.spread
    return ("met" if met else "MISSED") + (" (within the spread)" if straddles else "")


def target_line(target: Target, value: Estimate) -> str:
    shown = (
        f"{100 * value.mean:+.1f} ± {100 * value.spread:.1f} points"
        if target.unit == "points" and value.n
        else value.text()
    )
    return f"- {target.text}: {shown} (target {target.describe()}): {target_verdict(target, value)}"


def ranked(estimates: Dict[str, Estimate]) -> List[Tuple[str, Estimate]]:
    return sorted(((n, e) for n, e in estimates.items() if e.n), key=lambda item: -item[1].mean)
