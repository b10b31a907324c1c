"""Kernel InfoNCE and kernel mixtures as a solo-learn method: ``method: kernel``."""

from typing import Dict

import omegaconf
import torch
from lightning.pytorch.utilities.rank_zero import rank_zero_only

from solo_tricl.losses import KernelInfoNCELoss, KernelMixtureLoss
from solo_tricl.solo.base import ProjectedMethod
from solo_tricl.solo.method_kwargs import (
    KERNEL,
    require_even_output_for_concat,
    simclr_temperature_to_kernel,
    validate_method_kwargs,
)


@rank_zero_only
def rank_zero_info_line(line: str) -> None:
    print(line, flush=True)


class KernelContrastive(ProjectedMethod):
    """InfoNCE with the kernel exp(-D^gamma / tau) (Tan et al., ICLR 2024), alone or mixed.

    Extra cfg settings (``method_kwargs``): proj_hidden_dim, proj_output_dim, gamma, tau1
    (gamma kernel), tau2 (Gaussian), lam, mixture (none | sum | concat), and temperature: a
    SimCLR config's temperature t, which sets tau2 = 2t (tau1 with ``mixture: none``), so a stock
    SimCLR config runs with only ``method: kernel`` changed. With ``mixture: none`` the loss is
    the gamma kernel at tau1 alone.
    """

    OPTIONS = KERNEL

    def __init__(self, cfg: omegaconf.DictConfig):
        super().__init__(cfg)
        kwargs = cfg.method_kwargs
        if kwargs.mixture == "none":
            self.loss = KernelInfoNCELoss(kwargs.gamma, kwargs.tau1)
        else:
            self.loss = KernelMixtureLoss(kwargs.gamma, kwargs.lam, kwargs.tau1, kwargs.tau2, kwargs.mixture)

    @staticmethod
    def add_and_assert_specific_cfg(cfg: omegaconf.DictConfig) -> omegaconf.DictConfig:
        cfg = super(KernelContrastive, KernelContrastive).add_and_assert_specific_cfg(cfg)
        given = set(cfg.method_kwargs.keys())
        cfg = validate_method_kwargs(cfg, KernelContrastive.OPTIONS)
        require_even_output_for_concat(cfg)
        if note := simclr_temperature_to_kernel(cfg, given):
            rank_zero_info_line(note)
        return cfg

    def contrastive_terms(self, *views: torch.Tensor) -> Dict[str, torch.Tensor]:
        return {"loss": self.loss(*views)}
