"""Matryoshka Representation Learning (MRL) for contrastive losses: InfoNCE on nested prefixes."""

from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn

from solo_tricl.losses._checks import require_choice, require_nesting, require_positive, require_positive_int
from solo_tricl.losses.defaults import MRL_REDUCTION, MRL_REDUCTIONS, MRL_SMALLEST_PREFIX, TEMPERATURE
from solo_tricl.losses.views import multi_positive_cross_entropy, nan_unless_finite, stack_views, unit_rows


def default_nesting(k: int, smallest: int = MRL_SMALLEST_PREFIX) -> Tuple[int, ...]:
    """The powers of two from ``smallest`` (itself a power of two) up to k, and k itself: the default
    nesting (Kusupati et al. nest 8, 16, ..., d); just (k,) when k <= ``smallest``."""
    require_positive_int("smallest", smallest)
    sizes = [smallest]
    while sizes[-1] * 2 < k:
        sizes.append(sizes[-1] * 2)
    return tuple(sorted({m for m in sizes if m < k} | {k}))


def reduce_prefix_terms(terms, reduction: str) -> torch.Tensor:
    """The per-prefix losses summed (the authors' weights of 1) or averaged."""
    stacked = torch.stack(terms)
    return stacked.sum() if reduction == "sum" else stacked.mean()


def matryoshka_info_nce_loss(
    *views: torch.Tensor,
    nesting: Optional[Sequence[int]] = None,
    temperature: float = TEMPERATURE,
    reduction: str = MRL_REDUCTION,
    smallest_prefix: int = MRL_SMALLEST_PREFIX,
) -> torch.Tensor:
    """Sum (or mean) over the prefix sizes m of SimCLR's loss on ``z[:, :m]``, each prefix
    L2-normalised on its own; see :class:`MatryoshkaInfoNCELoss`."""
    require_positive("temperature", temperature)
    require_choice("reduction", reduction, MRL_REDUCTIONS)
    batch = stack_views(*views, normalize=False)
    k = batch.local.shape[1]
    sizes = require_nesting(nesting, k) or default_nesting(k, smallest_prefix)
    terms = []
    for m in sizes:
        anchors, candidates = unit_rows(batch.local[:, :m]), unit_rows(batch.all[:, :m])
        terms.append(multi_positive_cross_entropy((anchors / temperature) @ candidates.T, batch))
    return nan_unless_finite(reduce_prefix_terms(terms, reduction), batch.local)


class MatryoshkaInfoNCELoss(nn.Module):
    """Matryoshka InfoNCE: SimCLR's loss on nested prefixes ``z[:, :m]``, summed over m.

    The first m features are trained to work on their own, for every m in ``nesting``, so the
    feature order is the prefix.

    Reference: Kusupati et al., "Matryoshka Representation Learning", NeurIPS 2022 (their code
    nests 8, 16, ..., d and sums the per-size losses with weights 1).

    Args:
        nesting: the prefix sizes m (integers in [1, k]); None (default): :func:`default_nesting`
            from ``smallest_prefix``.
        temperature: tau > 0.
        reduction: ``sum`` (the authors') or ``mean`` of the per-prefix losses.
        smallest_prefix: with ``nesting`` None, the prefixes are ``smallest_prefix``, twice it, ...
            and k (the authors': 8).

    Shapes:
        views: V >= 2 tensors (B, k): ``loss(z0, z1)`` or ``loss(*crops)``. Output: scalar.

    Examples:
        >>> loss_fn = MatryoshkaInfoNCELoss(nesting=(4, 16, 64))
        >>> loss = loss_fn(torch.randn(8, 64), torch.randn(8, 64))
    """

    def __init__(
        self,
        nesting: Optional[Sequence[int]] = None,
        temperature: float = TEMPERATURE,
        reduction: str = MRL_REDUCTION,
        smallest_prefix: int = MRL_SMALLEST_PREFIX,
    ):
        super().__init__()
        self.nesting = require_nesting(nesting)
        self.temperature = require_positive("temperature", temperature)
        self.reduction = require_choice("reduction", reduction, MRL_REDUCTIONS)
        self.smallest_prefix = require_positive_int("smallest_prefix", smallest_prefix)

    def forward(self, *views: torch.Tensor) -> torch.Tensor:
        return matryoshka_info_nce_loss(
            *views,
            nesting=self.nesting,
            temperature=self.temperature,
            reduction=self.reduction,
            smallest_prefix=self.smallest_prefix,
        )
