"""``Z diag(w) Z^T``, with a backward that uses its symmetry.

Autograd differentiates ``(Z * w) @ Z.T`` through two (N, N) x (N, k) matmuls, one for each
factor. The matrix is symmetric in its two uses of Z, so both gradients come from one:
with G the incoming (N, N) gradient and P = (G + G^T) Z,

    dZ = P diag(w),    dw_i = 1/2 sum_n Z_ni P_ni.

triCL's logits are this matrix whenever every row is an anchor and a candidate (one process,
``anchors="all"``): their backward then takes one matmul where autograd, and SimCLR's InfoNCE,
take two.
"""

import torch


class _WeightedGram(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, w):
        ctx.save_for_backward(z, w)
        return (z * w) @ z.T

    @staticmethod
    def backward(ctx, grad):
        z, w = ctx.saved_tensors
        # out-of-place ops only: under create_graph the backward is differentiated again
        projected = (grad + grad.T) @ z
        grad_z = projected * w if ctx.needs_input_grad[0] else None
        grad_w = 0.5 * (z * projected).sum(dim=0) if ctx.needs_input_grad[1] else None
        return grad_z, grad_w


def weighted_gram(z: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """(N, N) ``z diag(w) z^T`` with the one-matmul backward described in the module docstring.

    Args:
        z: (N, k) rows.
        w: (k,) weights, in z's dtype.

    Examples:
        >>> z, w = torch.randn(6, 4, requires_grad=True), torch.rand(4, requires_grad=True)
        >>> torch.allclose(weighted_gram(z, w), (z * w) @ z.T)
        True
    """
    return _WeightedGram.apply(z, w)
