"""OpenCLIP's own training test (``tests/test_training_simple.py`` in its repository) run through
the launcher with each loss, in-process as OpenCLIP runs it.

Its options are kept as they are, with two changes: ``--model solo-tricl-tiny`` instead of RN50
and ViT-B-32 (on a CPU in OpenCLIP's default mixed precision, RN50 takes over two minutes a
step), and ``--device cpu``, which the launcher's pre-flight asks for where CUDA is missing
(OpenCLIP falls back to the CPU with a warning). Its CoCa test is refused for our losses (see
``tests/test_bad_inputs.py``) and its mT5 test needs ``transformers``, which is not installed.
"""

import pytest
import torch

from solo_tricl.cli import main
from tests.clip.helpers import open_clip  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.open_clip]

# test_training's options, in its order
PROTOCOL = [
    "--save-frequency",
    "1",
    "--zeroshot-frequency",
    "1",
    "--dataset-type",
    "synthetic",
    "--train-num-samples",
    "16",
    "--warmup",
    "1",
    "--batch-size",
    "4",
    "--lr",
    "1e-3",
    "--wd",
    "0.1",
    "--epochs",
    "1",
    "--workers",
    "2",
    "--model",
    "solo-tricl-tiny",
    "--device",
    "cpu",
]
VARIANTS = {
    "training": [],
    # test_training_unfreezing_vit: a locked image tower but for its last groups, gradient accumulation
    "unfreezing": ["--lock-image", "--lock-image-unlocked-groups", "5", "--accum-freq", "2"],
}


def trained_checkpoint(folder):
    """The one checkpoint OpenCLIP wrote under ``folder/logs`` (its run name holds the date)."""
    (run,) = (folder / "logs").iterdir()
    return run / "checkpoints" / "epoch_1.pt"


def features_of(checkpoint):
    from solo_tricl.clip.checkpoints import load_clip

    model, _, tokenizer, options = load_clip(checkpoint)
    with torch.no_grad():
        image = model.encode_image(torch.rand(4, 3, 32, 32), normalize=True)
        text = model.encode_text(tokenizer(["a shoe", "a bag", "a coat", "a shirt"]), normalize=True)
    return model, options, {"image_features": image, "text_features": text}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("loss", ["clip", "tricl", "ncl", "kernel", "mrl"])
def test_open_clips_training_test_passes_with_each_loss(loss, variant, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # OpenCLIP's default --logs is ./logs
    assert main(["clip-train", "--loss", loss, "--", *PROTOCOL, *VARIANTS[variant]]) == 0
    model, options, out = features_of(trained_checkpoint(tmp_path))
    assert options["loss"] == loss
    assert all(torch.isfinite(value).all() for value in model.state_dict().values() if value.is_floating_point())
    assert hasattr(model, "feature_importance") == (loss == "tricl")
    if loss == "ncl":  # the map acts in every forward, before the normalisation
        assert (out["image_features"] >= 0).all() and (out["text_features"] >= 0).all()
    else:
        assert (out["image_features"] < 0).any()


def test_open_clips_training_test_with_siglip(tmp_path, monkeypatch):
    """``--siglip`` with OpenCLIP's own loss (the only one that takes it) trains SigLIP: the
    checkpoint holds the learned logit bias."""
    monkeypatch.chdir(tmp_path)
    assert main(["clip-train", "--loss", "clip", "--", *PROTOCOL, "--siglip"]) == 0
    saved = torch.load(trained_checkpoint(tmp_path), map_location="cpu", weights_only=True)
    assert "logit_bias" in saved["state_dict"]
    model, _, _ = features_of(trained_checkpoint(tmp_path))
    assert torch.equal(model.logit_bias.detach(), saved["state_dict"]["logit_bias"])
