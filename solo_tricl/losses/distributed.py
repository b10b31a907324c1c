"""All-gather along the batch dimension, with or without gradient, for contrastive losses.

Every process must pass a tensor of the same shape. Rows come back ordered by rank, so that
process ``r``'s rows sit at ``[r * n, (r + 1) * n)`` of the result: masks built from these
global row indices are right on every process.

Gradient convention (the one DDP expects): the backward pass of :func:`gather_with_grad` sums
the gradients that every process's loss sends to a row, and hands each process the gradients
of its own rows. DDP then averages parameter gradients over processes, so training with
per-process losses ``L_r`` optimizes ``mean_r L_r``, which for equal local batches is the loss
of the whole global batch.
"""

from typing import Tuple

import torch
import torch.distributed as dist


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank_and_world_size() -> Tuple[int, int]:
    if is_distributed():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class _AllGatherWithGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        world_size = dist.get_world_size()
        ctx.rank, ctx.rows = dist.get_rank(), x.shape[0]
        chunks = [torch.empty_like(x) for _ in range(world_size)]
        dist.all_gather(chunks, x.contiguous())
        return torch.cat(chunks, dim=0)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        # all_reduce works on every backend (gloo has no reduce_scatter).
        grad = grad_output.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad[ctx.rank * ctx.rows : (ctx.rank + 1) * ctx.rows]


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """(n, ...) on each of W processes -> (W * n, ...), differentiable w.r.t. every row.

    Without an initialized process group (or with one process) returns ``x`` itself.
    """
    if not is_distributed():
        return x
    return _AllGatherWithGrad.apply(x)


def gather_without_grad(x: torch.Tensor, keep_local_grad: bool = True) -> torch.Tensor:
    """(n, ...) -> (W * n, ...) with no gradient through other processes' rows.

    With ``keep_local_grad`` this process's own rows are ``x`` itself and keep their gradient
    (OpenCLIP's behaviour without ``--gather-with-grad``, unless ``--local-loss``).
    """
    if not is_distributed():
        return x
    rank, world_size = rank_and_world_size()
    chunks = [torch.empty_like(x) for _ in range(world_size)]
    with torch.no_grad():
        dist.all_gather(chunks, x.contiguous())
    if keep_local_grad:
        chunks[rank] = x
    return torch.cat(chunks, dim=0)
