"""What keeps a solo-learn run from ending silently wrong: atomic checkpoints, a stop at the
first non-finite loss or parameter, and a resumable stop on SIGINT/SIGTERM.

* :class:`AtomicCheckpointIO`: Lightning's checkpoint writer, writing to a temporary name beside
  the checkpoint and renaming it when complete (Lightning's own goes through fsspec, which on a
  full disk leaves a truncated file under the final name).
* :class:`NonFiniteGuard`: raises :class:`~solo_tricl.errors.TrainingDiverged` before the backward
  pass of a non-finite loss, and at the end of an epoch or before any checkpoint holding a
  non-finite parameter or floating buffer (BatchNorm's running statistics) is written, so the
  last checkpoint on disk is the last good one.
* :class:`WarmupCosineFitsRun`: a resumed or extended run's schedule takes the run's length.
* :class:`GracefulStop`: SIGTERM (what a cluster sends on pre-emption) and SIGINT (Ctrl-C) stop
  the run at the next batch through Lightning's own SIGTERM path (every process of a DDP run
  stops together), save a resumable checkpoint beside the run's others, and end in
  :class:`~solo_tricl.errors.Interrupted` (exit status 128 + signal). SIGUSR1, Lightning's
  SLURM requeue signal, is left to Lightning. A second Ctrl-C stops at once.
"""

import os
import shutil
import signal
from pathlib import Path
from typing import Optional

import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.plugins.io import TorchCheckpointIO
from lightning.pytorch.utilities.exceptions import SIGTERMException

from solo_tricl.common.files import save_torch
from solo_tricl.common.run_guards import StopSignals, non_finite_entry
from solo_tricl.errors import Interrupted, TrainingDiverged, signal_name
from solo_tricl.solo.base import fit_warmup_cosine_to_run


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's torch checkpoint writer, made atomic (:func:`solo_tricl.common.files.save_torch`)."""

    def save_checkpoint(self, checkpoint, path, storage_options=None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options, got {storage_options!r}")
        save_torch(checkpoint, path)


def last_checkpoint_of(trainer) -> Optional[str]:
    checkpointer = next((c for c in trainer.callbacks if hasattr(c, "last_ckpt")), None)
    last = getattr(checkpointer, "last_ckpt", None)
    return str(last) if last else None


def discard_run_without_checkpoint(trainer) -> None:
    """Remove the run folder solo-learn's Checkpointer made (its ``args.json``) if it holds no
    checkpoint: a failed run must not leave a folder that looks like a run."""
    checkpointer = next((c for c in trainer.callbacks if hasattr(c, "last_ckpt")), None)
    folder = getattr(checkpointer, "path", None)
    if trainer.is_global_zero and folder is not None and Path(folder).is_dir() and not any(Path(folder).glob("*.ckpt")):
        shutil.rmtree(folder)


class NonFiniteGuard(Callback):
    """Stop at the first non-finite loss (before its backward pass), and at the first non-finite
    parameter or floating buffer at the end of an epoch and before any checkpoint is written:
    :class:`~solo_tricl.errors.TrainingDiverged`.

    Buffers matter on their own: BatchNorm normalises with the batch's statistics while training,
    so its running statistics can overflow while the loss stays finite, and every evaluation (in
    eval mode, with those statistics) of the saved run would be meaningless.
    """

    def _diverged(self, trainer, module, what: str) -> TrainingDiverged:
        optimizer = getattr(getattr(module, "cfg", None), "optimizer", None)
        if optimizer is not None:
            lr = f" (lr {optimizer.lr:g} after solo-learn's batch-size scaling)"
            unscaled = ", without LARS's per-layer scaling of the step" if optimizer.name != "lars" else ""
            cause = (
                f"likely cause: a learning rate too high for optimizer {optimizer.name}{lr}{unscaled}, "
                "or non-finite input data"
            )
        else:
            cause = "likely cause: the learning rate"
        last = last_checkpoint_of(trainer)
        kept = f"the last good checkpoint is {last}" if last else "no checkpoint was saved before it"
        return TrainingDiverged(
            f"training diverged in epoch {trainer.current_epoch} at step {trainer.global_step}: {what}; {cause}; {kept}"
        )

    def on_before_backward(self, trainer, pl_module, loss: torch.Tensor) -> None:
        if not bool(torch.isfinite(loss).all()):
            raise self._diverged(trainer, pl_module, f"the training loss is {loss.detach().float().item()}")

    def _check_weights(self, trainer, pl_module) -> None:
        found = non_finite_entry(list(pl_module.named_parameters()))
        kind = "parameter"
        if found is None:
            found, kind = non_finite_entry(list(pl_module.named_buffers())), "buffer"
        if found is not None:
            name, value = found
            running = " (running statistics can overflow while the loss stays finite)" if "running_" in name else ""
            raise self._diverged(trainer, pl_module, f"{kind} {name} holds {value}{running}, not saved")

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._check_weights(trainer, pl_module)

    def on_save_checkpoint(self, trainer, pl_module, checkpoint) -> None:
        self._check_weights(trainer, pl_module)


class GracefulStop(StopSignals, Callback):
    """SIGINT and SIGTERM stop the run at a batch boundary with a resumable checkpoint.

    Use :meth:`handling` around the whole run, and :meth:`fit` instead of ``trainer.fit``.
    """

    def __init__(self):
        super().__init__()
        self.saved: Optional[Path] = None

    def on_signal(self, signum: int) -> None:
        if signum == signal.SIGINT:
            # Lightning stops at the next batch on SIGTERM (and tells the other DDP processes)
            signal.raise_signal(signal.SIGTERM)

    def fit(self, trainer, *args, **kwargs) -> None:
        """``trainer.fit(*args, **kwargs)``; a stop by signal ends in :class:`Interrupted`. A run
        that fails before its first checkpoint leaves no run folder behind."""
        if self.requested():
            raise self.interrupted()
        try:
            trainer.fit(*args, **kwargs)
        except BaseException as error:
            discard_run_without_checkpoint(trainer)
            # Lightning's SIGTERMException, or its exit after a second Ctrl-C
            if isinstance(error, SystemExit) and self.requested():
                raise self.interrupted(trainer) from None
            raise

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        # a signal that came before Lightning installed its SIGTERM handler
        if self.signum is not None and not trainer.received_sigterm:
            raise SIGTERMException()

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if isinstance(exception, SIGTERMException):
            self.signum = self.signum or signal.SIGTERM
            self.saved = self._save(trainer)

    def _save(self, trainer) -> Optional[Path]:
        """A checkpoint of the interrupted epoch, named and kept like solo-learn's Checkpointer's
        (it replaces the previous one unless ``checkpoint.keep_prev``)."""
        checkpointer = next((c for c in trainer.callbacks if hasattr(c, "ckpt_placeholder")), None)
        if checkpointer is None:
            return None
        name = checkpointer.ckpt_placeholder.format(trainer.current_epoch).removesuffix(".ckpt")
        path = checkpointer.path / f"{name}-interrupted-step={trainer.global_step}.ckpt"
        trainer.save_checkpoint(path)
        previous = checkpointer.last_ckpt
        if trainer.is_global_zero and previous and Path(previous) != path and not checkpointer.keep_prev:
            os.remove(previous)
        checkpointer.last_ckpt = path
        return path

    def interrupted(self, trainer=None) -> Interrupted:
        signum = self.signum or signal.SIGTERM
        where = "" if trainer is None else f" in epoch {trainer.current_epoch} at step {trainer.global_step}"
        if self.saved is not None:
            # quoted for hydra and the shell: the names hold '='
            action = (
                f"saved {self.saved}; resume by adding +resume_from_checkpoint=\"'{self.saved}'\" to the same command"
            )
        elif trainer is None:
            action = "training had not started; nothing was saved"
        else:
            action = "no checkpoint was saved (checkpoint.enabled is false)"
        return Interrupted(signum, f"interrupted by {signal_name(signum)}{where}: {action}")


class WarmupCosineFitsRun(Callback):
    """:func:`~solo_tricl.solo.base.fit_warmup_cosine_to_run` for any method, solo-learn's own
    included (the plugin methods do it themselves, also under solo-learn's main_pretrain.py)."""

    def on_train_start(self, trainer, pl_module) -> None:
        fit_warmup_cosine_to_run(trainer)
