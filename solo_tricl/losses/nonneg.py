"""The non-negative maps phi of NCL, applied to projector outputs before normalisation."""

from typing import Callable, Dict

import torch
import torch.nn as nn
import torch.nn.functional as F

from solo_tricl.losses._checks import require_choice, require_float_tensor
from solo_tricl.losses.defaults import NON_NEG
from solo_tricl.losses.views import keep_non_finite


class _RepReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return F.relu(z)

    @staticmethod
    def backward(ctx, grad_out):
        (z,) = ctx.saved_tensors
        return torch.ops.aten.gelu_backward(grad_out, z)


def rep_relu(z: torch.Tensor) -> torch.Tensor:
    """relu(z) in the forward pass, the gradient of gelu(z) in the backward pass.

    The value of ``gelu(z) - stopgrad(gelu(z)) + stopgrad(relu(z))``, computed in one pass each
    way. The gelu gradient is non-zero for negative inputs, so units that relu switched off
    still learn (NCL's reparametrised relu, its default on CIFAR).
    """
    return _RepReLU.apply(z)


NON_NEGATIVE_MAPS: Dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": F.relu,
    "rep_relu": rep_relu,
    "gelu": F.gelu,
    "softplus": F.softplus,
    "sigmoid": torch.sigmoid,
    "exp": torch.exp,
    "leaky_relu": F.leaky_relu,
}


class NonNegative(nn.Module):
    """z -> phi(z), elementwise, with phi one of :data:`NON_NEGATIVE_MAPS`.

    ``relu``, ``rep_relu``, ``softplus``, ``sigmoid`` and ``exp`` are non-negative; ``gelu``
    (min about -0.17) and ``leaky_relu`` are the paper's near-non-negative ablations.

    Reference: Wang et al., "Non-negative Contrastive Learning", ICLR 2024.

    Args:
        name: key of :data:`NON_NEGATIVE_MAPS`.

    Shapes:
        Input (*, k) -> output (*, k).

    Examples:
        >>> phi = NonNegative("rep_relu")
        >>> phi(torch.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def __init__(self, name: str = NON_NEG):
        super().__init__()
        self.name = require_choice("non_neg", name, NON_NEGATIVE_MAPS)
        self._fn = NON_NEGATIVE_MAPS[name]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """phi(z); NaN where z is not finite (see :func:`~solo_tricl.losses.views.keep_non_finite`)."""
        return keep_non_finite(self._fn(require_float_tensor("z", z)), z)

    def extra_repr(self) -> str:
        return self.name
