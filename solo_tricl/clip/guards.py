"""What keeps an ``open_clip_train`` run from ending silently wrong, installed by the launcher
through the names ``open_clip_train.main`` calls:

* :class:`GuardedLoss` wraps the loss: a non-finite loss raises
  :class:`~solo_tricl.errors.TrainingDiverged` before its backward pass, and a stop signal is
  noticed at the next step (in every process of a distributed run at the same step);
* :func:`guarded_epoch` runs around each ``train_one_epoch``: after the epoch, before OpenCLIP
  saves, a non-finite parameter stops the run; on a stop signal it saves a checkpoint of the
  interrupted epoch that ``--resume latest`` picks up and raises
  :class:`~solo_tricl.errors.Interrupted` (exit status 128 + signal);
* :class:`AtomicTorch` stands for ``torch`` inside ``open_clip_train.main``, so its checkpoints
  are written to a temporary name and renamed when complete.
"""

import contextlib
import os
import signal
from pathlib import Path
from typing import Callable, Optional

import torch

from solo_tricl.common.files import save_torch
from solo_tricl.common.run_guards import StopSignals, first_non_finite
from solo_tricl.errors import Interrupted, TrainingDiverged, signal_name


class StopRequested(Exception):
    """Raised at the step after a stop signal; turned into Interrupted once the epoch is saved."""


class ClipRunGuard(StopSignals):
    """The state the guarded loss and epoch share: epoch, step, the stop signal."""

    def __init__(self):
        super().__init__()
        self.epoch, self.step, self.started = 0, 0, False
        self.logged_epoch = -1
        self.args = None  # OpenCLIP's options, once it built the loss

    def stop_everywhere(self, device: torch.device) -> bool:
        """Whether any process received a stop signal (one all-reduce per step when distributed)."""
        import torch.distributed as dist

        local = self.requested()
        if not (dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
            return local
        flag = torch.tensor([1.0 if local else 0.0], device=device)
        dist.all_reduce(flag)
        if flag.item() > 0 and self.signum is None:
            self.signum = signal.SIGTERM
        return flag.item() > 0

    def diverged(self, what: str) -> TrainingDiverged:
        args = self.args
        lr = f" (--lr {args.lr:g})" if args is not None and getattr(args, "lr", None) else ""
        saved = sorted(Path(args.checkpoint_path).glob("*.pt")) if getattr(args, "checkpoint_path", None) else []
        kept = (
            f"the checkpoints saved before it are kept ({saved[-1].parent})"
            if saved
            else "no checkpoint was saved before it"
        )
        return TrainingDiverged(
            f"training diverged in epoch {self.epoch} at step {self.step}: {what}; likely "
            f"cause: a learning rate too high{lr}, or non-finite input data; {kept}"
        )

    def interrupted(self, saved: Optional[Path]) -> Interrupted:
        signum = self.signum or signal.SIGTERM
        action = (
            f"saved {saved}; resume by adding --resume latest to the same command"
            if saved is not None
            else "nothing was saved (--save-logs is off or training had not started)"
        )
        return Interrupted(
            signum, f"interrupted by {signal_name(signum)} in epoch {self.epoch} at step {self.step}: {action}"
        )


class GuardedLoss(torch.nn.Module):
    """The run's loss, called as OpenCLIP calls it, checked at every step."""

    def __init__(self, loss: torch.nn.Module, guard: ClipRunGuard):
        super().__init__()
        self.loss, self.guard = loss, guard

    def forward(self, *args, **kwargs):
        features = kwargs.get("image_features", args[0] if args else None)
        device = features.device if torch.is_tensor(features) else torch.device("cpu")
        if self.guard.stop_everywhere(device):
            raise StopRequested
        out = self.loss(*args, **kwargs)
        total = sum(out.values()) if isinstance(out, dict) else out
        if not bool(torch.isfinite(total).all()):
            raise self.guard.diverged(f"the loss is {float(total.detach())}")
        if self.guard.logged_epoch != self.guard.epoch:
            self.guard.logged_epoch = self.guard.epoch
            log_feature_statistics(self.guard.epoch, features, kwargs.get("feature_importance"))
        self.guard.step += 1
        return out


def log_feature_statistics(epoch: int, image_features, importance=None) -> None:
    """What the methods promise, once an epoch through OpenCLIP's logging, on the epoch's first
    batch: sparsity, effective rank and mean |corr| of the image embeddings, and s's quantiles."""
    import logging

    from solo_tricl.common.feature_statistics import batch_statistics

    if not torch.is_tensor(image_features) or image_features.ndim != 2:
        return
    stats = batch_statistics(image_features)
    line = ", ".join(f"{name} {value:.3f}" for name, value in stats.items())
    if torch.is_tensor(importance):
        s = importance.detach().float().reshape(-1, importance.shape[-1])[0]
        quantiles = torch.quantile(s, torch.tensor([0.0, 0.5, 1.0], device=s.device)).tolist()
        line += ", s min / median / max " + " / ".join(f"{q:.3f}" for q in quantiles)
    logging.info(f"Epoch {epoch} image features (first batch): {line}")


def unwrapped(model: torch.nn.Module) -> torch.nn.Module:
    """The model without its DDP or torch.compile wrapper, as OpenCLIP saves it."""
    while hasattr(model, "module") or hasattr(model, "_orig_mod"):
        model = getattr(model, "module", None) or getattr(model, "_orig_mod")
    return model


def interrupted_checkpoint_path(args, epoch: int) -> Path:
    """Where ``--resume latest`` finds it: OpenCLIP's latest-by-name among ``*.pt`` (epoch_E.pt <
    epoch_E_interrupted.pt < epoch_{E+1}.pt), or its fixed name with ``--save-most-recent``."""
    name = "epoch_latest.pt" if args.save_most_recent else f"epoch_{epoch}_interrupted.pt"
    return Path(args.checkpoint_path) / name


def save_interrupted(checkpoint: Callable[[], dict], epoch: int, args) -> Optional[Path]:
    """Save ``checkpoint()``, OpenCLIP's checkpoint of the run with ``epoch`` = the epochs completed,
    so that a resume repeats the interrupted epoch from its start. Every process calls it (building
    the checkpoint may be collective); the first one writes it."""
    import torch.distributed as dist

    if not args.logs or str(args.logs).lower() == "none":
        return None
    saved, path = checkpoint(), interrupted_checkpoint_path(args, epoch)
    if args.save_logs:  # OpenCLIP's own rule: the first process, and only when it logs
        save_torch(saved, path)
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
    return path


@contextlib.contextmanager
def guarded_epoch(guard: ClipRunGuard, epoch: int, model: torch.nn.Module, checkpoint: Callable[[], dict], args):
    """Around one ``train_one_epoch``: a stop signal saves ``checkpoint()`` and raises Interrupted;
    after the epoch, a non-finite parameter of ``model`` raises TrainingDiverged."""
    guard.epoch, guard.started = epoch, True
    try:
        yield
    except StopRequested:
        raise guard.interrupted(save_interrupted(checkpoint, epoch, args)) from None
    name = first_non_finite(model)
    if name is not None:
        raise guard.diverged(f"{name} holds non-finite values (not saved)")


class AtomicTorch:
    """``torch`` with an atomic ``save`` to a path, for the module namespace of open_clip_train.main."""

    def __getattr__(self, name):
        return getattr(torch, name)

    @staticmethod
    def save(obj, f, *args, **kwargs):
        if isinstance(f, (str, os.PathLike)) and not args and not kwargs:
            return save_torch(obj, f)
        return torch.save(obj, f, *args, **kwargs)
