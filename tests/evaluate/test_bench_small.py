"""``solo-tricl bench`` end to end at a tiny size: every table, the collapse guard, galleries."""

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
    code = main(["bench", "--methods", "simclr", "tricl", "ncl", "--seeds", "0", "1", "--epochs", "1",
                 "--fraction", "0.003", "--clip-losses", "--eval-train", "300", "--eval-test", "200",
                 "--work", str(tmp_path / "work"), "--out", str(out)])
    assert code == 0
    text = (out / "bench.md").read_text()
    for heading in ("## Importance order", "## Identifiability across seeds", "## The canonical invariance basis",
                    "noise floor", "## Feature galleries", "## Targets"):
        assert heading in text
    report = json.loads((out / "bench.json").read_text())
    tricl = report["solo"]["tricl-seed0"]
    assert set(tricl["accuracy_vs_k"]) == {"important", "random", "least"}
    assert {"effective_rank", "mean_abs_corr", "collapsed"} <= set(tricl)
    ident = report["identifiability"]["tricl"]
    assert {"ordered_top8", "best_match_top8", "ordered_top16", "per_rank", "runs"} <= set(ident)
    canonical = report["solo"]["tricl-seed0"]["canonical"]
    assert canonical["order"] == "invariance (canonical basis)" and len(canonical["invariance_spectrum"]) == 128
    assert {"ordered_top8", "ordered_top16", "per_rank"} <= set(ident["canonical"])
    floor = report["noise_floor"]
    assert floor["variant"] == "tricl" and "ordered" in floor["canonical"]
    if ident["collapsed"]:
        assert "WARNING: features collapsed" in text
    for name in ("bench_importance.png", "bench_accuracy_vs_k.png", "bench_identifiability_tricl.png",
                 "bench_gallery_tricl.png", "bench_gallery_ncl.png", "bench_gallery_simclr.png",
                 "bench_invariance_spectrum.png", "bench_identifiable_rank.png",
                 "bench_identifiability_tricl_canonical.png"):
        assert (out / name).stat().st_size > 1000


def test_the_bench_refuses_too_few_reference_images_before_training(tmp_path, capsys):
    code = main(["bench", "--methods", "simclr", "--seeds", "0", "--clip-losses", "--eval-train", "100",
                 "--work", str(tmp_path / "work"), "--out", str(tmp_path / "out")])
    assert code == 2
    assert "--basis-images (and --eval-train) must be >= 256" in capsys.readouterr().err
    assert not (tmp_path / "work").exists()
