"""benchmarks/loss_overhead.py runs end to end at a toy size and times triCL beside its autograd path."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(*args):
    return subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "loss_overhead.py"), *args], capture_output=True, text=True
    )


def test_the_table_has_every_loss_and_the_autograd_path_beside_tricl(tmp_path):
    out = tmp_path / "overhead.md"
    result = run("--sizes", "4x8", "--repeats", "1", "--warmup", "0", "--calls", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    text = out.read_text()
    assert "--sizes 4x8`" in text and "## B = 4, k = 8" in text
    rows = {line.split(" | ")[0].lstrip("| ") for line in text.splitlines() if line.startswith("| ")}
    assert {"simclr", "tricl", "tricl_autograd_logits", "spectral_tricl", "ncl", "kernel", "mrl"} <= rows


def test_a_size_that_is_not_b_x_k_is_refused_in_one_line(tmp_path):
    result = run("--sizes", "512", "--out", str(tmp_path / "x.md"))
    assert result.returncode == 2 and "expected BxK" in result.stderr and not (tmp_path / "x.md").exists()
