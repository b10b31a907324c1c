"""triCL as a solo-learn method: ``method: tricl``."""

from typing import Any, Dict, List

import omegaconf
import torch

from solo_tricl.losses import FeatureImportance, SpectralTriCLLoss, TriCLLoss
from solo_tricl.solo.base import ProjectedMethod
from solo_tricl.solo.method_kwargs import TRICL, validate_method_kwargs


class TriCL(ProjectedMethod):
    """Tri-factor contrastive learning (Zhang et al., 2023) with a trained importance vector.

    Extra cfg settings (``method_kwargs``): proj_hidden_dim, proj_output_dim, temperature,
    decorrelation (isotropic | reference), decorrelation_weight, anchors (all | view1), variant (infonce | spectral),
    importance_init_std, importance_lr, nesting, nesting_weight. See :data:`solo_tricl.solo.method_kwargs.TRICL`.

    theta (``s = softplus(theta)``) is in :attr:`learnable_params` without weight decay and
    excluded from LARS adaptation, so it trains, unlike in the authors' fork; it is part of
    the state dict (``loss.importance.theta``), so checkpoints and resumes carry it.
    """

    OPTIONS = TRICL

    def __init__(self, cfg: omegaconf.DictConfig):
        super().__init__(cfg)
        kwargs = cfg.method_kwargs
        importance = FeatureImportance(kwargs.proj_output_dim, kwargs.importance_init_std)
        if kwargs.variant == "infonce":
            self.loss = TriCLLoss(
                importance,
                kwargs.temperature,
                kwargs.decorrelation_weight,
                kwargs.anchors,
                kwargs.decorrelation,
                kwargs.nesting,
                kwargs.nesting_weight,
            )
        else:
            self.loss = SpectralTriCLLoss(importance, kwargs.decorrelation_weight, kwargs.anchors, kwargs.decorrelation)

    @staticmethod
    def add_and_assert_specific_cfg(cfg: omegaconf.DictConfig) -> omegaconf.DictConfig:
        cfg = super(TriCL, TriCL).add_and_assert_specific_cfg(cfg)
        return validate_method_kwargs(cfg, TriCL.OPTIONS)

    @property
    def importance(self) -> FeatureImportance:
        return self.loss.importance

    @property
    def learnable_params(self) -> List[Dict[str, Any]]:
        group = {
            "name": "importance",
            "params": self.importance.parameters(),
            "weight_decay": 0.0,
            # solo-learn's LARS skips its trust-ratio scaling for 1-d parameters of such groups
            "exclude_bias_n_norm": True,
        }
        if self.cfg.method_kwargs.importance_lr is not None:
            group["lr"] = self.cfg.method_kwargs.importance_lr
        return super().learnable_params + [group]

    def contrastive_terms(self, *views: torch.Tensor) -> Dict[str, torch.Tensor]:
        return self.loss.terms(*views)

    def on_train_epoch_end(self) -> None:
        s = self.importance().detach()
        sorted_s = torch.sort(s, descending=True).values
        quantiles = torch.quantile(sorted_s.float(), torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0]))
        self.log_dict(
            {
                "importance_entropy": self.importance.entropy(),
                "importance_top10pct_share": sorted_s[: max(1, len(s) // 10)].sum() / s.sum(),
                **{f"importance_q{int(q * 100):03d}": v for q, v in zip((0.0, 0.25, 0.5, 0.75, 1.0), quantiles)},
            },
            sync_dist=True,
        )
