"""The clip-train launcher's checks and the zero-shot command."""

import json

import pytest

from solo_tricl.cli import main
from tests.clip.helpers import clip_train, open_clip, train_args  # noqa: F401


@pytest.fixture
def no_training(monkeypatch):
    """Fail if OpenCLIP's main were reached: every check must happen before a model is built."""
    import open_clip_train.main as train_main

    def must_not_run(argv):
        raise AssertionError("open_clip_train.main.main was called")

    monkeypatch.setattr(train_main, "main", must_not_run)


@pytest.mark.parametrize(
    "our_args,message",
    [
        (["--loss", "simclr"], "--loss 'simclr' is not an open_clip.losses entry point; allowed: clip, kernel, ncl, tricl"),
        (["--loss", "kernel", "--gamma", "3"], r"--gamma must be in (0.0, 2.0], got 3.0"),
        (["--loss", "kernel", "--kernel-temperature", "0"], "--kernel-temperature must be finite and > 0, got 0.0"),
        (["--loss", "tricl", "--decorrelation-weight", "-1"], "--decorrelation-weight must be >= 0, got -1.0"),
        (["--loss", "tricl", "--decorrelation", "pca"], "--decorrelation must be one of isotropic, reference"),
        (["--loss", "ncl", "--non-neg", "tanh"], "--non-neg must be one of relu, rep_relu"),
    ],
)
def test_bad_options_are_one_line_errors_before_any_model(our_args, message, no_training, capsys):
    assert main(["clip-train", *our_args, "--", "--model", "solo-tricl-tiny"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_coca_models_need_open_clip_loss(no_training, capsys):
    assert main(["clip-train", "--loss", "tricl", "--", "--model", "coca_ViT-B-32"]) == 2
    assert "CoCa model" in capsys.readouterr().err


@pytest.mark.slow
def test_zero_shot_reports_accuracy_and_top_k(clip_tricl_checkpoint, fashion_mnist_clip_folder, tmp_path, capsys):
    out = tmp_path / "zs.json"
    code = main(["clip-zeroshot", str(clip_tricl_checkpoint), "--data", str(fashion_mnist_clip_folder / "val.csv"),
                 "--top-k", "4", "32", "--json", str(out)])
    assert code == 0
    results = json.loads(out.read_text())
    assert results["images"] == 100 and results["chance"] == 0.1
    assert 0 <= results["top4_importance"] <= 1
    # all 32 features, ranked by s, is the full classifier
    assert results["top32_importance"] == pytest.approx(results["accuracy"])


@pytest.mark.slow
def test_zero_shot_bad_inputs(clip_tricl_checkpoint, fashion_mnist_clip_folder, tmp_path, capsys):
    val = str(fashion_mnist_clip_folder / "val.csv")
    assert main(["clip-zeroshot", str(clip_tricl_checkpoint), "--data", val, "--top-k", "33"]) == 2
    assert "--top-k must be in [1, 32]" in capsys.readouterr().err
    assert main(["clip-zeroshot", str(tmp_path / "none.pt"), "--data", val]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["clip-zeroshot", str(clip_tricl_checkpoint), "--data", val,
                 "--classes", str(tmp_path / "missing.json")]) == 2
    assert "no class names" in capsys.readouterr().err
