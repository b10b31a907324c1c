"""Feature orders: a run's features rearranged so that column i is the i-th most important.

Selection orders keep the model's own features, reordered:

* ``importance``: what the method defines: triCL by its learned s, Matryoshka (MRL) by its
  prefix, every other method by activation mass;
* ``activation``: mean |z_j| on the training images;
* ``prefix``: the features as they come (MRL's order, by construction);
* ``random``: a seeded permutation.

Rotation orders replace the features by directions fitted after training, without labels, at
no training cost, for any method:

* ``pca``: principal components of the standardised training features (standardised as the
  linear probes see them), by explained variance;
* ``canonical``: the canonical invariance basis (:mod:`solo_tricl.evaluate.canonical`), by the
  agreement of two augmented views.
"""

from dataclasses import replace
from typing import Optional, Tuple

import torch

from solo_tricl.common.order import ALL_ORDERS as ORDERS
from solo_tricl.common.order import ROTATION_ORDERS, activation_mass
from solo_tricl.evaluate.canonical import CanonicalBasis
from solo_tricl.evaluate.features import RunFeatures

PREFIX_METHODS = ("mrl",)


def natural_order(run: RunFeatures) -> str:
    """What ``importance`` means for this run: ``s``, ``prefix`` or ``activation``."""
    if run.importance is not None:
        return "s"
    return "prefix" if run.method in PREFIX_METHODS else "activation"


def describe(order: str, run: RunFeatures) -> str:
    """How a report names the order of ``run``."""
    if order == "importance":
        return {"s": "s (learned)", "prefix": "prefix (Matryoshka)", "activation": "activation mass"}[
            natural_order(run)
        ]
    return {
        "activation": "activation mass",
        "prefix": "prefix",
        "pca": "principal components",
        "canonical": "invariance (canonical basis)",
        "random": "random",
    }[order]


def selection(run: RunFeatures, order: str, seed: int = 0) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """(k,) the columns of a selection order, most important first, and their scores (or None)."""
    k = run.train.features.shape[1]
    if order == "importance":
        order = {"s": "s", "prefix": "prefix", "activation": "activation"}[natural_order(run)]
    if order == "s":
        scores = run.importance.detach().float().cpu()
    elif order == "activation":
        scores = activation_mass(run.train.features.float())
    elif order == "prefix":
        return torch.arange(k), None
    elif order == "random":
        return torch.randperm(k, generator=torch.Generator().manual_seed(seed)), None
    else:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}; got {order!r}")
    columns = torch.argsort(scores, descending=True, stable=True)
    return columns, scores[columns]


def principal_components(train: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(mean, scale, components (k, k) by descending variance, explained variance ratio (k,)) of
    the standardised (N, k) training features."""
    x = train.double()
    mean, scale = x.mean(dim=0), x.std(dim=0).clamp_min(1e-12)
    z = (x - mean) / scale
    _, singular, vt = torch.linalg.svd(z, full_matrices=False)
    variance = singular.pow(2)
    # a component's sign is arbitrary: make its largest loading positive
    signs = torch.sign(vt.gather(1, vt.abs().argmax(dim=1, keepdim=True))).squeeze(1)
    components = (vt * signs[:, None]).T
    return mean, scale, components, variance / variance.sum()


def in_order(run: RunFeatures, order: str, seed: int = 0) -> Tuple[RunFeatures, Optional[CanonicalBasis]]:
    """``run`` with its features in ``order`` (column 0 the most important), its ``scores`` the
    order's scores of those columns where it has them (s, activation mass, explained variance,
    lambda), and the canonical basis when ``order`` is ``canonical``."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}; got {order!r}")
    basis = None
    if order == "canonical":
        if run.views is None:
            raise ValueError(
                "the canonical order needs two augmented views of reference images; extract the features with views=N"
            )
        basis = CanonicalBasis.fit(*run.views)
        transform, scores = basis.transform, basis.spectrum
    elif order == "pca":
        mean, scale, components, explained = principal_components(run.train.features)

        def transform(features):
            return (((features.double() - mean) / scale) @ components).float()

        scores = explained.float()
    else:
        columns, scores = selection(run, order, seed)

        def transform(features):
            return features[:, columns]

    splits = {
        name: replace(split, features=transform(split.features))
        for name, split in (("train", run.train), ("test", run.test))
    }
    # rotated columns are no longer the features s was learned for
    importance = None if order in ROTATION_ORDERS else run.importance
    return replace(run, **splits, scores=scores, views=None, order=order, importance=importance), basis
