"""Feature orders: which of a run's features count as the k most important. The one definition of
each order, used by ``evaluate``, ``linear --top-k``, ``clip-zeroshot --top-k`` and the bench.

Selection orders keep the model's own features, reordered:

* ``importance``: what the method defines: triCL by its learned s, Matryoshka (MRL) by its
  prefix, every other method by activation mass;
* ``activation``: mean |z_j| over :data:`ACTIVATION_IMAGES` unaugmented training images, the same
  seeded sample for every command (:func:`activation_reference`);
* ``prefix``: the features as they come (MRL's order, by construction);
* ``random``: a seeded permutation.

Rotation orders replace the features by directions fitted after training, without labels, at
no training cost, for any method:

* ``pca``: principal components of the standardised training features (standardised as the
  linear probes see them), by explained variance;
* ``canonical``: the canonical invariance basis (:mod:`solo_tricl.evaluate.canonical`), by the
  agreement of two augmented views.

Every order is k linear functionals of the model's features (:class:`FeatureOrder`): the first k
of them are what "the k most important features" means, for a probe and for zero-shot alike.
Importing this module does not import torch (the commands read its names for ``--help``).
"""

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Optional, Sequence, Tuple

if TYPE_CHECKING:
    import torch

    from solo_tricl.evaluate.canonical import CanonicalBasis
    from solo_tricl.evaluate.features import RunFeatures

SELECTION_ORDERS = ("importance", "activation", "prefix", "random")
ROTATION_ORDERS = ("pca", "canonical")
ORDERS = ("importance", "activation", "prefix", "pca", "canonical", "random")
PREFIX_METHODS = ("mrl",)  # methods (solo-learn) and losses (OpenCLIP) whose order is the prefix
ACTIVATION_IMAGES = 2048  # unaugmented training images activation mass is measured on
ACTIVATION_SEED = 0  # which ones: a fixed seeded sample, whatever a command's own --seed

LABELS = {
    "s": "s (learned)",
    "prefix": "prefix",
    "activation": "activation mass",
    "pca": "principal components",
    "canonical": "invariance (canonical basis)",
    "random": "random",
}


def natural_order(method: str, has_importance: bool) -> str:
    """What ``importance`` means for a method: ``s``, ``prefix`` or ``activation``."""
    if has_importance:
        return "s"
    return "prefix" if method in PREFIX_METHODS else "activation"


def resolve(order: str, method: str, has_importance: bool) -> str:
    """The order a run is actually put in: ``importance`` resolved to ``s``, ``prefix`` or
    ``activation``; any other order as it is. Raises ``ValueError`` for an unknown order."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}; got {order!r}")
    return natural_order(method, has_importance) if order == "importance" else order


def label(order: str, method: str, has_importance: bool) -> str:
    """How a report names ``order`` for a method, e.g. ``prefix`` for Matryoshka's importance."""
    return LABELS[resolve(order, method, has_importance)]


def activation_reference(items: Sequence) -> list:
    """The training items activation mass is measured on: a seeded sample of
    :data:`ACTIVATION_IMAGES` (all of them when there are fewer), in their original order."""
    from solo_tricl.common.images import subset

    return subset(list(items), ACTIVATION_IMAGES, ACTIVATION_SEED)


def activation_mass(features: "torch.Tensor") -> "torch.Tensor":
    """(N, k) features -> (k,) mean |z_j| over the samples."""
    if features.ndim != 2 or features.shape[0] == 0:
        raise ValueError(f"features must be a non-empty (N, k) matrix, got {tuple(features.shape)}")
    return features.detach().float().cpu().abs().mean(dim=0)


@dataclass
class FeatureOrder:
    """An order of k features: feature j of the order is ``(z - offset) @ matrix[:, j]`` (after
    L2-normalising z when ``normalize``), most important first.

    Attributes:
        name: the order asked for (one of :data:`ORDERS`).
        kind: what it resolved to: ``s``, ``prefix``, ``activation``, ``random``, ``pca`` or ``canonical``.
        label: how a report names it.
        matrix: (k, k) the functionals, one per column.
        offset: (k,) subtracted first.
        columns: (k,) for a selection order, the model's columns in order (None for a rotation).
        scores: (k,) each ordered feature's score (s, activation mass, explained variance,
            lambda), or None (prefix, random).
        basis: the canonical basis of a ``canonical`` order.
    """

    name: str
    kind: str
    label: str
    matrix: "torch.Tensor"
    offset: "torch.Tensor"
    columns: Optional["torch.Tensor"] = None
    scores: Optional["torch.Tensor"] = None
    basis: Optional["CanonicalBasis"] = None
    normalize: bool = False

    @property
    def is_rotation(self) -> bool:
        return self.columns is None

    def apply(self, features: "torch.Tensor") -> "torch.Tensor":
        """(N, k) model features -> (N, k) features in this order."""
        if self.columns is not None:
            return features[:, self.columns]
        if self.basis is not None:
            return self.basis.transform(features)
        return ((features.double() - self.offset) @ self.matrix).float()

    def span(self, k: int) -> "torch.Tensor":
        """(d, k) an orthonormal basis of the space the first k functionals span, in the model's
        coordinates: for a selection order, k columns of the identity. Zero-shot with the first k
        features scores images and class embeddings projected on it."""
        import torch

        if self.columns is not None:
            return torch.eye(len(self.columns))[:, self.columns[:k]]
        q, _ = torch.linalg.qr(self.matrix[:, :k].double())
        return q.float()


def selection(
    order: str,
    method: str,
    k: int,
    importance: Optional["torch.Tensor"] = None,
    activation: Optional["torch.Tensor"] = None,
    seed: int = 0,
) -> FeatureOrder:
    """A selection order of k features.

    Args:
        order: one of :data:`SELECTION_ORDERS`.
        method: the run's method (solo-learn) or loss (OpenCLIP): decides what ``importance`` is.
        k: the number of features.
        importance: (k,) learned s, or None.
        activation: (k,) activation mass on :func:`activation_reference` images; needed by
            ``activation`` and by a method's ``importance`` when that is activation mass.
        seed: seed of the random order.
    """
    import torch

    if order not in SELECTION_ORDERS:
        raise ValueError(f"order must be one of {', '.join(SELECTION_ORDERS)}; got {order!r}")
    kind = resolve(order, method, importance is not None)
    scores = None
    if kind == "s":
        scores = importance.detach().float().cpu()
    elif kind == "activation":
        if activation is None:
            raise ValueError(f"order {order!r} of {method} needs the activation mass of training images")
        scores = activation.detach().float().cpu()
    if scores is not None:
        if scores.numel() != k:
            raise ValueError(f"the {kind} scores have {scores.numel()} entries, expected k={k}")
        columns = torch.argsort(scores, descending=True, stable=True)
        scores = scores[columns]
    elif kind == "random":
        columns = torch.randperm(k, generator=torch.Generator().manual_seed(seed))
    else:
        columns = torch.arange(k)
    matrix = torch.eye(k, dtype=torch.float64)[:, columns]
    return FeatureOrder(order, kind, LABELS[kind], matrix, torch.zeros(k, dtype=torch.float64), columns, scores)


def principal_components(
    train: "torch.Tensor",
) -> Tuple["torch.Tensor", "torch.Tensor", "torch.Tensor", "torch.Tensor"]:
    """(mean, scale, components (k, k) by descending variance, explained variance ratio (k,)) of
    the standardised (N, k) training features."""
    import torch

    x = train.double()
    mean, scale = x.mean(dim=0), x.std(dim=0).clamp_min(1e-12)
    z = (x - mean) / scale
    _, singular, vt = torch.linalg.svd(z, full_matrices=False)
    variance = singular.pow(2)
    # a component's sign is arbitrary: make its largest loading positive
    signs = torch.sign(vt.gather(1, vt.abs().argmax(dim=1, keepdim=True))).squeeze(1)
    components = (vt * signs[:, None]).T
    return mean, scale, components, variance / variance.sum()


def fit(run: "RunFeatures", order: str, seed: int = 0) -> FeatureOrder:
    """``order`` of a run as the model gives its features (``run.order == "native"``): a
    selection from its s and activation mass, or a rotation fitted on its training features
    (``pca``) or its two augmented views (``canonical``)."""
    if run.order != "native":
        raise ValueError(f"the run is already in the {run.order} order; fit an order on the model's own features")
    k = run.train.features.shape[1]
    if resolve(order, run.method, run.importance is not None) == "pca":
        mean, scale, components, explained = principal_components(run.train.features)
        matrix = components / scale[:, None]
        return FeatureOrder(order, "pca", LABELS["pca"], matrix, mean, scores=explained.float())
    if order == "canonical":
        from solo_tricl.evaluate.canonical import CanonicalBasis

        if run.views is None:
            raise ValueError(
                "the canonical order needs two augmented views of reference images; extract the features with views=N"
            )
        basis = CanonicalBasis.fit(*run.views)
        matrix, offset = basis.projection.double(), basis.mean.double()
        return FeatureOrder(order, "canonical", LABELS["canonical"], matrix, offset, None, basis.spectrum, basis, True)
    return selection(order, run.method, k, run.importance, run.activation, seed)


def in_order(run: "RunFeatures", order: str, seed: int = 0) -> Tuple["RunFeatures", FeatureOrder]:
    """``run`` with its features in ``order`` (column 0 the most important) and the order itself.
    The ordered run's ``scores`` are the order's (s, activation mass, explained variance, lambda);
    a rotation drops s, which describes the model's own columns only."""
    fitted = fit(run, order, seed)
    splits = {
        name: replace(split, features=fitted.apply(split.features))
        for name, split in (("train", run.train), ("test", run.test))
    }
    importance = None if fitted.is_rotation else run.importance
    ordered = replace(run, **splits, scores=fitted.scores, views=None, order=order, importance=importance)
    return ordered, fitted
