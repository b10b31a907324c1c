"""Resume and extend: a 1-epoch run (warmup as long as the run) resumes to 2 epochs, in
solo-tricl pretrain and in solo-learn's unmodified main_pretrain.py."""

import subprocess
import sys

import pytest
import torch

from tests.solo.helpers import needs_solo_learn, pretrain_cfg, quote, tiny_overrides
from tests.solo.test_cli import MAIN_PRETRAIN, PACKAGED

pytestmark = needs_solo_learn


def trainer_with(scheduler, steps, interval="step", max_epochs=1):
    from types import SimpleNamespace

    return SimpleNamespace(
        lr_scheduler_configs=[SimpleNamespace(scheduler=scheduler, interval=interval)],
        estimated_stepping_batches=steps,
        max_epochs=max_epochs,
    )


def warmup_cosine(warmup, length):
    from solo.utils.lr_scheduler import LinearWarmupCosineAnnealingLR as Schedule

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    return Schedule(optimizer, warmup_epochs=warmup, max_epochs=length)


def test_the_schedule_takes_the_resumed_runs_length_and_never_equals_its_warmup():
    from solo_tricl.solo.base import fit_warmup_cosine_to_run

    saved = warmup_cosine(warmup=10.0, length=10)  # a 1-epoch run of 10 steps, warmup 1 epoch
    fit_warmup_cosine_to_run(trainer_with(saved, steps=30, max_epochs=3))
    assert saved.max_epochs == 30
    same_length = warmup_cosine(warmup=10.0, length=10)
    fit_warmup_cosine_to_run(trainer_with(same_length, steps=10))
    assert same_length.max_epochs == 11, "never equal to the warmup"


def test_other_schedulers_are_left_alone():
    from solo_tricl.solo.base import fit_warmup_cosine_to_run

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    step = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3)
    fit_warmup_cosine_to_run(trainer_with(step, steps=30))
    assert step.step_size == 3 and not hasattr(step, "max_epochs")


@pytest.mark.slow
def test_a_one_epoch_run_resumes_to_two_epochs(tricl_run, fashion_mnist_folder):
    from solo_tricl.solo.pretrain import pretrain

    first = tricl_run["result"]
    checkpoint = first.last_checkpoint
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    resumed = pretrain(
        pretrain_cfg(
            "tricl", fashion_mnist_folder, tricl_run["dir"], max_epochs=2, **{"++resume_from_checkpoint": checkpoint}
        )
    )
    assert resumed.trainer.current_epoch == 2
    assert resumed.trainer.global_step == 2 * saved["global_step"]
    assert not torch.equal(resumed.method.importance.theta.detach(), saved["state_dict"]["loss.importance.theta"])
    scheduler = resumed.trainer.lr_scheduler_configs[0].scheduler
    assert scheduler.max_epochs == 2 * saved["global_step"]


@pytest.mark.slow
@pytest.mark.skipif(not MAIN_PRETRAIN.exists(), reason="set SOLO_LEARN_SRC to a solo-learn checkout")
def test_unmodified_main_pretrain_resumes_a_one_epoch_run(fashion_mnist_folder, tmp_path):
    def run(*extra):
        return subprocess.run(
            [
                sys.executable,
                str(MAIN_PRETRAIN),
                "--config-path",
                str(PACKAGED / "pretrain" / "fashion_mnist"),
                "--config-name",
                "tricl.yaml",
                *tiny_overrides(fashion_mnist_folder, tmp_path),
                *extra,
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )

    first = run()
    assert first.returncode == 0, first.stderr[-2000:]
    (checkpoint,) = list((tmp_path / "tricl").glob("*/*.ckpt"))
    second = run("max_epochs=2", f"+resume_from_checkpoint={quote(str(checkpoint))}")
    assert second.returncode == 0, second.stderr[-2000:]
    assert any("ep=1" in p.name for p in (tmp_path / "tricl").glob("*/*.ckpt"))
