"""SimCLR's InfoNCE (NT-Xent), the baseline every other loss here is measured against."""

import torch
import torch.nn as nn

from solo_tricl.losses._checks import require_positive
from solo_tricl.losses.defaults import TEMPERATURE
from solo_tricl.losses.views import multi_positive_cross_entropy, stack_views


def info_nce_loss(*views: torch.Tensor, temperature: float = TEMPERATURE) -> torch.Tensor:
    """SimCLR loss of V >= 2 views of shape (B, k), averaged over all V * B anchors (gathered
    under DDP); every view of a sample is a positive for every other view of it."""
    require_positive("temperature", temperature)
    batch = stack_views(*views)
    logits = (batch.local / temperature) @ batch.all.T
    return multi_positive_cross_entropy(logits, batch)


class InfoNCELoss(nn.Module):
    """SimCLR's normalized-temperature cross-entropy.

    For anchor n with positive p(n): ``-log exp(zhat_n.zhat_p / tau) / sum_{j != n}
    exp(zhat_n.zhat_j / tau)``, averaged over the 2B anchors of both views. With V > 2 views
    (multi-crop) the numerator sums over every other view of the anchor's sample, as
    solo-learn's SimCLR does.

    Reference: Chen et al., "A Simple Framework for Contrastive Learning of Visual
    Representations", ICML 2020.

    Args:
        temperature: tau > 0.

    Shapes:
        views: V >= 2 tensors (B, k), projector outputs of each view (``loss(z0, z1)``, or
        ``loss(*crops)``). Output: scalar.

    Examples:
        >>> loss_fn = InfoNCELoss(temperature=0.2)
        >>> loss = loss_fn(torch.randn(8, 16), torch.randn(8, 16))
    """

    def __init__(self, temperature: float = TEMPERATURE):
        super().__init__()
        self.temperature = require_positive("temperature", temperature)

    def forward(self, *views: torch.Tensor) -> torch.Tensor:
        return info_nce_loss(*views, temperature=self.temperature)
