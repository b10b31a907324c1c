"""``solo-tricl explain`` end to end on real offline images and checkpoints trained here."""

import json

import pytest
from PIL import Image

from solo_tricl.cli import main
from tests.conftest import SOLO_LEARN_MISSING, solo_learn_available

pytestmark = pytest.mark.slow


def val_images(folder, n=3):
    return sorted((folder / "val").rglob("*.png"))[:n]


@pytest.mark.open_clip
def test_zero_shot_localization_with_an_open_clip_checkpoint(
    clip_tricl_checkpoint, fashion_mnist_clip_folder, tmp_path
):
    images = [str(p) for p in val_images(fashion_mnist_clip_folder)]
    prompts = json.loads((fashion_mnist_clip_folder / "classes.json").read_text())["classes"]
    code = main(
        [
            "explain",
            str(clip_tricl_checkpoint),
            "--images",
            *images,
            "--corpus-text",
            f"a photo of a {prompts[5]}.",
            "--foil-text",
            *[f"a photo of a {c}." for c in prompts if c != prompts[5]],
            "--methods",
            "rise",
            "ig",
            "--rise-masks",
            "200",
            "--evaluate",
            "--sanity-check",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    report = json.loads((tmp_path / "out" / "explanations.json").read_text())
    for method in ("rise", "ig"):
        for target in ("cocoa", "label_free"):
            for mode in ("insertion", "deletion"):
                aucs = dict(report["methods"][method][target][mode])
                per_image = aucs.pop("per_image")
                assert set(aucs) == {"similarity", "representation_shift", "majority_probability"}
                assert all(0 <= v <= 1 or key != "majority_probability" for key, v in aucs.items())
                assert set(per_image) == set(aucs) and all(len(v) == 3 for v in per_image.values())
    assert set(report["sanity_check"]) == {"rise", "ig"}
    settings = report["settings"]
    assert settings["rise_masks"] == 200 and settings["rise_grid"] == 4 and settings["seed"] == 0
    assert settings["corpus_text"] == [f"a photo of a {prompts[5]}."] and settings["baseline"] == "gaussian blur"
    assert len(list((tmp_path / "out" / "heatmaps").glob("*.png"))) == 3


@pytest.mark.skipif(not solo_learn_available(), reason=SOLO_LEARN_MISSING)
@pytest.mark.solo_learn
def test_explain_a_solo_learn_checkpoint(fashion_mnist_folder, tmp_path, solo_checkpoint):
    code = main(
        [
            "explain",
            str(solo_checkpoint),
            "--images",
            *[str(p) for p in val_images(fashion_mnist_folder)],
            "--corpus",
            str(fashion_mnist_folder / "train" / "5_sandal"),
            "--foil",
            str(fashion_mnist_folder / "train"),
            "--foil-size",
            "60",
            "--methods",
            "rise",
            "gradshap",
            "--rise-masks",
            "200",
            "--evaluate",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    report = json.loads((tmp_path / "out" / "explanations.json").read_text())
    assert report["encoder"] == "solo-learn"
    assert "majority_probability" in report["methods"]["rise"]["cocoa"]["insertion"]


@pytest.fixture
def solo_checkpoint(fashion_mnist_folder, tmp_path):
    from solo_tricl.solo.pretrain import pretrain
    from tests.solo.helpers import pretrain_cfg

    return pretrain(pretrain_cfg("ncl", fashion_mnist_folder, tmp_path)).last_checkpoint


def test_bad_inputs_are_one_line_errors(clip_tricl_checkpoint, fashion_mnist_clip_folder, tmp_path, capsys):
    image = str(val_images(fashion_mnist_clip_folder, 1)[0])
    texts = ["--corpus-text", "a photo of a bag.", "--foil-text", "a photo of a coat."]

    def error(*args):
        assert main(["explain", *args, "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1
        return err

    (tmp_path / "empty").mkdir()
    assert f"--corpus {tmp_path / 'empty'} holds no images" in error(
        str(clip_tricl_checkpoint), "--images", image, "--corpus", str(tmp_path / "empty"), "--foil", image
    )
    broken = tmp_path / "checkpoints" / "epoch_1.pt"
    broken.parent.mkdir()
    broken.write_text("not a checkpoint")
    (tmp_path / "solo_tricl.json").write_text(json.dumps({"model": "solo-tricl-tiny", "loss": "clip"}))
    assert "cannot read checkpoint" in error(str(broken), "--images", image, *texts)
    assert "is neither a solo-learn checkpoint" in error(
        str(tmp_path / "empty" / ".." / "solo_tricl.json"), "--images", image, *texts
    )
    rgba = tmp_path / "rgba.png"
    Image.new("RGBA", (28, 28)).save(rgba)
    assert "has mode RGBA" in error(str(clip_tricl_checkpoint), "--images", str(rgba), *texts)
