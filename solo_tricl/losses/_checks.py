"""Argument checks shared by the losses: each raises ``ValueError`` naming the argument."""

from typing import Iterable

import math

import torch


def require_positive(name: str, value: float) -> float:
    """A finite number > 0."""
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
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
    if first.shape[0] < 1 or first.shape[1] < 1:
        raise ValueError(f"the views must hold at least one sample and one feature (B, k >= 1), "
                         f"got {tuple(first.shape)}")


def require_matching_dtypes(name: str, value: torch.Tensor, features: torch.Tensor) -> None:
    """float64 mixed with another precision is a mistake (half precision with float32 is autocast's
    normal case and stays allowed)."""
    if value.dtype != features.dtype and torch.float64 in (value.dtype, features.dtype):
        raise ValueError(f"{name} is {value.dtype} but the features are {features.dtype}: convert one of them "
                         "(e.g. module.double() or module.float())")
