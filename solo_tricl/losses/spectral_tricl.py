"""tri-SCL: the spectral (no exponential) variant of triCL."""

from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn

from solo_tricl.losses._checks import require_choice
from solo_tricl.losses.decorrelation import decorrelation_loss, decorrelation_weight_or_default
from solo_tricl.losses.defaults import ANCHOR_SCALING, ANCHORS, DECORRELATION
from solo_tricl.losses.importance import FeatureImportance
from solo_tricl.losses.tricl import importance_logits, require_importance_for, require_importance_module
from solo_tricl.losses.views import at_least_fp32, stack_views


def spectral_tricl_terms(
    views: Sequence[torch.Tensor],
    s: torch.Tensor,
    decorrelation_weight: Optional[float] = None,
    anchors: str = ANCHORS,
    decorrelation: str = DECORRELATION,
) -> Dict[str, torch.Tensor]:
    """tri-SCL loss and its parts for V >= 2 views of shape (B, k) and importance s (k,).

    With ``sim_nj = zhat_n^T diag(s) zhat_j`` over N = V * B (global) columns:
    ``contrastive = -mean over positive pairs (n, p) of sim_np + mean_n (1/N) sum_{j negative}
    sim_nj^2``, where every other view of n's sample is a positive and the rest negatives;
    decorrelation ``isotropic`` uses C = (k/N) zhat^T zhat, ``reference`` C = zhat^T zhat without
    dividing by N, as the authors' code does (it then dominates the loss).
    ``decorrelation_weight=None`` takes the form's default
    (:data:`solo_tricl.losses.defaults.DECORRELATION_WEIGHTS`).

    Returns:
        ``{"loss", "contrastive", "decorrelation"}``, scalars.
    """
    weight = decorrelation_weight_or_default(decorrelation_weight, decorrelation)
    require_choice("anchors", anchors, ANCHOR_SCALING)
    return _spectral_tricl_terms(views, s, weight, anchors, decorrelation)


def _spectral_tricl_terms(views, s, weight: float, anchors: str, decorrelation: str):
    """:func:`spectral_tricl_terms` for arguments already checked."""
    batch = stack_views(*views)
    require_importance_for(s, batch.local)
    sim = at_least_fp32(importance_logits(batch, s, anchors))
    rows = torch.arange(sim.shape[0], device=sim.device)
    negatives = ~batch.positive_mask
    negatives[rows, batch.self_cols] = False
    attraction = sim.masked_select(batch.positive_mask).mean()
    repulsion = (sim.pow(2) * negatives).sum(dim=1) / sim.shape[1]
    contrastive = -attraction + repulsion.mean()
    decorrelation_term = decorrelation_loss(batch.all, decorrelation, average_rows=False)
    return {
        "loss": contrastive + weight * decorrelation_term,
        "contrastive": contrastive,
        "decorrelation": decorrelation_term,
    }


class SpectralTriCLLoss(nn.Module):
    """tri-SCL: spectral contrastive loss over zhat_n^T diag(s) zhat_j, plus decorrelation.

    Reference: Zhang et al., "Tri-factor Contrastive Learning", 2023 (the spectral variant,
    building on HaoChen et al., "Provable Guarantees for Self-Supervised Deep Learning with
    Spectral Contrastive Loss", NeurIPS 2021).

    Args:
        importance: the :class:`FeatureImportance` holding theta (a child module).
        decorrelation_weight: lambda >= 0, or None for the form's default (isotropic 10, reference 1).
        anchors: ``"all"`` or ``"view1"``, as in :class:`TriCLLoss`.
        decorrelation: ``"isotropic"`` (default) or ``"reference"``, as in :class:`TriCLLoss`.

    Shapes:
        views: V >= 2 tensors (B, k). Output: scalar.

    Examples:
        >>> loss_fn = SpectralTriCLLoss(FeatureImportance(64))
        >>> loss = loss_fn(torch.randn(8, 64), torch.randn(8, 64))
    """

    def __init__(
        self,
        importance: FeatureImportance,
        decorrelation_weight: Optional[float] = None,
        anchors: str = ANCHORS,
        decorrelation: str = DECORRELATION,
    ):
        super().__init__()
        self.importance = require_importance_module(importance)
        self.decorrelation = decorrelation
        self.decorrelation_weight = decorrelation_weight_or_default(decorrelation_weight, decorrelation)
        self.anchors = require_choice("anchors", anchors, ANCHOR_SCALING)

    def terms(self, *views: torch.Tensor) -> Dict[str, torch.Tensor]:
        return _spectral_tricl_terms(
            views, self.importance(), self.decorrelation_weight, self.anchors, self.decorrelation
        )

    def forward(self, *views: torch.Tensor) -> torch.Tensor:
        return self.terms(*views)["loss"]
