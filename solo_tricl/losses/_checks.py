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


def require_view_pair(z0: torch.Tensor, z1: torch.Tensor) -> None:
    """Two views must be (B, k) batches of the same shape."""
    if z0.ndim != 2 or z0.shape != z1.shape:
        raise ValueError(
            f"z0 and z1 must both have shape (B, k) and match; got {tuple(z0.shape)} "
            f"and {tuple(z1.shape)}"
        )
    if z0.shape[0] < 1:
        raise ValueError("z0 and z1 must hold at least one sample (B >= 1)")
