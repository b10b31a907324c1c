"""Reading the representation a method defines: the projector's output, DINO's head, or the backbone's features."""

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Representation:
    """The representation a method's authors evaluate, read off a method: its ``name`` for the
    reports, the module that computes it from backbone features (None: the backbone features
    themselves), and its dimension."""

    name: str
    module: Optional[nn.Module]
    dim: int


PROJECTOR, DINO_HEAD, BACKBONE = "projector output", "DINO head", "backbone"


def last_linear_width(module: nn.Module) -> int:
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise TypeError(f"{type(module).__name__} holds no nn.Linear to read its output dimension from")
    return int(linears[-1].out_features)


def representation_of(method: nn.Module) -> Representation:
    """The projector's output (``method.project`` for the plugin methods, so NCL's is
    post-activation; ``method.projector`` for solo-learn's own), DINO's ``head`` (its
    projection), or the backbone features for a method with neither (MAE)."""
    if hasattr(method, "project") or isinstance(getattr(method, "projector", None), nn.Module):
        return Representation(PROJECTOR, method.projector, last_linear_width(method.projector))
    if isinstance(getattr(method, "head", None), nn.Module):
        return Representation(DINO_HEAD, method.head, last_linear_width(method.head))
    return Representation(BACKBONE, None, int(method.features_dim))


def projector_output(method: nn.Module, feats: torch.Tensor) -> torch.Tensor:
    """(B, D) backbone features -> (B, k) the representation of :func:`representation_of`."""
    if hasattr(method, "project"):
        return method.project(feats)
    module = representation_of(method).module
    return feats if module is None else module(feats)


def learned_importance(method: nn.Module) -> Optional[torch.Tensor]:
    """(k,) s of a triCL method, None for methods without one."""
    importance = getattr(method, "importance", None)
    return importance().detach() if callable(importance) else None


class SelectedProjectorFeatures(nn.Module):
    """backbone -> the method's representation (:func:`representation_of`) -> the chosen columns;
    a drop-in ``backbone`` for a linear probe.

    ``num_features`` is what solo-learn's ``LinearModel`` reads to size its classifier.
    """

    def __init__(self, method: nn.Module, columns: torch.Tensor):
        super().__init__()
        self.method = method
        self.register_buffer("columns", columns.clone().long())
        self.num_features = int(columns.numel())
        self.representation = representation_of(method).name

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return projector_output(self.method, self.method.backbone(images))[:, self.columns]
