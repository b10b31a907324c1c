"""The core every view loss shares: the multi-view batch and the masked cross-entropy.

A loss computes its own logits between local anchor rows and the gathered candidate rows; this
module gives it the multi-view layout, the self columns and the positive mask from *global*
indices (right under DDP), and the masked cross-entropy in log space.
"""

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F

from solo_tricl.losses._checks import require_views
from solo_tricl.losses.distributed import gather_with_grad, rank_and_world_size


@dataclass(frozen=True)
class ViewBatch:
    """Rows of V views stacked as ``[view 0; view 1; ...; view V-1]``, B samples per view.

    Every view of a sample is a positive for every other view of it (SimCLR's rule in
    solo-learn, with indexes repeated once per crop): for V = 2, row ``n`` and row ``n + B``.

    Attributes:
        local: (V * B, k) this process's L2-normalised rows.
        all: (W * V * B, k) the rows of every process, gathered with gradient (``all is local``
            on one process).
        self_cols: (V * B,) column of ``all`` that holds each local row itself.
        positive_mask: (V * B, W * V * B) True where a column holds another view of the row's
            sample, built from global indices.
        num_views: V.
        positive_cols: (2B,) the column of each row's one positive when V = 2, else None.
    """

    local: torch.Tensor
    all: torch.Tensor
    self_cols: torch.Tensor
    positive_mask: torch.Tensor
    num_views: int
    positive_cols: Optional[torch.Tensor] = None

    @property
    def batch_size(self) -> int:
        return self.local.shape[0] // self.num_views


def unit_rows(x: torch.Tensor) -> torch.Tensor:
    """Rows divided by their L2 norm; an all-zero row stays zero and passes no gradient.

    ``F.normalize`` divides a zero row by its eps, so its gradient there is 1 / eps (1e12): a
    row that a non-negative map sets to zero would send that through a surrogate gradient
    (NCL's rep_relu) and wreck an optimizer step. Only an exactly-zero row is special: a row
    holding NaN or Inf comes out NaN, so a diverged model gives a NaN loss, never a finite one.
    """
    norm = x.norm(dim=1, keepdim=True)
    return torch.where(norm == 0, torch.zeros_like(x), x / norm.clamp_min(torch.finfo(x.dtype).tiny))


def keep_non_finite(output: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """``output`` with NaN wherever ``source`` is NaN or +-Inf: a map that saturates (relu of
    -Inf is 0, sigmoid of Inf is 1) must not turn a diverged input into a finite value."""
    return torch.where(torch.isfinite(source), output, source.new_tensor(float("nan")))


def nan_unless_finite(loss: torch.Tensor, *inputs: torch.Tensor) -> torch.Tensor:
    """``loss``, or NaN when any input holds NaN or +-Inf anywhere: for a loss whose terms do not
    read every feature (Matryoshka's prefixes), so a diverged feature still shows."""
    finite = torch.stack([torch.isfinite(x).all() for x in inputs]).all()
    return torch.where(finite, loss, loss.new_tensor(float("nan")))


def stack_views(*views: torch.Tensor, normalize: bool = True) -> ViewBatch:
    """L2-normalise V >= 2 views of shape (B, k), stack and gather them, index pairs globally.

    Rows are L2-normalised by :func:`unit_rows` (an all-zero row stays zero), or left as they are
    with ``normalize=False`` (for a loss that normalises parts of each row, such as Matryoshka's
    prefixes). Sample ids are global: process ``r``'s rows hold samples ``r * B ... r * B + B - 1``,
    so masks are right under DDP.
    """
    require_views(views)
    local = torch.cat(views, dim=0)
    if normalize:
        local = unit_rows(local)
    rows, num_views = local.shape[0], len(views)
    batch = rows // num_views
    rank, world_size = rank_and_world_size()
    device = local.device
    local_sample = torch.arange(rows, device=device) % batch + rank * batch
    global_rows = torch.arange(world_size * rows, device=device)
    global_sample = (global_rows // rows) * batch + global_rows % rows % batch
    self_cols = rank * rows + torch.arange(rows, device=device)
    positive_mask = local_sample.unsqueeze(1) == global_sample.unsqueeze(0)
    positive_mask[torch.arange(rows, device=device), self_cols] = False
    positive_cols = (self_cols + batch) % rows + rank * rows if num_views == 2 else None
    return ViewBatch(local, gather_with_grad(local), self_cols, positive_mask, num_views, positive_cols)


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


def multi_positive_cross_entropy(logits: torch.Tensor, batch: ViewBatch) -> torch.Tensor:
    """Mean over anchors of ``-log sum_{p positive} exp(l_p) / sum_{j != self} exp(l_j)``.

    SimCLR's multi-crop rule (solo-learn's ``simclr_loss_func`` with repeated indexes), in log
    space. For two views there is one positive per anchor and this is plain cross-entropy.

    Args:
        logits: (V * B, W * V * B) scores of the local rows against every gathered row.
        batch: the :class:`ViewBatch` the logits were computed from.
    """
    if batch.num_views == 2:
        return contrastive_cross_entropy(logits, batch.positive_cols, batch.self_cols)
    logits = at_least_fp32(logits).scatter(1, batch.self_cols.unsqueeze(1), float("-inf"))
    positives = logits.masked_fill(~batch.positive_mask, float("-inf"))
    return (torch.logsumexp(logits, dim=1) - torch.logsumexp(positives, dim=1)).mean()
