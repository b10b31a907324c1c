"""Non-negative contrastive learning (NCL): SimCLR on phi(z) with phi non-negative."""

import torch
import torch.nn as nn

from solo_tricl.losses._checks import require_positive
from solo_tricl.losses.defaults import NON_NEG, TEMPERATURE
from solo_tricl.losses.nonneg import NonNegative
from solo_tricl.losses.simclr import info_nce_loss


class NCLLoss(nn.Module):
    """InfoNCE on ``phi(z) / ||phi(z)||``; an all-zero row stays zero (eps 1e-12).

    The only change to SimCLR is the non-negative map; the representation that evaluations
    should read is ``phi(z)`` (see :attr:`non_negative`).

    Reference: Wang et al., "Non-negative Contrastive Learning", ICLR 2024.

    Args:
        temperature: tau > 0.
        non_neg: name of the map, see :data:`solo_tricl.losses.nonneg.NON_NEGATIVE_MAPS`.

    Shapes:
        views: V >= 2 tensors (B, k), projector outputs *before* the map. Output: scalar.

    Examples:
        >>> loss_fn = NCLLoss(temperature=0.2, non_neg="rep_relu")
        >>> loss = loss_fn(torch.randn(8, 32), torch.randn(8, 32))
    """

    def __init__(self, temperature: float = TEMPERATURE, non_neg: str = NON_NEG):
        super().__init__()
        self.temperature = require_positive("temperature", temperature)
        self.non_negative = NonNegative(non_neg)

    def forward(self, *views: torch.Tensor) -> torch.Tensor:
        return info_nce_loss(*map(self.non_negative, views), temperature=self.temperature)
