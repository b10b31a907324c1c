"""Argument checks shared by the losses: each raises ``ValueError`` naming the argument."""

from typing import Iterable

import torch


def require_positive(name: str, value: float) -> float:
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return float(value)


def require_non_negative(name: str, value: float) -> float:
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return float(value)


def require_in_range(
    name: str, value: float, low: float, high: float, *, low_open: bool = False
) -> float:
    """``low <= value <= high``, or ``low < value <= high`` with ``low_open``."""
    above_low = value > low if low_open else value >= low
    if not (above_low and value <= high):
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must be in {bracket}{low}, {high}], got {value!r}")
    return float(value)


def require_choice(name: str, value: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def require_views(views) -> None:
    """At least two views, all (B, k) batches of the same shape."""
    if len(views) < 2:
        raise ValueError(f"contrastive losses need at least two views, got {len(views)}")
    first = views[0]
    if first.ndim != 2 or any(v.shape != first.shape for v in views):
        shapes = " and ".join(str(tuple(v.shape)) for v in views)
        raise ValueError(f"every view must have shape (B, k) and all must match; got {shapes}")
    if first.shape[0] < 1:
        raise ValueError("the views must hold at least one sample (B >= 1)")
