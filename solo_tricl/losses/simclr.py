"""SimCLR's InfoNCE (NT-Xent), the baseline every other loss here is measured against."""

import torch
import torch.nn as nn

from solo_tricl.losses._checks import require_positive
from solo_tricl.losses.infonce import contrastive_cross_entropy, pair_views


def info_nce_loss(z0: torch.Tensor, z1: torch.Tensor, temperature: float = 0.2) -> torch.Tensor:
    """SimCLR loss of two (B, k) views, averaged over all 2B anchors (gathered under DDP)."""
    require_positive("temperature", temperature)
    batch = pair_views(z0, z1)
    logits = (batch.local / temperature) @ batch.all.T
    return contrastive_cross_entropy(logits, batch.positive_cols, batch.self_cols)


class InfoNCELoss(nn.Module):
    """SimCLR's normalized-temperature cross-entropy.

    For anchor n with positive p(n): ``-log exp(zhat_n.zhat_p / tau) / sum_{j != n}
    exp(zhat_n.zhat_j / tau)``, averaged over the 2B anchors of both views.

    Reference: Chen et al., "A Simple Framework for Contrastive Learning of Visual
    Representations", ICML 2020.

    Args:
        temperature: tau > 0.

    Shapes:
        z0, z1: (B, k) projector outputs of the two views. Output: scalar.

    Examples:
        >>> loss_fn = InfoNCELoss(temperature=0.2)
        >>> loss = loss_fn(torch.randn(8, 16), torch.randn(8, 16))
    """

    def __init__(self, temperature: float = 0.2):
        super().__init__()
        self.temperature = require_positive("temperature", temperature)

    def forward(self, z0: torch.Tensor, z1: torch.Tensor) -> torch.Tensor:
        return info_nce_loss(z0, z1, self.temperature)
