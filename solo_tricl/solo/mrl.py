"""Matryoshka Representation Learning as a solo-learn method: ``method: mrl``."""

from typing import Dict

import omegaconf
import torch

from solo_tricl.errors import ConfigError
from solo_tricl.losses import MatryoshkaInfoNCELoss
from solo_tricl.solo.base import ProjectedMethod
from solo_tricl.solo.method_kwargs import MRL as MRL_OPTIONS
from solo_tricl.solo.method_kwargs import validate_method_kwargs


class MRL(ProjectedMethod):
    """SimCLR's loss on nested prefixes of the projector output (Kusupati et al., NeurIPS 2022):
    the baseline built so that the first m features suffice. Its feature order is the prefix.

    Extra cfg settings (``method_kwargs``): proj_hidden_dim, proj_output_dim, temperature,
    nesting (prefix sizes; default :func:`solo_tricl.losses.matryoshka.default_nesting` from
    smallest_prefix), smallest_prefix, reduction (sum or mean of the per-prefix losses).
    """

    OPTIONS = MRL_OPTIONS

    def __init__(self, cfg: omegaconf.DictConfig):
        super().__init__(cfg)
        kwargs = cfg.method_kwargs
        self.loss = MatryoshkaInfoNCELoss(kwargs.nesting, kwargs.temperature, kwargs.reduction, kwargs.smallest_prefix)

    @staticmethod
    def add_and_assert_specific_cfg(cfg: omegaconf.DictConfig) -> omegaconf.DictConfig:
        cfg = super(MRL, MRL).add_and_assert_specific_cfg(cfg)
        cfg = validate_method_kwargs(cfg, MRL.OPTIONS)
        nesting, k = cfg.method_kwargs.nesting, cfg.method_kwargs.proj_output_dim
        if nesting is not None and max(nesting) > k:
            raise ConfigError(f"method_kwargs.nesting holds {max(nesting)}, above proj_output_dim={k}")
        return cfg

    def contrastive_terms(self, *views: torch.Tensor) -> Dict[str, torch.Tensor]:
        return {"loss": self.loss(*views)}
