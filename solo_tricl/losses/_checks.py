"""Argument checks shared by the losses and the options built on them: each raises ``TypeError``
or ``ValueError`` naming the argument and what it allows. Imports torch only to check tensors."""

import math
import numbers
from typing import Iterable, Optional, Sequence, Tuple


def require_real(name: str, value) -> float:
    """A real number (a bool, a string or a tensor is not one); TypeError otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    return float(value)


def require_positive(name: str, value) -> float:
    """A finite number > 0."""
    number = require_real(name, value)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return number


def require_non_negative(name: str, value) -> float:
    """A finite number >= 0."""
    number = require_real(name, value)
    if not (math.isfinite(number) and number >= 0):
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return number


def require_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value!r}")
    return int(value)


def require_in_range(name: str, value, low: float, high: float, *, low_open: bool = False) -> float:
    """``low <= value <= high``, or ``low < value <= high`` with ``low_open``."""
    number = require_real(name, value)
    above_low = number > low if low_open else number >= low
    if not (above_low and number <= high):
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must be in {bracket}{low}, {high}], got {value!r}")
    return number


def require_choice(name: str, value: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def require_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return value


def require_nesting(nesting, k: Optional[int] = None) -> Optional[Tuple[int, ...]]:
    """Matryoshka's prefix sizes as a sorted tuple of distinct integers >= 1 (and <= k when k is
    known), or None."""
    if nesting is None:
        return None
    if isinstance(nesting, (str, bytes)) or not hasattr(nesting, "__iter__"):
        raise TypeError(f"nesting must be a sequence of prefix sizes, got {type(nesting).__name__} {nesting!r}")
    sizes = tuple(sorted({require_positive_int("nesting", m) for m in nesting}))
    if not sizes:
        raise ValueError("nesting must hold at least one prefix size")
    if k is not None and sizes[-1] > k:
        raise ValueError(f"nesting holds prefix size {sizes[-1]}, above the embedding dimension k={k}")
    return sizes


def require_float_tensor(name: str, value):
    """A floating-point tensor: integer, bool and complex features have no place in a loss."""
    import torch

    if not torch.is_tensor(value):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    return value


def require_views(views: Sequence) -> None:
    """At least two views, all floating-point (B, k) batches of the same shape and device (float64 not
    mixed with other precisions)."""
    if len(views) < 2:
        raise ValueError(f"contrastive losses need at least two views, got {len(views)}")
    for i, view in enumerate(views):
        require_float_tensor(f"view {i}", view)
    first = views[0]
    if first.ndim != 2 or any(v.shape != first.shape for v in views):
        shapes = " and ".join(str(tuple(v.shape)) for v in views)
        raise ValueError(f"every view must have shape (B, k) and all must match; got {shapes}")
    if first.shape[0] < 1 or first.shape[1] < 1:
        raise ValueError(
            f"the views must hold at least one sample and one feature (B, k >= 1), got {tuple(first.shape)}"
        )
    for i, view in enumerate(views[1:], start=1):
        if view.device != first.device:
            raise ValueError(f"every view must be on view 0's device ({first.device}); view {i} is on {view.device}")
        require_matching_dtypes(f"view {i}", view, first)


def require_matching_dtypes(name: str, value, features) -> None:
    """float64 mixed with another precision is a mistake (half precision with float32 is autocast's
    normal case and stays allowed)."""
    import torch

    if value.dtype != features.dtype and torch.float64 in (value.dtype, features.dtype):
        raise ValueError(
            f"{name} is {value.dtype} but the features are {features.dtype}: convert one of them "
            "(e.g. module.double() or module.float())"
        )
