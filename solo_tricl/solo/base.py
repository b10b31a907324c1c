"""The shared shape of the plugin methods: backbone -> projector -> a multi-view loss."""

import math
from typing import Any, Dict, List, Sequence

import omegaconf
import torch
import torch.nn as nn
from solo.methods.base import BaseMethod

from solo_tricl.solo.method_kwargs import require_two_large_crops


def stretch_warmup_cosine(checkpoint: Dict[str, Any], max_epochs: int) -> None:
    """Set the length of every saved warmup-cosine schedule in ``checkpoint`` to ``max_epochs``
    epochs, counted in the saved run's scheduler steps per epoch, and at least one step past the
    warmup.

    The schedule is chainable (each rate follows from the previous one), so the rate does not
    jump: from where the saved run stopped it follows a cosine that ends at the new length.
    """
    completed_epochs = checkpoint.get("epoch", -1) + 1
    for state in checkpoint.get("lr_schedulers", []):
        if completed_epochs < 1 or not {"warmup_epochs", "max_epochs", "last_epoch"} <= set(state):
            continue
        per_epoch = state["last_epoch"] / completed_epochs
        state["max_epochs"] = max(round(per_epoch * max_epochs), math.floor(state["warmup_epochs"]) + 1)


class ProjectedMethod(BaseMethod):
    """A solo-learn method with SimCLR's projector (Linear-ReLU-Linear) and a multi-view loss.

    Like solo-learn's SimCLR it takes 2 large crops and any number of small ones
    (``data.num_small_crops``); every crop of an image is a positive for every other crop of it.
    Subclasses build their loss in ``__init__``, validate their ``method_kwargs`` in
    ``add_and_assert_specific_cfg`` and implement :meth:`contrastive_terms`; they may override
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

    @staticmethod
    def add_and_assert_specific_cfg(cfg: omegaconf.DictConfig) -> omegaconf.DictConfig:
        cfg = super(ProjectedMethod, ProjectedMethod).add_and_assert_specific_cfg(cfg)
        require_two_large_crops(cfg)
        return cfg

    @property
    def learnable_params(self) -> List[Dict[str, Any]]:
        return super().learnable_params + [
            {"name": "projector", "params": self.projector.parameters()}
        ]

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

    def on_load_checkpoint(self, checkpoint: Dict[str, Any]) -> None:
        """Stretch a saved warmup-cosine schedule to this run's ``max_epochs`` on resume.

        solo-learn's ``LinearWarmupCosineAnnealingLR`` saves its length in steps. A run no longer
        than its warmup saves length == warmup, and its cosine step then divides by their
        difference (ZeroDivisionError on resume); a resume with a larger ``max_epochs`` would
        otherwise keep the old length, and the extra epochs climb back toward the peak rate.
        """
        super().on_load_checkpoint(checkpoint)
        stretch_warmup_cosine(checkpoint, self.max_epochs)

    def training_step(self, batch: Sequence[Any], batch_idx: int) -> torch.Tensor:
        out = super().training_step(batch, batch_idx)
        terms = self.contrastive_terms(*out["z"])
        self.log_dict(
            {f"train_{self.cfg.method}_{name}": value for name, value in terms.items()},
            on_epoch=True,
            sync_dist=True,
        )
        return terms["loss"] + out["loss"]
