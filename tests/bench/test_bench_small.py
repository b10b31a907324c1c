"""``solo-tricl bench`` end to end at a tiny size, with a solo-learn built-in, Matryoshka, SigLIP:
every table, the leaderboard in every order with its spread, linear, kNN and zero-shot, galleries,
the noise floor, the cost pass; and the same top-k columns as ``evaluate``."""

import json

import pytest

from solo_tricl.cli import main
from tests.solo.helpers import needs_solo_learn

pytestmark = [*needs_solo_learn, pytest.mark.slow]


def test_a_tiny_bench_writes_every_table_and_picture(tmp_path, capsys):
    from solo_tricl.data import fashion_mnist

    if not fashion_mnist.debian_files_present():
        pytest.skip("Debian's dataset-fashion-mnist is not installed (scripts/setup.sh does it)")
    out = tmp_path / "results"
    code = main(
        [
            "bench",
            "--methods",
            "simclr",
            "byol",
            "tricl",
            "mrl",
            "--seeds",
            "0",
            "1",
            "--epochs",
            "1",
            "--fraction",
            "0.003",
            "--clip-losses",
            "siglip",
            "mrl",
            "--clip-epochs",
            "1",
            "--eval-train",
            "600",
            "--eval-test",
            "200",
            "--cost-repeats",
            "1",
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    text = (out / "bench.md").read_text()
    for heading in (
        "## Every run",
        "## Leaderboard",
        "### linear probe",
        "### kNN",
        "### Who wins where",
        "kNN (k = 20, T = 0.07), k = 1: not reported",
        "## Identifiability across seeds, in each order",
        "noise floor",
        "## Feature galleries",
        "## Targets",
        "## CLIP variants",
        "### zero-shot",
        "| siglip |",
        "| mrl |",
        "`byol`: ",
        " ± ",
        "x SimCLR",
    ):
        assert heading in text, heading
    report = json.loads((out / "bench.json").read_text())
    runs = {run["name"]: run for run in report["runs"]}
    assert set(runs) == {f"{v}-seed{s}" for v in ("simclr", "byol", "tricl", "mrl") for s in (0, 1)}
    byol = runs["byol-seed0"]["measurement"]
    assert byol["features"] == 256 and byol["orders"]["importance"]["label"] == "activation mass"
    assert set(byol["orders"]) == {"importance", "pca", "canonical"} and "256" in byol["random"]["knn"]
    assert "1" not in byol["orders"]["pca"]["curves"]["knn"] and "256" in byol["orders"]["pca"]["curves"]["knn"]
    assert runs["mrl-seed0"]["measurement"]["orders"]["importance"]["label"] == "prefix"
    assert runs["tricl-seed0"]["measurement"]["orders"]["importance"]["label"] == "s (learned)"
    pairs = {pair["variant"]: pair for pair in report["pairs"]}
    assert set(pairs) == {"simclr", "byol", "tricl", "mrl"}
    assert set(pairs["tricl"]["measurement"]["by_order"]) == {"importance", "pca", "canonical"}
    assert report["noise_floor"]["variant"] == "tricl"
    clip = {run["variant"] for run in report["clip"]}
    assert clip == {"siglip", "mrl"} and len(report["clip"]) == 4
    assert "8" in report["clip"][0]["measurement"]["orders"]["canonical"]["curves"]["zero_shot"]
    assert {cost["variant"] for cost in report["cost"]} == {"simclr", "byol", "tricl", "mrl"}
    for name in (
        "bench_accuracy_vs_k.png",
        "bench_clip_vs_k.png",
        "bench_importance.png",
        "bench_identifiability_tricl_importance.png",
        "bench_identifiability_tricl_canonical.png",
        "bench_gallery_tricl.png",
        "bench_gallery_mrl.png",
        "bench_invariance_spectrum.png",
        "bench_identifiable_rank.png",
    ):
        assert (out / name).stat().st_size > 1000, name


def test_the_bench_refuses_too_few_reference_images_before_training(tmp_path, capsys):
    code = main(
        [
            "bench",
            "--methods",
            "simclr",
            "--seeds",
            "0",
            "1",
            "--clip-losses",
            "--eval-train",
            "100",
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2
    assert "--basis-images (and --eval-train) must be >= 256" in capsys.readouterr().err
    assert not (tmp_path / "work").exists()
