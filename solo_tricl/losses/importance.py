"""The learnable feature-importance vector of triCL."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from solo_tricl.losses._checks import require_non_negative, require_positive_int
from solo_tricl.losses.defaults import IMPORTANCE_INIT_STD


class FeatureImportance(nn.Module):
    """s = softplus(theta), theta in R^k: the importance of each projector feature.

    The module only holds theta; put it wherever the host optimizes and checkpoints
    parameters (on the method in solo-learn, on the model in OpenCLIP) and hand it to the
    triCL losses. theta must be trained *without* weight decay.

    Reference: Zhang et al., "Tri-factor Contrastive Learning", 2023 (the diagonal S of
    z^T S z'); theta is initialised as 0.1 * N(0, 1) like the authors' code.

    Args:
        num_features: k, the projector output dimension.
        init_std: standard deviation of theta at initialisation.

    Examples:
        >>> importance = FeatureImportance(256)
        >>> s = importance()            # (256,), all positive
        >>> top = importance.order()[:20]  # indices of the 20 most important features
    """

    def __init__(self, num_features: int, init_std: float = IMPORTANCE_INIT_STD):
        super().__init__()
        num_features = require_positive_int("num_features", num_features)
        init_std = require_non_negative("init_std", init_std)
        self.theta = nn.Parameter(init_std * torch.randn(num_features))

    @property
    def num_features(self) -> int:
        return self.theta.numel()

    # how s is read off theta, said once: plots, logs and the OpenCLIP hook read these
    PARAMETRISATION = "s = softplus(theta)"

    @staticmethod
    def map(theta: torch.Tensor) -> torch.Tensor:
        """theta -> s = softplus(theta) > 0."""
        return F.softplus(theta)

    @classmethod
    def neutral(cls) -> float:
        """s at theta = 0, around which s starts (softplus(0) = log 2)."""
        return float(cls.map(torch.zeros(())))

    def forward(self) -> torch.Tensor:
        """(k,) importance s = softplus(theta) > 0."""
        return self.map(self.theta)

    @torch.no_grad()
    def order(self) -> torch.Tensor:
        """(k,) feature indices sorted by s, most important first."""
        return torch.argsort(self(), descending=True)

    @torch.no_grad()
    def entropy(self) -> torch.Tensor:
        """Entropy of s / sum(s) divided by log k: 1 for uniform s, towards 0 when few dominate."""
        p = self() / self().sum()
        if self.num_features == 1:
            return torch.ones((), device=p.device)
        return -(p * p.clamp_min(1e-30).log()).sum() / math.log(self.num_features)

    def extra_repr(self) -> str:
        return f"num_features={self.num_features}"
