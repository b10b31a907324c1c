"""Resume and extend: a 1-epoch run (warmup as long as the run) resumes to 2 epochs, in
solo-tricl pretrain and in solo-learn's unmodified main_pretrain.py."""

import subprocess
import sys

import pytest
import torch

from tests.solo.helpers import needs_solo_learn, pretrain_cfg, quote, tiny_overrides
from tests.solo.test_cli import MAIN_PRETRAIN, PACKAGED

pytestmark = needs_solo_learn


def saved_state(warmup, length, last, epoch):
    return {"epoch": epoch, "lr_schedulers": [{"warmup_epochs": warmup, "max_epochs": length, "last_epoch": last}]}


def test_stretch_a_run_no_longer_than_its_warmup():
    from solo_tricl.solo.base import stretch_warmup_cosine

    checkpoint = saved_state(warmup=10.0, length=10, last=10, epoch=0)   # 1 epoch of 10 steps
    stretch_warmup_cosine(checkpoint, max_epochs=3)
    assert checkpoint["lr_schedulers"][0]["max_epochs"] == 30
    same_length = saved_state(warmup=10.0, length=10, last=10, epoch=0)
    stretch_warmup_cosine(same_length, max_epochs=1)
    assert same_length["lr_schedulers"][0]["max_epochs"] == 11, "never equal to the warmup"


def test_stretch_leaves_other_schedulers_alone():
    from solo_tricl.solo.base import stretch_warmup_cosine

    checkpoint = {"epoch": 1, "lr_schedulers": [{"step_size": 3, "last_epoch": 4}]}
    stretch_warmup_cosine(checkpoint, max_epochs=5)
    assert checkpoint["lr_schedulers"] == [{"step_size": 3, "last_epoch": 4}]


@pytest.mark.slow
def test_a_one_epoch_run_resumes_to_two_epochs(tricl_run, fashion_mnist_folder):
    from solo_tricl.solo.pretrain import pretrain

    first = tricl_run["result"]
    checkpoint = first.last_checkpoint
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    resumed = pretrain(pretrain_cfg("tricl", fashion_mnist_folder, tricl_run["dir"], max_epochs=2,
                                    **{"++resume_from_checkpoint": checkpoint}))
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
            [sys.executable, str(MAIN_PRETRAIN), "--config-path", str(PACKAGED / "pretrain" / "fashion_mnist"),
             "--config-name", "tricl.yaml", *tiny_overrides(fashion_mnist_folder, tmp_path), *extra],
            capture_output=True, text=True, cwd=tmp_path)

    first = run()
    assert first.returncode == 0, first.stderr[-2000:]
    (checkpoint,) = list((tmp_path / "tricl").glob("*/*.ckpt"))
    second = run("max_epochs=2", f"+resume_from_checkpoint={quote(str(checkpoint))}")
    assert second.returncode == 0, second.stderr[-2000:]
    assert any("ep=1" in p.name for p in (tmp_path / "tricl").glob("*/*.ckpt"))
