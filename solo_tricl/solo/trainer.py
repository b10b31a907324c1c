"""The Lightning pieces that solo-learn's main scripts build the same way."""

import inspect
from typing import List, Optional

from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import Callback, LearningRateMonitor
from lightning.pytorch.strategies.ddp import DDPStrategy
from omegaconf import DictConfig, OmegaConf


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


def build_trainer(cfg: DictConfig, callbacks: List[Callback], logger) -> Trainer:
    """A Trainer from the config keys that are Trainer arguments, as main_*.py do it."""
    settings = OmegaConf.to_container(cfg)
    parameters = inspect.signature(Trainer.__init__).parameters
    kwargs = {name: settings[name] for name in parameters if name in settings}
    kwargs.update(
        logger=logger,
        callbacks=callbacks,
        enable_checkpointing=False,
        strategy=DDPStrategy(find_unused_parameters=False) if cfg.strategy == "ddp" else cfg.strategy,
    )
    return Trainer(**kwargs)
