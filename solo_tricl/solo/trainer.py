"""The Lightning pieces that solo-learn's main scripts build the same way."""

import inspect
from typing import Any, Dict, List, Optional

from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import Callback, LearningRateMonitor
from lightning.pytorch.strategies.ddp import DDPStrategy
from omegaconf import DictConfig, OmegaConf

from solo_tricl.solo.guards import AtomicCheckpointIO


def wandb_logger(cfg: DictConfig, model, callbacks: List[Callback], run_id: Optional[str] = None):
    """solo-learn's wandb logger (and lr monitor), or None when ``wandb.enabled`` is false."""
    if not cfg.wandb.enabled:
        return None
    from lightning.pytorch.loggers.wandb import WandbLogger

    logger = WandbLogger(
        name=cfg.name,
        project=cfg.wandb.project,
        entity=cfg.wandb.entity,
        offline=cfg.wandb.offline,
        resume="allow" if run_id else None,
        id=run_id,
    )
    logger.watch(model, log="gradients", log_freq=100)
    logger.log_hyperparams(OmegaConf.to_container(cfg))
    callbacks.append(LearningRateMonitor(logging_interval="step"))
    return logger


def trainer_arguments(cfg: DictConfig) -> Dict[str, Any]:
    """The config keys that are Trainer arguments, as solo-learn's main scripts hand them over
    (``strategy: ddp`` as a DDPStrategy without unused-parameter search)."""
    settings = OmegaConf.to_container(cfg, resolve=True)
    parameters = inspect.signature(Trainer.__init__).parameters
    arguments = {name: settings[name] for name in parameters if name in settings and name != "self"}
    if arguments.get("strategy") == "ddp":
        arguments["strategy"] = DDPStrategy(find_unused_parameters=False)
    return arguments


def build_trainer(cfg: DictConfig, callbacks: List[Callback], logger) -> Trainer:
    """A Trainer from the config keys that are Trainer arguments, as main_*.py do it, writing its
    checkpoints atomically (:class:`~solo_tricl.solo.guards.AtomicCheckpointIO`)."""
    return Trainer(
        **{
            **trainer_arguments(cfg),
            "logger": logger,
            "callbacks": callbacks,
            "plugins": [AtomicCheckpointIO()],
            "enable_checkpointing": False,
        }
    )


def parse_cfg_with_device_count(parse_cfg, cfg: DictConfig) -> DictConfig:
    """solo-learn's ``parse_cfg`` (pretrain's or linear's), with its learning-rate scaling fixed
    for ``devices`` given as a count.

    solo-learn scales the learning rates by ``batch_size * len(devices) * num_nodes / 256``, meant
    for a list of device ids. Lightning also takes a count as a string, "2", the only form it
    accepts for several CPU processes, and solo-learn then scales by len("2") = 1 instead of 2.
    """
    devices = cfg.get("devices")
    cfg = parse_cfg(cfg)
    if isinstance(devices, str) and devices.isdigit() and int(devices) != len(devices):
        correction = int(devices) / len(devices)
        cfg.optimizer.lr = cfg.optimizer.lr * correction
        if cfg.optimizer.get("classifier_lr") is not None and cfg.data.get("val_path") is not None:
            cfg.optimizer.classifier_lr = cfg.optimizer.classifier_lr * correction
    return cfg
