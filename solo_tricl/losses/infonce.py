"""The InfoNCE core that every loss in this package shares.

A loss computes its own logits between local anchor rows and the gathered candidate rows; this
module gives it the two-view layout, the positive and self columns as *global* indices (right
under DDP), and the masked cross-entropy in log space.
"""

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F

from solo_tricl.losses._checks import require_view_pair
from solo_tricl.losses.distributed import gather_with_grad, rank_and_world_size


@dataclass(frozen=True)
class TwoViewBatch:
    """Rows of two views stacked as ``[view 0; view 1]``.

    Attributes:
        local: (2B, k) this process's L2-normalised rows; row ``n`` and row ``n + B`` are the two views of
            sample ``n``.
        all: (W * 2B, k) the rows of every process, gathered with gradient (``all is local``
            on one process).
        self_cols: (2B,) column of ``all`` that holds each local row itself.
        positive_cols: (2B,) column of ``all`` that holds each local row's other view.
    """

    local: torch.Tensor
    all: torch.Tensor
    self_cols: torch.Tensor
    positive_cols: torch.Tensor

    @property
    def batch_size(self) -> int:
        return self.local.shape[0] // 2


def pair_views(z0: torch.Tensor, z1: torch.Tensor) -> TwoViewBatch:
    """L2-normalise two (B, k) views, stack and gather them, and index the pairs globally.

    Rows are divided by ``max(||z||, 1e-12)``: an all-zero row stays zero.
    """
    require_view_pair(z0, z1)
    local = F.normalize(torch.cat([z0, z1], dim=0), dim=1)
    rows = local.shape[0]
    rank, _ = rank_and_world_size()
    local_rows = torch.arange(rows, device=local.device)
    offset = rank * rows
    return TwoViewBatch(
        local=local,
        all=gather_with_grad(local),
        self_cols=offset + local_rows,
        positive_cols=offset + (local_rows + z0.shape[0]) % rows,
    )


def at_least_fp32(x: torch.Tensor) -> torch.Tensor:
    """Upcast half precision for the log-sum-exp; keep float32/float64 as they are."""
    return x if x.dtype in (torch.float32, torch.float64) else x.float()


def without_autocast(x: torch.Tensor):
    """A context that turns autocast off on ``x``'s device: the hand-written backward passes
    need their forward's matrices in the dtype they were given (float32 or float64)."""
    return torch.autocast(device_type=x.device.type, enabled=False)


def contrastive_cross_entropy(
    logits: torch.Tensor,
    positive_cols: torch.Tensor,
    self_cols: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """Mean over rows of ``-log softmax(logits_n)[positive_n]``.

    Args:
        logits: (N, M) scores of N anchors against M candidates.
        positive_cols: (N,) column of each anchor's positive.
        self_cols: (N,) column of each anchor itself, excluded from the softmax (set to -inf
            before the log-sum-exp), or None when anchors and candidates are different sets
            (image-text).

    Returns:
        Scalar loss, float32 (or float64 for float64 logits).
    """
    logits = at_least_fp32(logits)
    if self_cols is not None:
        logits = logits.scatter(1, self_cols.unsqueeze(1), float("-inf"))
    return F.cross_entropy(logits, positive_cols)
