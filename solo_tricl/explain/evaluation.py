"""Insertion and deletion curves (Petsiuk et al., 2018) as COCOA evaluates them, their AUC, and
the parameter-randomization sanity check (Adebayo et al., "Sanity Checks for Saliency Maps",
NeurIPS 2018)."""

import copy
from typing import Callable, Dict

import numpy as np
import torch
import torch.nn as nn

MODES = ("insertion", "deletion")
AGGREGATIONS = ("mean", "abs")


def pixel_order(attributions: torch.Tensor, aggregate: str = "mean") -> torch.Tensor:
    """(N, C, H, W) attributions -> (N, H*W) pixel indices, most important first: by the
    channel mean (signed, as COCOA does; a signed sum gives the same order) or, with
    ``aggregate="abs"``, by the channel mean of |attributions|."""
    if aggregate not in AGGREGATIONS:
        raise ValueError(f"aggregate must be one of {', '.join(AGGREGATIONS)}; got {aggregate!r}")
    heat = attributions.abs() if aggregate == "abs" else attributions
    return heat.mean(dim=1).flatten(1).argsort(dim=1, descending=True)


@torch.no_grad()
def perturbation_curves(
    images: torch.Tensor,
    baselines: torch.Tensor,
    attributions: torch.Tensor,
    score: Callable[[torch.Tensor], torch.Tensor],
    mode: str = "insertion",
    steps: int = 50,
    batch_size: int = 256,
    aggregate: str = "mean",
) -> torch.Tensor:
    """(N, steps + 1, ...) outputs of ``score`` as the top pixels are revealed (insertion: from
    the baseline) or removed (deletion: replaced by the baseline), in ``steps`` equal fractions.

    ``score`` maps (B, C, H, W) images to (B, ...): scalars, or representations from which
    several metrics are then computed without running the model again. ``aggregate``: how
    the channels are combined into the pixel order (:func:`pixel_order`).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    n, c, h, w = images.shape
    order = pixel_order(attributions, aggregate)
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(h * w).expand(n, -1))
    counts = torch.round(torch.linspace(0, h * w, steps + 1)).long()
    perturbed = []
    for count in counts:
        changed = (ranks < count).reshape(n, 1, h, w)
        start, end = (baselines, images) if mode == "insertion" else (images, baselines)
        perturbed.append(torch.where(changed, end, start))
    stacked = torch.stack(perturbed, dim=1).reshape(n * (steps + 1), c, h, w)
    scores = torch.cat([score(stacked[i : i + batch_size]) for i in range(0, len(stacked), batch_size)])
    return scores.reshape(n, steps + 1, *scores.shape[1:])


@torch.no_grad()
def corpus_majority_class(head: Callable, encoder: Callable, corpus: torch.Tensor) -> int:
    """The class a linear ``head`` predicts most often on the (n, C, H, W) corpus images: the
    class whose probability the "corpus majority probability" curves follow."""
    return head(encoder(corpus)).argmax(dim=1).mode().values.item()


def area_under_curve(curve) -> float:
    """Trapezoidal area under a curve sampled at equal steps over [0, 1]."""
    curve = np.asarray(curve, dtype=float)
    if curve.ndim != 1 or len(curve) < 2:
        raise ValueError("a curve needs at least two points")
    return float(np.trapezoid(curve, dx=1 / (len(curve) - 1)))


def curve_aucs(curves: Dict[str, torch.Tensor]) -> Dict[str, float]:
    """AUC of the mean curve (over explicands) of each named curve set."""
    return {name: area_under_curve(c.float().mean(dim=0).cpu().numpy()) for name, c in curves.items()}


def per_image_aucs(curves: Dict[str, torch.Tensor]) -> Dict[str, list]:
    """AUC of each explicand's own curve, per named (N, steps + 1) curve set."""
    return {name: [area_under_curve(row) for row in c.float().cpu().numpy()] for name, c in curves.items()}


def randomized_copy(module: nn.Module, seed: int = 0) -> nn.Module:
    """A copy of ``module`` with every layer that can re-initialise itself re-initialised."""
    randomized = copy.deepcopy(module)
    with torch.random.fork_rng():  # reset_parameters draws from the global RNG; leave it as it was
        torch.manual_seed(seed)
        for layer in randomized.modules():
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()
    return randomized


def rank_correlation(first: torch.Tensor, second: torch.Tensor) -> float:
    """Mean over explicands of the Spearman correlation of the channel-averaged |attributions|."""
    from scipy.stats import spearmanr

    a = first.abs().mean(dim=1).flatten(1).cpu().numpy()
    b = second.abs().mean(dim=1).flatten(1).cpu().numpy()
    return float(np.mean([spearmanr(x, y).statistic for x, y in zip(a, b)]))
