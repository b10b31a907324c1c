"""``solo-tricl bench`` end to end at a tiny size, with a solo-learn built-in, Matryoshka, SigLIP:
what it must write. The tiny benches themselves are the README's bench commands, which
test_readme_commands.py runs and checks with these functions; the refusals run here."""

import json
from pathlib import Path

import pytest

from solo_tricl.cli import main
from tests.solo.helpers import needs_solo_learn

pytestmark = [*needs_solo_learn, pytest.mark.slow]


def assert_every_table_and_picture(out: Path) -> None:
    """What a tiny bench of simclr, byol, tricl and mrl (seeds 0 and 1) with the CLIP losses siglip
    and mrl writes under ``out``: every table, the leaderboard in every order with its spread,
    linear, kNN and zero-shot, galleries, the noise floor. The README's smoke command runs it
    (test_readme_commands.py), so it is trained once per test session."""
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
    ):
        assert heading in text, heading
    report = json.loads((out / "bench.json").read_text())
    assert report["time"]["invocation_minutes"] > 0 and "minutes" in text.split("\n")[2]
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


def assert_the_cost_table(out: Path, variants) -> None:
    """The cost pass of a tiny bench: each variant's throughput against SimCLR's."""
    assert "x SimCLR" in (out / "bench.md").read_text()
    report = json.loads((out / "bench.json").read_text())
    assert {cost["variant"] for cost in report["cost"]} == set(variants)


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
