"""Matryoshka Representation Learning (MRL) for contrastive losses: InfoNCE on nested prefixes."""

from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn

from solo_tricl.losses._checks import require_nesting, require_positive
from solo_tricl.losses.defaults import TEMPERATURE
from solo_tricl.losses.views import multi_positive_cross_entropy, nan_unless_finite, stack_views, unit_rows


def powers_of_two_up_to(k: int) -> Tuple[int, ...]:
    """1, 2, 4, ... up to k, and k itself: the default nesting (MRL uses powers of two; starting at
    1 lets the smallest prefixes be compared with triCL's top features)."""
    sizes = [1]
    while sizes[-1] * 2 < k:
        sizes.append(sizes[-1] * 2)
    return tuple(sorted(set(sizes + [k])))


def matryoshka_info_nce_loss(
    *views: torch.Tensor, nesting: Optional[Sequence[int]] = None, temperature: float = TEMPERATURE
) -> torch.Tensor:
    """Mean over the prefix sizes m of SimCLR's loss on ``z[:, :m]``, each prefix L2-normalised on
    its own; see :class:`MatryoshkaInfoNCELoss`."""
    require_positive("temperature", temperature)
    batch = stack_views(*views, normalize=False)
    k = batch.local.shape[1]
    sizes = require_nesting(nesting, k) or powers_of_two_up_to(k)
    terms = []
    for m in sizes:
        anchors, candidates = unit_rows(batch.local[:, :m]), unit_rows(batch.all[:, :m])
        terms.append(multi_positive_cross_entropy((anchors / temperature) @ candidates.T, batch))
    return nan_unless_finite(torch.stack(terms).mean(), batch.local)


class MatryoshkaInfoNCELoss(nn.Module):
    """Matryoshka InfoNCE: SimCLR's loss on nested prefixes ``z[:, :m]``, averaged over m.

    The first m features are trained to work on their own, for every m in ``nesting``, so the
    feature order is the prefix. The mean (all weights 1) keeps the scale of one InfoNCE.

    Reference: Kusupati et al., "Matryoshka Representation Learning", NeurIPS 2022.

    Args:
        nesting: the prefix sizes m (integers in [1, k]); None (default): 1, 2, 4, ... and k.
        temperature: tau > 0.

    Shapes:
        views: V >= 2 tensors (B, k): ``loss(z0, z1)`` or ``loss(*crops)``. Output: scalar.

    Examples:
        >>> loss_fn = MatryoshkaInfoNCELoss(nesting=(4, 16, 64))
        >>> loss = loss_fn(torch.randn(8, 64), torch.randn(8, 64))
    """

    def __init__(self, nesting: Optional[Sequence[int]] = None, temperature: float = TEMPERATURE):
        super().__init__()
        self.nesting = require_nesting(nesting)
        self.temperature = require_positive("temperature", temperature)

    def forward(self, *views: torch.Tensor) -> torch.Tensor:
        return matryoshka_info_nce_loss(*views, nesting=self.nesting, temperature=self.temperature)
