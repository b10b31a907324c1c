"""Distributed data-parallel end to end: two CPU processes (gloo) through solo-learn's own
Lightning trainer (strategy=ddp, devices=2) for each method, with and without small crops."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.solo.helpers import needs_solo_learn

pytestmark = [*needs_solo_learn, pytest.mark.slow]

DRIVER = Path(__file__).with_name("ddp_driver.py")
CASES = {
    "tricl": ("tricl", []),
    "ncl": ("ncl", []),
    "kernel": ("kernel", []),
    "tricl-small-crops": ("tricl", ["augmentations=multicrop.yaml"]),
    "mrl-small-crops": ("mrl", ["augmentations=multicrop.yaml"]),
}


@pytest.mark.parametrize("case", CASES)
def test_two_cpu_processes_train_alike_and_the_checkpoint_loads_in_one(case, fashion_mnist_folder, tmp_path):
    from solo_tricl.solo.checkpoints import load_method

    method, overrides = CASES[case]
    result = subprocess.run(
        [sys.executable, str(DRIVER), method, str(fashion_mnist_folder), str(tmp_path), *overrides],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert all(r["losses"] and all(torch.isfinite(torch.tensor(r["losses"]))) for r in ranks)
    for name, value in ranks[0]["params"].items():
        assert torch.equal(value, ranks[1]["params"][name]), f"{name} differs between the ranks"
    (checkpoint,) = list((tmp_path / method).glob("*/*.ckpt"))
    single, _ = load_method(checkpoint)
    for name, value in single.named_parameters():
        assert torch.equal(value.detach(), ranks[0]["params"][name]), name
    if method == "tricl":
        assert "loss.importance.theta" in ranks[0]["params"]
