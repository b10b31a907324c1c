"""``solo-tricl evaluate`` end to end on two small CLIP runs of one method."""

import json

import pytest

from solo_tricl.cli import main
from tests.clip.helpers import clip_train, train_args

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def second_seed(fashion_mnist_clip_folder, tmp_path_factory):
    logs = tmp_path_factory.mktemp("clip-logs-seed1")
    args = train_args(fashion_mnist_clip_folder, logs, "tricl", epochs=2)
    args[args.index("--seed") + 1] = "1"
    clip_train(["--loss", "tricl"], args)
    return logs / "tricl" / "checkpoints" / "epoch_2.pt"


def test_evaluate_two_runs_writes_measures_and_plots(
    clip_tricl_checkpoint, second_seed, fashion_mnist_clip_folder, tmp_path
):
    code = main(
        [
            "evaluate",
            str(clip_tricl_checkpoint),
            str(second_seed),
            "--data",
            str(fashion_mnist_clip_folder),
            "--top-k",
            "8",
            "--gallery",
            "3",
            "--gallery-images",
            "5",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    report = json.loads((tmp_path / "evaluation.json").read_text())
    assert len(report["runs"]) == 2 and report["runs"][0]["orders"]["importance"]["label"] == "s (learned)"
    ident = report["identifiability"]["by_order"]["importance"]
    assert 0 <= ident["ordered"] <= ident["matched"] + 1e-6
    assert len(report["identifiability"]["per_rank"]["importance"]) == report["runs"][0]["features"]
    assert {"ordered_top8", "best_match_top8", "ordered_top16"} <= set(ident)
    assert "collapsed" in report["identifiability"]
    # an OpenCLIP run with class names is measured zero-shot too, on the first k features as well
    zero_shot = report["runs"][0]["orders"]["importance"]["curves"]["zero_shot"]
    assert {"1", "8", "32"} <= set(zero_shot) and report["runs"][0]["representation"] == "image embedding"
    gallery = report["runs"][0]["gallery"]
    assert len(gallery["most"]["rows"]) == 3 and len(gallery["least"]["rows"]) == 3
    for name in (
        "identifiability.png",
        "importance-tricl-1.png",
        "accuracy_vs_k-tricl-1.png",
        "retrieval_vs_k-tricl-2.png",
        "zero_shot_vs_k-tricl-1.png",
        "importance-both-runs.png",
        "gallery-tricl-1.png",
        "gallery-tricl-2.png",
    ):
        assert (tmp_path / name).stat().st_size > 1000


@pytest.mark.open_clip
def test_evaluate_one_open_clip_run(clip_tricl_checkpoint, fashion_mnist_clip_folder, tmp_path):
    """One run through OpenCLIP's model and preprocessing, as each supported OpenCLIP builds them."""
    options = ["--top-k", "8", "--gallery", "2", "--gallery-images", "3", "--out", str(tmp_path)]
    assert main(["evaluate", str(clip_tricl_checkpoint), "--data", str(fashion_mnist_clip_folder), *options]) == 0
    (run,) = json.loads((tmp_path / "evaluation.json").read_text())["runs"]
    assert run["orders"]["importance"]["label"] == "s (learned)" and run["features"] == 32
    assert len(run["gallery"]["most"]["rows"]) == 2
    for name in ("importance-tricl-1.png", "accuracy_vs_k-tricl-1.png", "gallery-tricl-1.png"):
        assert (tmp_path / name).stat().st_size > 1000


@pytest.mark.parametrize(
    "options, message",
    [
        (["--top-k", "8", "--gallery", "100000"], "--gallery: the gallery size must be in [1,"),
        (["--order", "canonical", "--basis-images", "20"], "at least 2k=64 reference samples per view, got 20"),
    ],
)
def test_evaluate_rejects_sizes_the_run_cannot_give(
    options, message, clip_tricl_checkpoint, fashion_mnist_clip_folder, tmp_path, capsys
):
    out = tmp_path / "out"
    code = main(
        ["evaluate", str(clip_tricl_checkpoint), "--data", str(fashion_mnist_clip_folder), *options, "--out", str(out)]
    )
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_evaluate_rejects_a_pair_of_different_methods(
    clip_tricl_checkpoint, fashion_mnist_clip_folder, tmp_path, capsys
):
    logs = tmp_path / "logs"
    clip_train(["--loss", "clip"], train_args(fashion_mnist_clip_folder, logs, "clip", epochs=1))
    other = logs / "clip" / "checkpoints" / "epoch_1.pt"
    assert main(["evaluate", str(clip_tricl_checkpoint), str(other), "--data", str(fashion_mnist_clip_folder)]) == 2
    assert "identifiability compares two runs of one method" in capsys.readouterr().err


def test_evaluate_in_the_canonical_basis_on_openclip(
    clip_tricl_checkpoint, second_seed, fashion_mnist_clip_folder, tmp_path, capsys
):
    from solo_tricl.evaluate.canonical import CanonicalBasis

    code = main(
        [
            "evaluate",
            str(clip_tricl_checkpoint),
            str(second_seed),
            "--data",
            str(fashion_mnist_clip_folder),
            "--top-k",
            "8",
            "--order",
            "canonical",
            "--basis-images",
            "200",
            "--gallery",
            "2",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    report = json.loads((tmp_path / "evaluation.json").read_text())
    first = report["runs"][0]
    assert report["order"] == "canonical" and first["orders"]["canonical"]["label"] == "invariance (canonical basis)"
    spectrum = first["invariance_spectrum"]
    assert spectrum == sorted(spectrum, reverse=True) and len(spectrum) == first["features"]
    assert first["identifiable_rank"] == sum(x > first["identifiable_threshold"] for x in spectrum)
    assert first["orders"]["canonical"]["columns"] is None and first["basis_images"] == 200
    basis = CanonicalBasis.load(first["basis_file"])
    assert basis.identifiable_rank == first["identifiable_rank"]
    for name in ("invariance-spectrum.png", "gallery-tricl-1.png", "accuracy_vs_k-tricl-1.png"):
        assert (tmp_path / name).stat().st_size > 1000
    assert len(first["gallery"]["most"]["rows"]) == 2
    assert "identifiable rank" in capsys.readouterr().out
    assert len(report["identifiability"]["per_rank"]["canonical"]) == first["features"]
