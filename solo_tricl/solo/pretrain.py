"""Pretraining with solo-learn's own functions, the steps of its ``main_pretrain.py``.

solo-learn's ``main_pretrain.py`` is not installed with the package; this runs the same steps
(parse the config, build the method, the data, the checkpointer, the Trainer, fit) from the
installed ``solo`` package, after registering the plugin methods.
"""

import os
from dataclasses import dataclass
from typing import Optional, Sequence

import torch
from lightning.pytorch import Trainer, seed_everything
from lightning.pytorch.callbacks import Callback
from omegaconf import DictConfig, OmegaConf
from solo.data.classification_dataloader import prepare_data as prepare_classification_data
from solo.data.pretrain_dataloader import (
    FullTransformPipeline,
    NCropAugmentation,
    build_transform_pipeline,
    prepare_dataloader,
    prepare_datasets,
)
from solo.methods import METHODS
from solo.utils.auto_resumer import AutoResumer
from solo.utils.checkpointer import Checkpointer
from solo.utils.misc import make_contiguous, omegaconf_select

from solo_tricl.common.torch_files import resume_weights_only
from solo_tricl.solo.guards import GracefulStop, NonFiniteGuard, WarmupCosineFitsRun
from solo_tricl.solo.preflight import check_run
from solo_tricl.solo.registry import register
from solo_tricl.solo.trainer import build_trainer, wandb_logger


@dataclass
class PretrainResult:
    method: torch.nn.Module
    cfg: DictConfig
    trainer: Trainer
    last_checkpoint: Optional[str]


def _validation_loader(cfg: DictConfig):
    no_val = (cfg.data.dataset == "custom" and (cfg.data.no_labels or cfg.data.val_path is None)) or (
        cfg.data.dataset in ("imagenet100", "imagenet") and cfg.data.val_path is None
    )
    if no_val:
        return None
    _, val_loader = prepare_classification_data(
        cfg.data.dataset,
        train_data_path=cfg.data.train_path,
        val_data_path=cfg.data.val_path,
        data_format="image_folder" if cfg.data.format == "dali" else cfg.data.format,
        batch_size=cfg.optimizer.batch_size,
        num_workers=cfg.data.num_workers,
    )
    return val_loader


def _training_data(cfg: DictConfig, val_loader):
    """(train_loader, None) or, for DALI, (None, datamodule)."""
    if cfg.data.format == "dali":
        from solo.data.dali_dataloader import PretrainDALIDataModule, build_transform_pipeline_dali

        transform = FullTransformPipeline(
            [
                NCropAugmentation(
                    build_transform_pipeline_dali(cfg.data.dataset, aug, dali_device=cfg.dali.device),
                    aug.num_crops,
                )
                for aug in cfg.augmentations
            ]
        )
        datamodule = PretrainDALIDataModule(
            dataset=cfg.data.dataset,
            train_data_path=cfg.data.train_path,
            transforms=transform,
            num_large_crops=cfg.data.num_large_crops,
            num_small_crops=cfg.data.num_small_crops,
            num_workers=cfg.data.num_workers,
            batch_size=cfg.optimizer.batch_size,
            no_labels=cfg.data.no_labels,
            data_fraction=cfg.data.fraction,
            dali_device=cfg.dali.device,
            encode_indexes_into_labels=cfg.dali.encode_indexes_into_labels,
        )
        datamodule.val_dataloader = lambda: val_loader
        return None, datamodule

    transform = FullTransformPipeline(
        [NCropAugmentation(build_transform_pipeline(cfg.data.dataset, aug), aug.num_crops) for aug in cfg.augmentations]
    )
    if cfg.debug_augmentations:
        print("Transforms:", transform)
    dataset = prepare_datasets(
        cfg.data.dataset,
        transform,
        train_data_path=cfg.data.train_path,
        data_format=cfg.data.format,
        no_labels=cfg.data.no_labels,
        data_fraction=cfg.data.fraction,
    )
    loader = prepare_dataloader(dataset, batch_size=cfg.optimizer.batch_size, num_workers=cfg.data.num_workers)
    return loader, None


def _resume_checkpoint(cfg: DictConfig):
    """(checkpoint path or None, wandb run id or None), as main_pretrain.py decides them."""
    if cfg.auto_resume.enabled and cfg.resume_from_checkpoint is None:
        resumer = AutoResumer(
            checkpoint_dir=os.path.join(cfg.checkpoint.dir, cfg.method),
            max_hours=cfg.auto_resume.max_hours,
        )
        path, wandb_run_id = resumer.find_checkpoint(cfg)
        if path is not None:
            print(f"Resuming from previous checkpoint that matches specifications: '{path}'")
        return path, wandb_run_id
    path = cfg.resume_from_checkpoint
    if path is not None:
        del cfg.resume_from_checkpoint
    return path, None


def pretrain(
    cfg: DictConfig,
    extra_callbacks: Sequence[Callback] = (),
    overrides: Sequence[str] = (),
    reference: Optional[DictConfig] = None,
) -> PretrainResult:
    """Train ``cfg`` (a composed solo-learn pretrain config) as ``main_pretrain.py`` would.

    Everything the run reads is checked first (:mod:`solo_tricl.solo.preflight`), before any
    model is built or file written. During training a non-finite loss or parameter raises
    :class:`~solo_tricl.errors.TrainingDiverged`, and SIGINT/SIGTERM end in
    :class:`~solo_tricl.errors.Interrupted` after saving a resumable checkpoint
    (:mod:`solo_tricl.solo.guards`). ``extra_callbacks`` are added to the Trainer's (e.g. timers).
    ``overrides`` and ``reference``, the command line's overrides and the config file without them,
    let the checks refuse keys nothing reads or solo-learn overwrites.
    """
    register()
    OmegaConf.set_struct(cfg, False)
    stop = GracefulStop()
    with stop.handling():
        cfg = check_run("pretrain", cfg, overrides, reference)  # solo-learn's parse_cfg, once
        seed_everything(cfg.seed)

        method = METHODS[cfg.method](cfg)
        data_order_seed = omegaconf_select(cfg, "data_order_seed", None)
        if data_order_seed is not None:
            # the weights are initialised from cfg.seed; crops and batches follow data_order_seed
            seed_everything(data_order_seed)
        make_contiguous(method)
        if not cfg.performance.disable_channel_last:
            method = method.to(memory_format=torch.channels_last)

        val_loader = _validation_loader(cfg)
        train_loader, datamodule = _training_data(cfg, val_loader)
        ckpt_path, wandb_run_id = _resume_checkpoint(cfg)

        callbacks, checkpointer = [NonFiniteGuard(), stop, WarmupCosineFitsRun(), *extra_callbacks], None
        if cfg.checkpoint.enabled:
            checkpointer = Checkpointer(
                cfg,
                logdir=os.path.join(cfg.checkpoint.dir, cfg.method),
                frequency=cfg.checkpoint.frequency,
                keep_prev=cfg.checkpoint.keep_prev,
            )
            callbacks.append(checkpointer)
        if omegaconf_select(cfg, "auto_umap.enabled", False):
            from solo.utils.auto_umap import AutoUMAP

            callbacks.append(
                AutoUMAP(
                    cfg.name, logdir=os.path.join(cfg.auto_umap.dir, cfg.method), frequency=cfg.auto_umap.frequency
                )
            )

        logger = wandb_logger(cfg, method, callbacks, wandb_run_id)
        trainer = build_trainer(cfg, callbacks, logger)
        weights_only = None if ckpt_path is None else resume_weights_only(ckpt_path)
        if datamodule is not None:
            stop.fit(trainer, method, ckpt_path=ckpt_path, datamodule=datamodule, weights_only=weights_only)
        else:
            stop.fit(trainer, method, train_loader, val_loader, ckpt_path=ckpt_path, weights_only=weights_only)
    last = getattr(checkpointer, "last_ckpt", None)
    last = str(last) if last else None
    return PretrainResult(method, cfg, trainer, last)
