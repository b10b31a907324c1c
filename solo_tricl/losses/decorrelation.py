"""The decorrelation regulariser that triCL adds to its contrastive term.

Two forms of ``L_dec = mean((C - I)^2)`` over the k x k entries of an uncentred C:

- ``"isotropic"`` (default): ``C = (k / N) zhat^T zhat``. On unit rows trace(C) = k, so C = I,
  decorrelated features of equal variance, is reachable, and an off-diagonal entry of C is
  about the correlation of two features: the term actually decorrelates.
- ``"reference"``: the authors' code. triCL uses ``C = zhat^T zhat / N``, whose trace is 1 on
  unit rows: the loss sits at its floor ``(1 - 1/k)^2 / k`` from the first step and an
  off-diagonal correlation rho costs only about ``rho^2 / k^4``, so it is inert. tri-SCL uses
  ``C = zhat^T zhat`` (trace N), which dominates the spectral loss. Kept for comparison.
"""

from typing import Optional

import torch

from solo_tricl.losses._checks import require_choice, require_non_negative
from solo_tricl.losses.defaults import DECORRELATION, DECORRELATION_FORMS, DECORRELATION_WEIGHTS
from solo_tricl.losses.views import at_least_fp32, without_autocast


def decorrelation_weight_or_default(weight: Optional[float], form: str) -> float:
    """``weight`` checked (>= 0), or the form's default lambda
    (:data:`solo_tricl.losses.defaults.DECORRELATION_WEIGHTS`) if None."""
    require_choice("decorrelation", form, DECORRELATION_FORMS)
    if weight is None:
        return DECORRELATION_WEIGHTS[form]
    return require_non_negative("decorrelation_weight", weight)


class _Decorrelation(torch.autograd.Function):
    """mean((C - I)^2), C = scale * Z^T Z, with the closed-form gradient (4 scale / k^2) Z (C - I).

    Autograd through ``Z.T @ Z`` costs two k x k x N matmuls in the backward; this costs one.
    A backward that builds a graph (double backward) recomputes C - I from Z, so that second
    derivatives see its dependence on Z.
    """

    @staticmethod
    def forward(ctx, zhat, scale):
        k = zhat.shape[1]
        with without_autocast(zhat):
            residual = zhat.T @ zhat
        residual.mul_(scale).diagonal().sub_(1)
        ctx.save_for_backward(zhat, residual)
        ctx.scale = scale
        ctx.factor = 4 * scale / k**2
        return residual.pow(2).mean()

    @staticmethod
    def backward(ctx, grad_out):
        zhat, residual = ctx.saved_tensors
        if torch.is_grad_enabled():
            identity = torch.eye(zhat.shape[1], dtype=zhat.dtype, device=zhat.device)
            residual = ctx.scale * (zhat.T @ zhat) - identity
            return zhat @ residual * (grad_out * ctx.factor), None
        return (zhat @ residual).mul_(grad_out * ctx.factor), None


class _GramDecorrelation(torch.autograd.Function):
    """The same mean((C - I)^2), C = scale * Z^T Z, from the N x N Gram matrix G = Z Z^T, for
    N < k rows: ||C - I||^2 = scale^2 ||G||^2 - 2 scale tr(Z^T Z) + k (the Frobenius norms of
    Z^T Z and Z Z^T are equal), and the gradient (4 scale / k^2) (scale G Z - Z) equals
    :class:`_Decorrelation`'s. Two N x N x k matmuls instead of two k x k x N ones; the value
    is summed in float64, so the cancellation of the three terms costs no precision.
    """

    @staticmethod
    def forward(ctx, zhat, scale):
        k = zhat.shape[1]
        with without_autocast(zhat):
            gram = zhat @ zhat.T
        squared = gram.double().pow(2).sum() * scale**2
        trace = zhat.double().pow(2).sum() * scale
        ctx.save_for_backward(zhat, gram)
        ctx.scale = scale
        ctx.factor = 4 * scale / k**2
        return ((squared - 2 * trace + k) / k**2).to(zhat.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        zhat, gram = ctx.saved_tensors
        if torch.is_grad_enabled():
            gram = zhat @ zhat.T
            return (ctx.scale * (gram @ zhat) - zhat) * (grad_out * ctx.factor), None
        return (gram @ zhat).mul_(ctx.scale).sub_(zhat).mul_(grad_out * ctx.factor), None


def decorrelation_loss(zhat: torch.Tensor, form: str = DECORRELATION, average_rows: bool = True) -> torch.Tensor:
    """mean over the k x k entries of (C - I)^2 for uncentred C over every row given.

    Computed from whichever of the k x k and N x N Gram matrices is smaller.

    Args:
        zhat: (N, k) L2-normalised embeddings: both views, all crops, gathered under DDP, before
            any importance scaling.
        form: ``"isotropic"`` (C = (k/N) zhat^T zhat) or ``"reference"`` (the authors' C).
        average_rows: reference form only: C = zhat^T zhat / N (triCL) or zhat^T zhat (tri-SCL).

    Returns:
        Scalar.

    Examples:
        >>> z = torch.nn.functional.normalize(torch.randn(512, 16), dim=1)
        >>> decorrelation_loss(z)            # small: random directions are nearly isotropic
    """
    require_choice("decorrelation", form, DECORRELATION_FORMS)
    zhat = at_least_fp32(zhat)
    n, k = zhat.shape
    if form == "isotropic":
        scale = k / n
    else:
        scale = 1 / n if average_rows else 1.0
    # the cheaper side: k x k (N k^2 per matmul) or N x N (N^2 k), the same value and gradient
    return (_GramDecorrelation if n < k else _Decorrelation).apply(zhat, scale)
