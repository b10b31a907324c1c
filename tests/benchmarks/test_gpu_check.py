"""The GPU check script runs end to end on the CPU at toy sizes (``--device cpu --tiny``), so that
the one run a GPU slot allows does not fail on a bug."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.solo.helpers import needs_solo_learn

pytestmark = [*needs_solo_learn, pytest.mark.slow]
SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"


def test_the_gpu_check_runs_at_toy_sizes_on_the_cpu(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--device", "cpu", "--tiny", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert report["tiny"] and report["device"].startswith("CPU")
    modes = {(row["precision"], row["mode"]) for row in report["loss_overhead"]}
    assert modes == {("fp32", "eager"), ("fp32", "compile"), ("bf16", "eager"), ("bf16", "compile")}
    assert {row["loss"] for row in report["loss_overhead"]} >= {"simclr", "tricl", "ncl", "kernel", "mrl"}
    assert [row["method"] for row in report["solo_steps"]] == ["simclr", "tricl", "ncl", "kernel", "mrl"]
    assert [row["loss"] for row in report["clip_steps"]] == ["clip", "siglip", "tricl", "ncl", "kernel", "mrl"]
    assert all(row["finite"] for row in report["finite_at_tau_0.01"])
    assert len(report["finite_at_tau_0.01"]) == 22
    text = (tmp_path / "gpu_check.md").read_text()
    assert "toy sizes: a test of the script, not a measurement" in text


def test_without_a_gpu_the_script_says_so_and_measures_nothing(tmp_path):
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode != 0 and "no CUDA device here" in result.stderr
    assert not (tmp_path / "gpu_check.md").exists()
