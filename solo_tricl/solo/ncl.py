"""NCL as a solo-learn method: ``method: ncl``."""

from typing import Dict

import omegaconf
import torch

from solo_tricl.losses import InfoNCELoss, NonNegative
from solo_tricl.solo.base import ProjectedMethod
from solo_tricl.solo.method_kwargs import NCL as NCL_OPTIONS
from solo_tricl.solo.method_kwargs import validate_method_kwargs


class NCL(ProjectedMethod):
    """Non-negative contrastive learning (Wang et al., ICLR 2024).

    Extra cfg settings (``method_kwargs``): proj_hidden_dim, proj_output_dim, temperature,
    non_neg (default rep_relu).

    ``forward`` returns the *post-activation* features phi(z) as ``"z"``: that is the
    representation the loss contrasts and the one every evaluation reads (the authors'
    evaluation read the pre-activation output unless the checkpoint path said "relu").
    """

    OPTIONS = NCL_OPTIONS

    def __init__(self, cfg: omegaconf.DictConfig):
        super().__init__(cfg)
        self.non_negative = NonNegative(cfg.method_kwargs.non_neg)
        self.loss = InfoNCELoss(cfg.method_kwargs.temperature)

    @staticmethod
    def add_and_assert_specific_cfg(cfg: omegaconf.DictConfig) -> omegaconf.DictConfig:
        cfg = super(NCL, NCL).add_and_assert_specific_cfg(cfg)
        return validate_method_kwargs(cfg, NCL.OPTIONS)

    def project(self, feats: torch.Tensor) -> torch.Tensor:
        return self.non_negative(self.projector(feats))

    def contrastive_terms(self, *views: torch.Tensor) -> Dict[str, torch.Tensor]:
        return {"loss": self.loss(*views)}
