"""The solo-learn guards with Lightning itself: SLURM's requeue signal stays Lightning's while
solo-tricl handles SIGINT and SIGTERM, and a SIGINT stops at a batch boundary like SIGTERM."""

import os
import signal

import pytest

from tests.solo.helpers import needs_solo_learn

pytestmark = needs_solo_learn


def boring_trainer(callbacks, plugins=(), steps=4):
    from lightning.pytorch import Trainer

    return Trainer(
        max_steps=steps,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=callbacks,
        plugins=list(plugins),
    )


def test_slurm_requeue_stays_lightnings_while_the_stop_signals_are_ours(monkeypatch):
    from lightning.fabric.plugins.environments import SLURMEnvironment
    from lightning.pytorch.callbacks import Callback
    from lightning.pytorch.demos.boring_classes import BoringModel

    from solo_tricl.solo.guards import GracefulStop

    for key, value in {
        "SLURM_NTASKS": "1",
        "SLURM_JOB_NAME": "train",
        "SLURM_JOB_ID": "7",
        "SLURM_NODELIST": "n1",
        "SLURM_PROCID": "0",
        "SLURM_LOCALID": "0",
        "SLURM_NODEID": "0",
    }.items():
        monkeypatch.setenv(key, value)
    seen = {}

    class Look(Callback):
        def on_train_start(self, trainer, module):
            seen["usr1"] = signal.getsignal(signal.SIGUSR1)
            seen["term"] = signal.getsignal(signal.SIGTERM)

    stop = GracefulStop()
    with stop.handling():
        stop.fit(boring_trainer([stop, Look()], [SLURMEnvironment(auto_requeue=True)]), BoringModel())
    usr1 = [getattr(h, "__name__", "") for h in seen["usr1"].signal_handlers]
    term = seen["term"].signal_handlers
    assert usr1 == ["_slurm_sigusr_handler_fn"], "Lightning's SLURM requeue handler is in place"
    assert any(getattr(h, "__self__", None) is stop for h in term), "our SIGTERM handler runs with Lightning's"
    assert getattr(signal.getsignal(signal.SIGTERM), "__self__", None) is not stop, "handlers restored after the run"


def test_sigint_stops_at_a_batch_boundary_as_sigterm_does(tmp_path):
    from lightning.pytorch.callbacks import Callback
    from lightning.pytorch.demos.boring_classes import BoringModel

    from solo_tricl.errors import Interrupted
    from solo_tricl.solo.guards import GracefulStop

    class CtrlC(Callback):
        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            if trainer.global_step == 2:
                os.kill(os.getpid(), signal.SIGINT)

    stop = GracefulStop()
    trainer = boring_trainer([stop, CtrlC()], steps=50)
    with stop.handling(), pytest.raises(Interrupted) as error:
        stop.fit(trainer, BoringModel())
    assert error.value.exit_status == 130 and "interrupted by SIGINT" in str(error.value)
    assert 2 <= trainer.global_step <= 3, "stopped at the next batch"
