"""tri-SCL: the spectral (no exponential) variant of triCL."""

from typing import Dict, Optional

import torch
import torch.nn as nn

from solo_tricl.losses._checks import require_choice
from solo_tricl.losses.decorrelation import decorrelation_loss, decorrelation_weight_or_default
from solo_tricl.losses.importance import FeatureImportance
from solo_tricl.losses.infonce import at_least_fp32, pair_views
from solo_tricl.losses.tricl import ANCHOR_SCALING, require_importance_size, scaled_anchors

# lambda per decorrelation form when none is given. isotropic: chosen by our sweep
# (benchmarks/results/tricl_decorrelation_sweep.md); reference: the authors' value.
SPECTRAL_DECORRELATION_WEIGHTS = {"isotropic": 1.0, "reference": 1.0}


def spectral_tricl_terms(
    z0: torch.Tensor,
    z1: torch.Tensor,
    s: torch.Tensor,
    decorrelation_weight: Optional[float] = None,
    anchors: str = "all",
    decorrelation: str = "isotropic",
) -> Dict[str, torch.Tensor]:
    """tri-SCL loss and its parts for two (B, k) views and importance s (k,).

    With ``sim_nj = zhat_n^T diag(s) zhat_j`` over N = 2B (global) columns:
    ``contrastive = -mean_n sim_{n,p(n)} + mean_n (1/N) sum_{j not in {n, p(n)}} sim_nj^2``;
    decorrelation ``isotropic`` uses C = (k/N) zhat^T zhat, ``reference`` C = zhat^T zhat without
    dividing by N, as the authors' code does (it then dominates the loss).
    ``decorrelation_weight=None`` takes the form's default (:data:`SPECTRAL_DECORRELATION_WEIGHTS`).

    Returns:
        ``{"loss", "contrastive", "decorrelation"}``, scalars.
    """
    weight = decorrelation_weight_or_default(
        decorrelation_weight, decorrelation, SPECTRAL_DECORRELATION_WEIGHTS
    )
    require_choice("anchors", anchors, ANCHOR_SCALING)
    require_importance_size(s, z0.shape[-1])
    batch = pair_views(z0, z1)
    sim = at_least_fp32(scaled_anchors(batch, s, anchors) @ batch.all.T)
    rows = torch.arange(sim.shape[0], device=sim.device)
    positive = sim[rows, batch.positive_cols]
    negatives = torch.ones_like(sim, dtype=torch.bool)
    negatives[rows, batch.self_cols] = False
    negatives[rows, batch.positive_cols] = False
    repulsion = (sim.pow(2) * negatives).sum(dim=1) / sim.shape[1]
    contrastive = -positive.mean() + repulsion.mean()
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
        decorrelation_weight: lambda >= 0, or None for the form's default.
        anchors: ``"all"`` or ``"view1"``, as in :class:`TriCLLoss`.
        decorrelation: ``"isotropic"`` (default) or ``"reference"``, as in :class:`TriCLLoss`.

    Shapes:
        z0, z1: (B, k). Output: scalar.

    Examples:
        >>> loss_fn = SpectralTriCLLoss(FeatureImportance(64))
        >>> loss = loss_fn(torch.randn(8, 64), torch.randn(8, 64))
    """

    def __init__(
        self,
        importance: FeatureImportance,
        decorrelation_weight: Optional[float] = None,
        anchors: str = "all",
        decorrelation: str = "isotropic",
    ):
        super().__init__()
        self.importance = importance
        self.decorrelation = decorrelation
        self.decorrelation_weight = decorrelation_weight_or_default(
            decorrelation_weight, decorrelation, SPECTRAL_DECORRELATION_WEIGHTS
        )
        self.anchors = require_choice("anchors", anchors, ANCHOR_SCALING)

    def terms(self, z0: torch.Tensor, z1: torch.Tensor) -> Dict[str, torch.Tensor]:
        return spectral_tricl_terms(
            z0, z1, self.importance(), self.decorrelation_weight, self.anchors, self.decorrelation
        )

    def forward(self, z0: torch.Tensor, z1: torch.Tensor) -> torch.Tensor:
        return self.terms(z0, z1)["loss"]
