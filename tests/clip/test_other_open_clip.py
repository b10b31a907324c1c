"""A checkpoint written under the other supported OpenCLIP (3.3 or main) loads and is scored here.

CI builds one environment per supported OpenCLIP and names the other one's Python in
``SOLO_TRICL_OTHER_OPEN_CLIP_PYTHON``; without it the test skips.
"""

import json
import os
import subprocess

import pytest
import torch

from solo_tricl.cli import main
from tests.clip.helpers import open_clip, train_args

OTHER_PYTHON = os.environ.get("SOLO_TRICL_OTHER_OPEN_CLIP_PYTHON")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.open_clip,
    pytest.mark.skipif(not OTHER_PYTHON, reason="SOLO_TRICL_OTHER_OPEN_CLIP_PYTHON names no other environment"),
]


def test_a_checkpoint_of_the_other_open_clip_loads_and_scores(fashion_mnist_clip_folder, tmp_path):
    from solo_tricl.clip.checkpoints import load_clip

    version = [OTHER_PYTHON, "-c", "import open_clip; print(open_clip.__version__)"]
    other = subprocess.run(version, capture_output=True, text=True, check=True).stdout.strip()
    assert other != open_clip.__version__, "SOLO_TRICL_OTHER_OPEN_CLIP_PYTHON has this same OpenCLIP"
    train = train_args(fashion_mnist_clip_folder, tmp_path / "logs", "other", epochs=1)
    command = [OTHER_PYTHON, "-m", "solo_tricl.cli", "clip-train", "--loss", "tricl", "--", *train]
    trained = subprocess.run(command, capture_output=True, text=True)
    assert trained.returncode == 0, trained.stderr[-3000:]
    checkpoint = tmp_path / "logs" / "other" / "checkpoints" / "epoch_1.pt"

    model, _, _, options = load_clip(checkpoint)
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    assert options["loss"] == "tricl"
    assert torch.equal(model.feature_importance.theta.detach(), saved["feature_importance.theta"])
    out = tmp_path / "zero-shot.json"
    data = str(fashion_mnist_clip_folder / "val.csv")
    assert main(["clip-zeroshot", str(checkpoint), "--data", data, "--top-k", "4", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert results["images"] == 100 and 0 <= results["top4_importance"] <= 1
