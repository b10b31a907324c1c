"""Kernel InfoNCE: InfoNCE with the kernel exp(-||zhat_i - zhat_j||^gamma / tau)."""

from typing import Optional

import torch
import torch.nn as nn

from solo_tricl.losses._checks import require_in_range, require_positive
from solo_tricl.losses.defaults import EPS, GAMMA, GAMMA_RANGE, TAU1
from solo_tricl.losses.views import (
    at_least_fp32,
    multi_positive_cross_entropy,
    stack_views,
    without_autocast,
)


def require_gamma(gamma: float) -> float:
    return require_in_range("gamma", gamma, *GAMMA_RANGE, low_open=True)


class _SquaredDistances(torch.autograd.Function):
    """max(||a_i - c_j||^2, 0) + eps from the Gram matrix, with a hand-written backward.

    Autograd through the expanded formula |a_i|^2 + |c_j|^2 - 2 a_i.c_j spends several passes
    over the (N, M) matrix; this backward is two matmuls and two reductions.
    """

    @staticmethod
    def forward(ctx, anchors, candidates, self_cols, eps):
        with without_autocast(anchors):
            offsets = candidates.pow(2).sum(dim=1).add_(eps).unsqueeze(0)
            sq = torch.addmm(offsets, anchors, candidates.T, alpha=-2)
        sq.add_(anchors.pow(2).sum(dim=1, keepdim=True)).clamp_min_(eps)
        if self_cols is not None:
            sq.scatter_(1, self_cols.unsqueeze(1), 1.0)
        ctx.save_for_backward(anchors, candidates)
        return sq

    @staticmethod
    def backward(ctx, grad_sq):
        # A self entry (i, self_i) pairs a row with itself, so its terms 2 g (a_i - c_self_i)
        # vanish: no need to zero its gradient.
        anchors, candidates = ctx.saved_tensors
        grad_anchors = grad_candidates = None
        if ctx.needs_input_grad[0]:
            row_sums = grad_sq.sum(dim=1, keepdim=True)
            grad_anchors = torch.addmm(anchors * row_sums, grad_sq, candidates, beta=2, alpha=-2)
        if ctx.needs_input_grad[1]:
            col_sums = grad_sq.sum(dim=0).unsqueeze(1)
            grad_candidates = torch.addmm(candidates * col_sums, grad_sq.T, anchors, beta=2, alpha=-2)
        return grad_anchors, grad_candidates, None, None


def squared_distances(
    anchors: torch.Tensor,
    candidates: torch.Tensor,
    self_cols: Optional[torch.Tensor] = None,
    eps: float = EPS,
) -> torch.Tensor:
    """(N, M) ``D^2 + eps`` with D_ij = ||a_i - c_j||, from the Gram matrix.

    Never builds an (N, M, k) tensor. D^2 is clamped at 0 (this only removes rounding error,
    so the clamp's gradient is taken as 1). Each anchor's own column (``self_cols``) is set to
    1 before any power is taken, so that a fractional power has a finite gradient there; the
    cross-entropy masks that entry anyway. The eps keeps the gradient of D^gamma finite at
    D = 0 for gamma < 2; for the Gaussian kernel it shifts every logit of a row equally, which
    the softmax ignores.
    """
    return _SquaredDistances.apply(at_least_fp32(anchors), at_least_fp32(candidates), self_cols, eps)


class _ScaledPower(torch.autograd.Function):
    """scale * base^p, whose backward reuses the forward's power: p * out / base."""

    @staticmethod
    def forward(ctx, base, power, scale):
        with without_autocast(base):
            out = base.pow(power).mul_(scale)
        ctx.save_for_backward(base, out)
        ctx.power = power
        return out

    @staticmethod
    def backward(ctx, grad_out):
        base, out = ctx.saved_tensors
        return (grad_out * out).div_(base).mul_(ctx.power), None, None


def kernel_logits(sq_distances: torch.Tensor, gamma: float, temperature) -> torch.Tensor:
    """log K_gamma = -D^gamma / tau = -(D^2 + eps)^(gamma / 2) / tau.

    Args:
        sq_distances: (N, M) ``D^2 + eps``, see :func:`squared_distances`.
        gamma: in (0, 2].
        temperature: tau, a float or a scalar tensor (CLIP's learnable ``1 / logit_scale``).
    """
    if torch.is_tensor(temperature):
        return kernel_logits(sq_distances, gamma, 1.0) / temperature
    if gamma == 2.0:
        return sq_distances * (-1 / temperature)
    return _ScaledPower.apply(sq_distances, gamma / 2, -1 / temperature)


def kernel_info_nce_loss(
    *views: torch.Tensor,
    gamma: float = GAMMA,
    temperature: float = TAU1,
    eps: float = EPS,
) -> torch.Tensor:
    """Kernel InfoNCE of V >= 2 views of shape (B, k); see :class:`KernelInfoNCELoss`."""
    require_gamma(gamma)
    require_positive("temperature", temperature)
    batch = stack_views(*views)
    sq = squared_distances(batch.local, batch.all, batch.self_cols, eps)
    return multi_positive_cross_entropy(kernel_logits(sq, gamma, temperature), batch)


class KernelInfoNCELoss(nn.Module):
    """InfoNCE with the kernel K(i, j) = exp(-D_ij^gamma / tau), D_ij = ||zhat_i - zhat_j||.

    Per anchor: ``-log K(i, p(i)) / sum_{j != i} K(i, j)``, averaged over all 2B anchors.
    gamma = 2 is the Gaussian kernel, equal to SimCLR at temperature tau / 2 (so tau is not on
    SimCLR's scale); gamma = 1 is the Laplacian kernel, gamma = 0.5 the "exponential" one.

    Reference: Tan et al., "Contrastive Learning is Spectral Clustering on Similarity Graph",
    ICLR 2024.

    Args:
        gamma: exponent in (0, 2].
        temperature: tau > 0.
        eps: added to D^2 before the power (see :func:`squared_distances`).

    Shapes:
        z0, z1: (B, k). Output: scalar.

    Examples:
        >>> loss_fn = KernelInfoNCELoss(gamma=1.0, temperature=0.1)   # Laplacian
        >>> loss = loss_fn(torch.randn(8, 32), torch.randn(8, 32))
    """

    def __init__(self, gamma: float = GAMMA, temperature: float = TAU1, eps: float = EPS):
        super().__init__()
        self.gamma = require_gamma(gamma)
        self.temperature = require_positive("temperature", temperature)
        self.eps = require_positive("eps", eps)

    def forward(self, *views: torch.Tensor) -> torch.Tensor:
        return kernel_info_nce_loss(*views, gamma=self.gamma, temperature=self.temperature, eps=self.eps)
