"""Mixtures of a gamma-kernel InfoNCE with the Gaussian (SimCLR) one."""

import torch
import torch.nn as nn

from solo_tricl.losses._checks import require_choice, require_in_range, require_positive
from solo_tricl.losses.defaults import EPS, GAMMA, LAM, MIXTURE, MIXTURES, TAU1, TAU2
from solo_tricl.losses.kernel import kernel_logits, require_gamma, squared_distances
from solo_tricl.losses.views import multi_positive_cross_entropy, stack_views


class KernelMixtureLoss(nn.Module):
    """``lam * L(gamma, tau1) + (1 - lam) * L(2, tau2)`` of two kernel InfoNCE terms.

    * ``mixture="sum"`` (simple sum): both terms on the same normalised embedding; the squared
      distances are computed once and shared.
    * ``mixture="concat"`` (concatenation sum): the (B, 2d) embedding is normalised as a
      whole, the gamma kernel sees dims ``[0:d]`` and the Gaussian dims ``[d:2d]``.

    Reference: Tan et al., "Contrastive Learning is Spectral Clustering on Similarity Graph",
    ICLR 2024. The defaults (sum-style weights lam 0.2, tau1 0.1, tau2 0.3) scored best in this
    project's sweep (``benchmarks/results/kernel_sweep.md``).

    Args:
        gamma: exponent of the first kernel, in (0, 2].
        lam: weight of the gamma-kernel term, in [0, 1].
        tau1: temperature of the gamma-kernel term, > 0.
        tau2: temperature of the Gaussian term, > 0 (Gaussian at tau2 == SimCLR at tau2 / 2).
        mixture: ``"sum"`` or ``"concat"``.
        eps: added to D^2 before fractional powers.

    Shapes:
        views: V >= 2 tensors of shape (B, k), k even for ``"concat"`` (every view of a sample is a
        positive for the others, as in :class:`~solo_tricl.losses.InfoNCELoss`). Output: scalar.

    Examples:
        >>> loss_fn = KernelMixtureLoss(gamma=1.0, lam=0.2, tau1=0.1, tau2=0.3)
        >>> loss = loss_fn(torch.randn(8, 32), torch.randn(8, 32))
    """

    def __init__(
        self,
        gamma: float = GAMMA,
        lam: float = LAM,
        tau1: float = TAU1,
        tau2: float = TAU2,
        mixture: str = MIXTURE,
        eps: float = EPS,
    ):
        super().__init__()
        self.gamma = require_gamma(gamma)
        self.lam = require_in_range("lam", lam, 0.0, 1.0)
        self.tau1 = require_positive("tau1", tau1)
        self.tau2 = require_positive("tau2", tau2)
        self.mixture = require_choice("mixture", mixture, MIXTURES)
        self.eps = require_positive("eps", eps)

    def forward(self, *views: torch.Tensor) -> torch.Tensor:
        batch = stack_views(*views)
        if self.mixture == "sum":
            sq_gamma = sq_gauss = squared_distances(batch.local, batch.all, batch.self_cols, self.eps)
        else:
            k = batch.local.shape[1]
            if k % 2:
                raise ValueError(f"mixture='concat' needs an even embedding dimension, got k={k}")
            d = k // 2
            first, second = slice(0, d), slice(d, k)
            sq_gamma = squared_distances(batch.local[:, first], batch.all[:, first], batch.self_cols, self.eps)
            sq_gauss = squared_distances(batch.local[:, second], batch.all[:, second], batch.self_cols, self.eps)
        gamma_term = multi_positive_cross_entropy(kernel_logits(sq_gamma, self.gamma, self.tau1), batch)
        gauss_term = multi_positive_cross_entropy(kernel_logits(sq_gauss, 2.0, self.tau2), batch)
        return self.lam * gamma_term + (1 - self.lam) * gauss_term
