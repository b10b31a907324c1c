"""Linear evaluation with solo-learn's own functions, the steps of its ``main_linear.py``,
plus a probe on the K most important (or K random) projector features."""

import os
from dataclasses import dataclass
from typing import Optional, Sequence

import torch
import torch.nn as nn
from lightning.pytorch import Trainer
from omegaconf import DictConfig, OmegaConf
from solo.data.classification_dataloader import (
    prepare_data,
    prepare_dataloaders,
    prepare_datasets,
)
from solo.methods.base import BaseMethod
from solo.methods.linear import LinearModel
from solo.utils.auto_resumer import AutoResumer
from solo.utils.checkpointer import Checkpointer
from solo.utils.misc import make_contiguous
from torchvision import transforms

from solo_tricl.common.torch_files import load_torch_file, resume_weights_only, state_dict_of
from solo_tricl.errors import BadInput
from solo_tricl.solo.checkpoints import load_method
from solo_tricl.solo.features import (
    SelectedProjectorFeatures,
    learned_importance,
    projector_output,
    representation_of,
)
from solo_tricl.solo.guards import GracefulStop, NonFiniteGuard, WarmupCosineFitsRun
from solo_tricl.solo.preflight import check_run
from solo_tricl.solo.trainer import build_trainer, wandb_logger


@dataclass
class LinearResult:
    model: LinearModel
    cfg: DictConfig
    trainer: Trainer
    columns: Optional[torch.Tensor]
    last_checkpoint: Optional[str]


def pretrained_backbone(cfg: DictConfig) -> nn.Module:
    """The backbone of ``cfg.pretrained_feature_extractor``, built as main_linear.py builds it."""
    backbone = BaseMethod._BACKBONES[cfg.backbone.name](method=cfg.pretrain_method, **cfg.backbone.kwargs)
    if cfg.backbone.name.startswith("resnet"):
        backbone.fc = nn.Identity()
        if cfg.data.dataset in ("cifar10", "cifar100"):
            backbone.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=2, bias=False)
            backbone.maxpool = nn.Identity()
    path = cfg.pretrained_feature_extractor  # checked by solo_tricl.solo.preflight
    state = state_dict_of(load_torch_file(path, "pretrained_feature_extractor"), path)
    weights = {k[len("backbone.") :]: v for k, v in state.items() if k.startswith("backbone.")}
    backbone.load_state_dict(weights, strict=False)
    return backbone


def custom_transforms(cfg: DictConfig):
    """Train/val transforms for ``custom`` data at ``data.augmentations.crop_size``.

    main_linear.py always resizes custom data to 224 px; small images (Fashion-MNIST at 28 px)
    should be probed at the size they were pretrained on.
    """
    aug = cfg.data.augmentations
    normalize = transforms.Normalize(mean=aug.mean, std=aug.std)
    rgb = transforms.Lambda(lambda image: image.convert("RGB"))
    return (
        transforms.Compose(
            [
                rgb,
                transforms.RandomResizedCrop(aug.crop_size, scale=(0.08, 1.0)),
                transforms.RandomHorizontalFlip(),
                transforms.ToTensor(),
                normalize,
            ]
        ),
        transforms.Compose(
            [
                rgb,
                transforms.Resize(aug.crop_size),
                transforms.CenterCrop(aug.crop_size),
                transforms.ToTensor(),
                normalize,
            ]
        ),
    )


def data_loaders(cfg: DictConfig):
    if cfg.data.dataset != "custom":
        return prepare_data(
            cfg.data.dataset,
            train_data_path=cfg.data.train_path,
            val_data_path=cfg.data.val_path,
            data_format=cfg.data.format,
            batch_size=cfg.optimizer.batch_size,
            num_workers=cfg.data.num_workers,
            auto_augment=cfg.auto_augment,
        )
    train_transform, val_transform = custom_transforms(cfg)
    train_set, val_set = prepare_datasets(
        "custom",
        train_transform,
        val_transform,
        train_data_path=cfg.data.train_path,
        val_data_path=cfg.data.val_path,
        data_format=cfg.data.format,
        data_fraction=cfg.data.fraction,
    )
    return prepare_dataloaders(train_set, val_set, cfg.optimizer.batch_size, cfg.data.num_workers)


@torch.no_grad()
def reference_activation_of(method: nn.Module, pretrain_cfg: DictConfig, cfg: DictConfig) -> torch.Tensor:
    """(k,) activation mass of the pretrained projector on the linear run's training images: the
    same seeded sample, transform and encoding as every other command
    (:func:`solo_tricl.evaluate.orders.activation_reference`)."""
    from solo_tricl.common.images import folder_items
    from solo_tricl.evaluate.features import reference_activation
    from solo_tricl.evaluate.orders import activation_mass, activation_reference
    from solo_tricl.solo.features import input_transform

    transform = input_transform(pretrain_cfg)
    encode = lambda images: projector_output(method, method.backbone(images))  # noqa: E731
    if cfg.data.format == "image_folder" and os.path.isdir(str(cfg.data.train_path)):
        return reference_activation(folder_items(cfg.data.train_path, "data.train_path"), transform, encode)
    train_set, _ = prepare_datasets(
        cfg.data.dataset,
        transform,
        transform,
        train_data_path=cfg.data.train_path,
        val_data_path=cfg.data.val_path,
        data_format=cfg.data.format,
    )
    sample = torch.utils.data.Subset(train_set, activation_reference(range(len(train_set))))
    with torch.no_grad():
        features = torch.cat([encode(images) for images, _ in torch.utils.data.DataLoader(sample, batch_size=256)])
    return activation_mass(features)


def top_k_backbone(cfg: DictConfig, top_k: int, order: str, seed: int):
    """The pretrained method's representation (its projector's output, DINO's head, or the
    backbone's features: :func:`~solo_tricl.solo.features.representation_of`), cut to the first
    ``top_k`` features of ``order`` (:func:`solo_tricl.evaluate.orders.selection`: triCL's s,
    Matryoshka's prefix, activation mass on unaugmented training images, or random)."""
    from solo_tricl.evaluate.orders import resolve, selection

    method, pretrain_cfg = load_method(cfg.pretrained_feature_extractor)
    importance = learned_importance(method)
    representation = representation_of(method)
    k = representation.dim
    if not 1 <= top_k <= k:
        raise BadInput(f"--top-k must be in [1, {k}] (the dimension of its {representation.name}), got {top_k}")
    activation = None
    if resolve(order, pretrain_cfg.method, importance is not None) == "activation":
        activation = reference_activation_of(method, pretrain_cfg, cfg)
    columns = selection(order, pretrain_cfg.method, k, importance, activation, seed).columns[:top_k]
    return SelectedProjectorFeatures(method, columns), columns


def linear(
    cfg: DictConfig,
    top_k: Optional[int] = None,
    order: str = "importance",
    seed: int = 0,
    overrides: Sequence[str] = (),
    reference: Optional[DictConfig] = None,
) -> LinearResult:
    """Train a linear probe as ``main_linear.py`` would (optionally on top-k features), after
    checking everything it reads (:mod:`solo_tricl.solo.preflight`), with the guards of
    :mod:`solo_tricl.solo.guards`."""
    OmegaConf.set_struct(cfg, False)
    stop = GracefulStop()
    with stop.handling():
        return _linear(check_run("linear", cfg, overrides, reference), top_k, order, seed, stop)


def _linear(cfg: DictConfig, top_k: Optional[int], order: str, seed: int, stop: GracefulStop) -> LinearResult:
    columns = None
    if top_k is None:
        backbone = pretrained_backbone(cfg)
    else:
        backbone, columns = top_k_backbone(cfg, top_k, order, seed)
    train_loader, val_loader = data_loaders(cfg)

    loss_func = nn.CrossEntropyLoss()
    mixup_func = None
    if cfg.mixup > 0 or cfg.cutmix > 0:
        from timm.data.mixup import Mixup
        from timm.loss import SoftTargetCrossEntropy

        mixup_func = Mixup(
            mixup_alpha=cfg.mixup,
            cutmix_alpha=cfg.cutmix,
            prob=1.0,
            switch_prob=0.5,
            mode="batch",
            label_smoothing=cfg.label_smoothing,
            num_classes=cfg.data.num_classes,
        )
        loss_func = SoftTargetCrossEntropy()
    elif cfg.label_smoothing > 0:
        from timm.loss import LabelSmoothingCrossEntropy

        loss_func = LabelSmoothingCrossEntropy(smoothing=cfg.label_smoothing)

    model = LinearModel(backbone, loss_func=loss_func, mixup_func=mixup_func, cfg=cfg)
    make_contiguous(model)
    if not cfg.performance.disable_channel_last:
        model = model.to(memory_format=torch.channels_last)

    ckpt_path = None
    if cfg.auto_resume.enabled and cfg.resume_from_checkpoint is None:
        resumer = AutoResumer(os.path.join(cfg.checkpoint.dir, "linear"), cfg.auto_resume.max_hours)
        ckpt_path, _ = resumer.find_checkpoint(cfg)
    elif cfg.resume_from_checkpoint is not None:
        ckpt_path = cfg.resume_from_checkpoint
        del cfg.resume_from_checkpoint

    callbacks, checkpointer = [NonFiniteGuard(), stop, WarmupCosineFitsRun()], None
    if cfg.checkpoint.enabled:
        checkpointer = Checkpointer(
            cfg,
            logdir=os.path.join(cfg.checkpoint.dir, "linear"),
            frequency=cfg.checkpoint.frequency,
            keep_prev=cfg.checkpoint.keep_prev,
        )
        callbacks.append(checkpointer)
    logger = wandb_logger(cfg, model, callbacks)
    trainer = build_trainer(cfg, callbacks, logger)
    weights_only = None if ckpt_path is None else resume_weights_only(ckpt_path)
    stop.fit(trainer, model, train_loader, val_loader, ckpt_path=ckpt_path, weights_only=weights_only)
    last = getattr(checkpointer, "last_ckpt", None)
    last = str(last) if last else None
    return LinearResult(model, cfg, trainer, columns, last)
