"""The decorrelation regulariser that triCL adds to its contrastive term."""

import torch

from solo_tricl.losses.infonce import at_least_fp32, without_autocast


class _Decorrelation(torch.autograd.Function):
    """mean((C - I)^2), C = scale * Z^T Z, with the closed-form gradient (4 scale / k^2) Z (C - I).

    Autograd through ``Z.T @ Z`` costs two k x k x N matmuls in the backward; this costs one.
    """

    @staticmethod
    def forward(ctx, zhat, scale):
        k = zhat.shape[1]
        with without_autocast(zhat):
            residual = zhat.T @ zhat
        residual.mul_(scale).diagonal().sub_(1)
        ctx.save_for_backward(zhat, residual)
        ctx.factor = 4 * scale / k**2
        return residual.pow(2).mean()

    @staticmethod
    def backward(ctx, grad_out):
        zhat, residual = ctx.saved_tensors
        return (zhat @ residual).mul_(grad_out * ctx.factor), None


def decorrelation_loss(zhat: torch.Tensor, average_rows: bool = True) -> torch.Tensor:
    """mean over the k x k entries of (C - I)^2, with C = zhat^T zhat (/ N if ``average_rows``).

    C is uncentred and taken over every row given (both views, before any importance scaling).
    With unit rows and ``average_rows``, trace(C) = 1, so the loss cannot fall below about 1/k.

    Args:
        zhat: (N, k) L2-normalised embeddings.
        average_rows: divide C by N (triCL) or not (tri-SCL, as in the authors' code).

    Returns:
        Scalar.
    """
    zhat = at_least_fp32(zhat)
    return _Decorrelation.apply(zhat, 1 / zhat.shape[0] if average_rows else 1.0)
