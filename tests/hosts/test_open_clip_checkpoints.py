"""OpenCLIP's own checkpoints load, generated from its losses: every loss class of
``open_clip.loss`` that ``open_clip_train`` can train with on a CPU trains a tiny model for one
epoch with ``open_clip_train``'s own entry point, then ``evaluate``, ``explain`` and
``clip-zeroshot`` read the checkpoint (``linear`` is solo-learn's)."""

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hosts.tiny import run_command

pytestmark = pytest.mark.slow
open_clip = pytest.importorskip("open_clip", reason="open_clip_torch is not installed (the clip extra)")

TINY = Path(__file__).resolve().parents[2] / "solo_tricl" / "clip" / "model_configs" / "solo-tricl-tiny.json"
# what makes open_clip_train's create_loss build each loss; {clip}, {coca} and {teacher} are the tiny
# models' folders and the ClipLoss run's checkpoint (a distillation teacher must be pretrained)
SELECTED_BY = {
    "ClipLoss": ["--model", "local-dir:{clip}"],
    "SigLipLoss": ["--model", "local-dir:{clip}", "--siglip"],
    "CoCaLoss": ["--model", "local-dir:{coca}"],
    "DistillClipLoss": [
        "--model",
        "local-dir:{clip}",
        "--distill-model",
        "local-dir:{clip}",
        "--distill-pretrained",
        "{teacher}",
    ],
}


def host_losses():
    """The loss classes OpenCLIP defines (``open_clip.loss``), by name."""
    import torch

    return sorted(
        name
        for name, item in vars(open_clip.loss).items()
        if inspect.isclass(item) and issubclass(item, torch.nn.Module) and name.endswith("Loss")
    )


def tiny_models(folder: Path):
    """local-dir model folders for open_clip_train: solo-tricl's tiny CLIP, and a CoCa of its size
    (a folder named so: open_clip_train picks the CoCa loss by the model's name)."""
    model = json.loads(TINY.read_text())
    coca = json.loads(json.dumps(model))
    coca["vision_cfg"]["output_tokens"] = True
    coca["text_cfg"].update(embed_cls=True, output_tokens=True)
    coca["multimodal_cfg"] = {**model["text_cfg"], "layers": 1, "n_queries": 8, "attn_pooler_heads": 2, "dim_head": 32}
    coca["custom_text"] = True
    for name, config in (("tiny-clip", model), ("tiny-coca", coca)):
        (folder / name).mkdir(parents=True)
        (folder / name / "open_clip_config.json").write_text(json.dumps({"model_cfg": config, "preprocess_cfg": {}}))
    return folder / "tiny-clip", folder / "tiny-coca"


def test_every_loss_of_open_clip_is_covered_and_selected_by_its_options(tmp_path):
    from open_clip_train.params import parse_args

    assert host_losses() == sorted(SELECTED_BY)
    clip, coca = tiny_models(tmp_path)
    for loss, options in SELECTED_BY.items():
        argv = [o.format(clip=clip, coca=coca, teacher="teacher.pt") for o in options]
        args = parse_args(argv)
        args.distill = args.distill_model is not None
        args.rank, args.world_size, args.horovod = 0, 1, False
        assert type(open_clip.create_loss(args)).__name__ == loss


@pytest.fixture(scope="module")
def trained(tiny_fashion_mnist_clip, tmp_path_factory):
    out = tmp_path_factory.mktemp("open-clip-runs")
    clip, coca = tiny_models(out / "models")
    teacher = out / "ClipLoss" / "checkpoints" / "epoch_1.pt"
    cases = {
        loss: [o.format(clip=clip, coca=coca, teacher=teacher) for o in options]
        for loss, options in SELECTED_BY.items()
    }
    script = Path(__file__).with_name("train_with_open_clip.py")
    result = subprocess.run(
        [sys.executable, str(script), str(tiny_fashion_mnist_clip), str(out), json.dumps(cases)],
        capture_output=True,
        text=True,
        cwd=out,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


@pytest.mark.parametrize("loss", sorted(SELECTED_BY))
def test_an_open_clip_checkpoint_loads_everywhere(loss, trained, tiny_fashion_mnist_clip, tmp_path, capfd):
    from tests.hosts.tiny import evaluate

    written, log = trained
    assert "checkpoint" in written[loss], f"{written[loss]}\n{log[-3000:]}"
    checkpoint = Path(written[loss]["checkpoint"])
    data = tiny_fashion_mnist_clip

    report = evaluate(checkpoint, data, tmp_path / "evaluation", capfd)
    assert report["host"] == "OpenCLIP" and report["representation"] == "image embedding"
    assert (
        report["method"]
        == {"ClipLoss": "clip", "SigLipLoss": "siglip", "CoCaLoss": "coca", "DistillClipLoss": "distill"}[loss]
    )

    image = sorted((data / "val").rglob("*.png"))[0]
    argv = [
        "explain",
        checkpoint,
        "--images",
        image,
        "--corpus-text",
        "a photo of a sandal.",
        "--foil-text",
        "a photo of a bag.",
    ]
    run_command([*argv, "--rise-masks", 8, "--out", tmp_path / "explain"], capfd)
    assert len(json.loads((tmp_path / "explain" / "explanations.json").read_text())["images"]) == 1

    printed = run_command(["clip-zeroshot", checkpoint, "--data", data / "val.csv", "--top-k", 4], capfd)
    assert "accuracy:" in printed and "top4_importance:" in printed
