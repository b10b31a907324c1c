"""Reading the representation a method defines: backbone features or projector output."""

from typing import Optional

import torch
import torch.nn as nn
from omegaconf import DictConfig
from torchvision import transforms


def input_normalization(cfg: DictConfig):
    """(mean, std) the method's inputs were normalised with: read off the Normalize step of the
    pretraining pipeline solo-learn builds for this config."""
    from solo.data.pretrain_dataloader import build_transform_pipeline

    pipeline = build_transform_pipeline(cfg.data.dataset, cfg.augmentations[0])
    steps = getattr(pipeline, "transforms", getattr(getattr(pipeline, "transform", None), "transforms", []))
    normalize = next((s for s in steps if isinstance(s, transforms.Normalize)), None)
    if normalize is None:
        raise ValueError("solo-learn's pipeline has no Normalize step to read the statistics from")
    return tuple(normalize.mean), tuple(normalize.std)


def input_transform(cfg: DictConfig, resize: bool = True):
    """PIL image -> model input at the training crop size, without augmentation."""
    mean, std = input_normalization(cfg)
    size = int(cfg.augmentations[0].crop_size)
    steps = [transforms.Lambda(lambda image: image.convert("RGB"))]
    if resize:
        steps += [transforms.Resize(size), transforms.CenterCrop(size)]
    return transforms.Compose(steps + [transforms.ToTensor(), transforms.Normalize(mean, std)])


def projector_output(method: nn.Module, feats: torch.Tensor) -> torch.Tensor:
    """The (B, k) projector representation: ``method.project`` for the plugin methods (NCL's
    is post-activation), ``method.projector`` for solo-learn's own methods."""
    if hasattr(method, "project"):
        return method.project(feats)
    if hasattr(method, "projector"):
        return method.projector(feats)
    raise ValueError(f"method {type(method).__name__} has no projector")


def learned_importance(method: nn.Module) -> Optional[torch.Tensor]:
    """(k,) s of a triCL method, None for methods without one."""
    importance = getattr(method, "importance", None)
    return importance().detach() if callable(importance) else None


class SelectedProjectorFeatures(nn.Module):
    """backbone -> projector -> the chosen columns; a drop-in ``backbone`` for a linear probe.

    ``num_features`` is what solo-learn's ``LinearModel`` reads to size its classifier.
    """

    def __init__(self, method: nn.Module, columns: torch.Tensor):
        super().__init__()
        self.method = method
        self.register_buffer("columns", columns.clone().long())
        self.num_features = int(columns.numel())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return projector_output(self.method, self.method.backbone(images))[:, self.columns]
