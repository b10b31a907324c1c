"""The learnable feature-importance vector of triCL."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from solo_tricl.losses._checks import require_non_negative, require_positive, require_positive_int
from solo_tricl.losses.defaults import IMPORTANCE_INIT_STD


class FeatureImportance(nn.Module):
    """s = softplus(c theta), theta in R^k: the importance of each projector feature.

    The module only holds theta; put it wherever the host optimizes and checkpoints
    parameters (on the method in solo-learn, on the model in OpenCLIP) and hand it to the
    triCL losses. theta must be trained *without* weight decay.

    The scale c is a learning-rate multiplier for optimizers that normalise the gradient
    (Adam, as OpenCLIP trains): a step of lr on theta moves c theta by c lr. OpenCLIP's
    schedulers set one learning rate for every parameter, so this is how s gets its own.

    Reference: Zhang et al., "Tri-factor Contrastive Learning", 2023 (the diagonal S of
    z^T S z'); c theta is initialised as 0.1 * N(0, 1) like the authors' code.

    Args:
        num_features: k, the projector output dimension.
        init_std: standard deviation of c theta at initialisation.
        scale: c > 0.

    Examples:
        >>> importance = FeatureImportance(256)
        >>> s = importance()            # (256,), all positive
        >>> top = importance.order()[:20]  # indices of the 20 most important features
    """

    def __init__(self, num_features: int, init_std: float = IMPORTANCE_INIT_STD, scale: float = 1.0):
        super().__init__()
        num_features = require_positive_int("num_features", num_features)
        init_std = require_non_negative("init_std", init_std)
        self.scale = require_positive("scale", scale)
        self.theta = nn.Parameter(init_std * torch.randn(num_features) / self.scale)

    @property
    def num_features(self) -> int:
        return self.theta.numel()

    @property
    def parametrisation(self) -> str:
        """How s is read off theta, as plots and logs say it."""
        return "s = softplus(theta)" if self.scale == 1.0 else f"s = softplus({self.scale:g} theta)"

    @staticmethod
    def map(theta: torch.Tensor) -> torch.Tensor:
        """c theta -> s = softplus(c theta) > 0."""
        return F.softplus(theta)

    @classmethod
    def neutral(cls) -> float:
        """s at theta = 0, around which s starts (softplus(0) = log 2)."""
        return float(cls.map(torch.zeros(())))

    def forward(self) -> torch.Tensor:
        """(k,) importance s = softplus(c theta) > 0."""
        return self.map(self.scale * self.theta if self.scale != 1.0 else self.theta)

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
        return f"num_features={self.num_features}" + (f", scale={self.scale:g}" if self.scale != 1.0 else "")
