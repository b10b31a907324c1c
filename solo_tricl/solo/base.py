"""The shared shape of the plugin methods: backbone -> projector -> a multi-view loss."""

import math
from typing import Any, Dict, List, Sequence

import omegaconf
import torch
import torch.nn as nn
from solo.methods.base import BaseMethod

from solo_tricl.common.feature_statistics import batch_statistics


def fit_warmup_cosine_to_run(trainer) -> None:
    """Set the length of every warmup-cosine schedule to this run's, at least one step past the
    warmup.

    solo-learn's ``LinearWarmupCosineAnnealingLR`` saves its length in steps, and a resume keeps
    the saved one: a run no longer than its warmup saved length == warmup, and its cosine step
    then divides by their difference (ZeroDivisionError); a resume with a larger ``max_epochs``
    would keep the old length, and the extra epochs climb back toward the peak rate. Called at
    the start of training, after Lightning restored the saved state; the schedule is chainable,
    so the rate does not jump: from where the saved run stopped it follows a cosine that ends at
    this run's length. A fresh run's length is unchanged.
    """
    for config in trainer.lr_scheduler_configs:
        scheduler = config.scheduler
        if not (hasattr(scheduler, "warmup_epochs") and hasattr(scheduler, "max_epochs")):
            continue
        length = trainer.estimated_stepping_batches if config.interval == "step" else trainer.max_epochs
        scheduler.max_epochs = max(int(length), math.floor(scheduler.warmup_epochs) + 1)


class ProjectedMethod(BaseMethod):
    """A solo-learn method with SimCLR's projector (Linear-ReLU-Linear) and a multi-view loss.

    Like solo-learn's SimCLR it takes 2 large crops and any number of small ones
    (``data.num_small_crops``); every crop of an image is a positive for every other crop of it.
    Subclasses declare their ``method_kwargs`` in ``OPTIONS`` (a table of
    :class:`~solo_tricl.common.options.Option`), build their loss in ``__init__``, validate their
    ``method_kwargs`` against ``OPTIONS`` in ``add_and_assert_specific_cfg`` and implement :meth:`contrastive_terms`; they may override
    :meth:`project` to change what ``forward`` returns as ``"z"``.
    """

    def __init__(self, cfg: omegaconf.DictConfig):
        super().__init__(cfg)
        kwargs = cfg.method_kwargs
        self.projector = nn.Sequential(
            nn.Linear(self.features_dim, kwargs.proj_hidden_dim),
            nn.ReLU(),
            nn.Linear(kwargs.proj_hidden_dim, kwargs.proj_output_dim),
        )

    @property
    def learnable_params(self) -> List[Dict[str, Any]]:
        return super().learnable_params + [{"name": "projector", "params": self.projector.parameters()}]

    def project(self, feats: torch.Tensor) -> torch.Tensor:
        """(B, features_dim) backbone features -> (B, k) the representation the loss takes."""
        return self.projector(feats)

    def forward(self, X: torch.Tensor) -> Dict[str, Any]:
        out = super().forward(X)
        out["z"] = self.project(out["feats"])
        return out

    def multicrop_forward(self, X: torch.Tensor) -> Dict[str, Any]:
        out = super().multicrop_forward(X)
        out["z"] = self.project(out["feats"])
        return out

    def contrastive_terms(self, *views: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The loss of V (B, k) views (large crops first) as ``{"loss": total, <part>: value, ...}``."""
        raise NotImplementedError

    def on_train_start(self) -> None:
        super().on_train_start()
        fit_warmup_cosine_to_run(self.trainer)

    def training_step(self, batch: Sequence[Any], batch_idx: int) -> torch.Tensor:
        out = super().training_step(batch, batch_idx)
        terms = self.contrastive_terms(*out["z"])
        self.log_dict(
            {f"train_{self.cfg.method}_{name}": value for name, value in terms.items()},
            on_epoch=True,
            sync_dist=True,
        )
        if batch_idx == 0:
            # what the methods promise, once an epoch on its first batch (first crop): sparsity,
            # effective rank and mean |corr| of the representation the method defines
            stats = batch_statistics(out["z"][0])
            self.log_dict(
                {f"train_features_{name}": value for name, value in stats.items()},
                on_step=False,
                on_epoch=True,
                sync_dist=True,
            )
        return terms["loss"] + out["loss"]
