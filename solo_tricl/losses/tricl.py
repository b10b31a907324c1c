"""Tri-factor contrastive learning (triCL): InfoNCE over zhat_n^T diag(s) zhat_j."""

from dataclasses import replace
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn

from solo_tricl.losses._checks import (
    require_choice,
    require_float_tensor,
    require_matching_dtypes,
    require_nesting,
    require_non_negative,
    require_positive,
)
from solo_tricl.losses.decorrelation import decorrelation_loss, decorrelation_weight_or_default
from solo_tricl.losses.defaults import ANCHOR_SCALING, ANCHORS, DECORRELATION, TEMPERATURE
from solo_tricl.losses.importance import FeatureImportance
from solo_tricl.losses.views import ViewBatch, multi_positive_cross_entropy, stack_views, unit_rows
from solo_tricl.losses.weighted_gram import weighted_gram


def require_importance_for(s: torch.Tensor, features: torch.Tensor) -> None:
    """s must be a (k,) tensor for (N, k) features, in their precision (see
    :func:`~solo_tricl.losses._checks.require_matching_dtypes`)."""
    k = features.shape[-1]
    require_float_tensor("feature importance", s)
    if s.shape != (k,):
        raise ValueError(f"feature importance must have shape ({k},) to match the embedding; got {tuple(s.shape)}")
    require_matching_dtypes("feature importance", s, features)


def require_importance_module(importance) -> FeatureImportance:
    if not isinstance(importance, FeatureImportance):
        raise TypeError(
            f"importance must be a FeatureImportance (the module holding theta), got {type(importance).__name__}"
        )
    return importance


def scaled_anchors(batch: ViewBatch, s: torch.Tensor, anchors: str, scale: float = 1.0) -> torch.Tensor:
    """(V * B, k) anchor rows times ``scale * diag(s)``: every row (``all``) or view-1 rows only.

    ``view1`` is the authors' code, where view-2 anchors use the plain dot product (times
    ``scale``). ``scale`` folds 1 / tau into the (2B, k) anchors instead of the (2B, N) logits.
    """
    weights = (s * scale).to(batch.local.dtype)
    if anchors == "all":
        return batch.local * weights
    b = batch.batch_size
    return torch.cat([batch.local[:b] * weights, batch.local[b:] * scale], dim=0)


def importance_logits(batch: ViewBatch, s: torch.Tensor, anchors: str, scale: float = 1.0) -> torch.Tensor:
    """(V * B, W * V * B) ``scaled_anchors(batch, s, anchors, scale) @ batch.all.T``.

    Where every row is an anchor and a candidate (one process, ``anchors="all"``) the matrix is
    symmetric and its backward takes one matmul (:func:`weighted_gram`). Otherwise (DDP, view-1
    anchors), and under autocast, where the matmul must run in autocast's precision, autograd's two.
    """
    if anchors == "all" and batch.all is batch.local and not torch.is_autocast_enabled(batch.local.device.type):
        return weighted_gram(batch.local, (s * scale).to(batch.local.dtype))
    return scaled_anchors(batch, s, anchors, scale) @ batch.all.T


def normalized(raw: ViewBatch, columns: Optional[torch.Tensor] = None) -> ViewBatch:
    """``raw`` with unit rows (of the given ``columns`` alone, if any); on one process ``all``
    stays the same tensor as ``local``."""

    def unit(x):
        return unit_rows(x if columns is None else x[:, columns])

    local = unit(raw.local)
    return replace(raw, local=local, all=local if raw.all is raw.local else unit(raw.all))


def tricl_terms(
    views: Sequence[torch.Tensor],
    s: torch.Tensor,
    temperature: float = TEMPERATURE,
    decorrelation_weight: Optional[float] = None,
    anchors: str = ANCHORS,
    decorrelation: str = DECORRELATION,
    nesting: Optional[Sequence[int]] = None,
    nesting_weight: float = 1.0,
) -> Dict[str, torch.Tensor]:
    """triCL loss and its parts for V >= 2 views of shape (B, k) and importance s (k,).

    Every view of a sample is a positive for its other views (multi-crop: 2 large crops and any
    number of small ones); the decorrelation takes every row of every view.

    ``decorrelation_weight=None`` takes the default lambda of the ``decorrelation`` form
    (:data:`solo_tricl.losses.defaults.DECORRELATION_WEIGHTS`). ``nesting`` adds, for each prefix
    size m < k, the same contrastive term on the m features of largest s alone (each prefix
    L2-normalised on its own, as Matryoshka's), averaged over m and weighted by ``nesting_weight``:
    the first m features in the order of s are trained to work on their own.

    Returns:
        ``{"loss", "contrastive", "decorrelation"}`` (and ``"nested"`` with ``nesting``), scalars;
        ``loss = contrastive + decorrelation_weight * decorrelation + nesting_weight * nested``.
    """
    require_positive("temperature", temperature)
    weight = decorrelation_weight_or_default(decorrelation_weight, decorrelation)
    require_choice("anchors", anchors, ANCHOR_SCALING)
    require_non_negative("nesting_weight", nesting_weight)
    return _tricl_terms(views, s, temperature, weight, anchors, decorrelation, require_nesting(nesting), nesting_weight)


def _tricl_terms(
    views, s, temperature: float, weight: float, anchors: str, decorrelation: str, nesting=None, nesting_weight=1.0
):
    """:func:`tricl_terms` for arguments already checked (a :class:`TriCLLoss` checks them once)."""
    raw = stack_views(*views, normalize=False)
    batch = normalized(raw)
    require_importance_for(s, batch.local)
    logits = importance_logits(batch, s, anchors, 1 / temperature)
    contrastive = multi_positive_cross_entropy(logits, batch)
    decorrelation_term = decorrelation_loss(batch.all, decorrelation)
    terms = {
        "loss": contrastive + weight * decorrelation_term,
        "contrastive": contrastive,
        "decorrelation": decorrelation_term,
    }
    k = s.shape[0]
    sizes = [m for m in (nesting or ()) if m < k]
    if sizes:
        order = torch.argsort(s.detach(), descending=True)
        nested = []
        for m in sizes:
            columns = order[:m]
            prefix = normalized(raw, columns)
            prefix_logits = importance_logits(prefix, s[columns], anchors, 1 / temperature)
            nested.append(multi_positive_cross_entropy(prefix_logits, prefix))
        terms["nested"] = torch.stack(nested).mean()
        terms["loss"] = terms["loss"] + nesting_weight * terms["nested"]
    return terms


class TriCLLoss(nn.Module):
    """triCL: contrast z^T diag(s) z' with a learned importance s, plus decorrelation.

    For anchor n with positive p(n), ``sim_nj = zhat_n^T diag(s) zhat_j / tau`` and the loss is
    ``-log exp(sim_{n,p(n)}) / sum_{j != n} exp(sim_nj)`` averaged over all 2B anchors, plus
    ``decorrelation_weight * mean((C - I)^2)`` with, by default, ``C = (k / 2B) zhat^T zhat``
    (see :mod:`solo_tricl.losses.decorrelation`). Without that decorrelation s rewards redundant
    copies of one feature, and the top features by s are no better than random ones.

    Reference: Zhang et al., "Tri-factor Contrastive Learning", 2023.

    Args:
        importance: the :class:`FeatureImportance` holding theta. It is registered as a
            child, so ``loss.parameters()`` yields theta: optimize it without weight decay.
        temperature: tau > 0.
        decorrelation_weight: lambda >= 0; None (default) takes the form's default, 10 for
            ``isotropic`` and 1 (the authors') for ``reference``.
        anchors: ``"all"`` (default; the symmetric bilinear form of the paper) or ``"view1"``
            (the authors' code: diag(s) on view-1 anchors only).
        decorrelation: ``"isotropic"`` (default, C of trace k) or ``"reference"`` (the authors'
            C = zhat^T zhat / 2B, which is inert).
        nesting: prefix sizes m of the features sorted by s, each trained on its own too (see
            :func:`tricl_terms`); None (default): none.
        nesting_weight: weight of the mean of the prefix terms.

    Shapes:
        views: V >= 2 tensors (B, k), the projector outputs of each view, k =
        ``importance.num_features``: ``loss(z0, z1)`` or ``loss(*crops)``. Output: scalar.

    Examples:
        >>> importance = FeatureImportance(128)
        >>> loss_fn = TriCLLoss(importance)
        >>> loss = loss_fn(torch.randn(8, 128), torch.randn(8, 128))
        >>> loss.backward()              # reaches importance.theta
    """

    def __init__(
        self,
        importance: FeatureImportance,
        temperature: float = TEMPERATURE,
        decorrelation_weight: Optional[float] = None,
        anchors: str = ANCHORS,
        decorrelation: str = DECORRELATION,
        nesting: Optional[Sequence[int]] = None,
        nesting_weight: float = 1.0,
    ):
        super().__init__()
        self.importance = require_importance_module(importance)
        self.temperature = require_positive("temperature", temperature)
        self.decorrelation = decorrelation
        self.decorrelation_weight = decorrelation_weight_or_default(decorrelation_weight, decorrelation)
        self.anchors = require_choice("anchors", anchors, ANCHOR_SCALING)
        self.nesting = require_nesting(nesting)
        self.nesting_weight = require_non_negative("nesting_weight", nesting_weight)

    def terms(self, *views: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The loss and its parts, see :func:`tricl_terms`."""
        return _tricl_terms(
            views,
            self.importance(),
            self.temperature,
            self.decorrelation_weight,
            self.anchors,
            self.decorrelation,
            self.nesting,
            self.nesting_weight,
        )

    def forward(self, *views: torch.Tensor) -> torch.Tensor:
        return self.terms(*views)["loss"]
