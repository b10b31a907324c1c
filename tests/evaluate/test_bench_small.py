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
                 "--fraction", "0.003", "--clip-losses", "--eval-train", "200", "--eval-test", "200",
                 "--work", str(tmp_path / "work"), "--out", str(out)])
    assert code == 0
    text = (out / "bench.md").read_text()
    for heading in ("## Importance order", "## Identifiability across seeds", "## Feature galleries", "## Targets"):
        assert heading in text
    report = json.loads((out / "bench.json").read_text())
    tricl = report["solo"]["tricl-seed0"]
    assert set(tricl["accuracy_vs_k"]) == {"important", "random", "least"}
    assert {"effective_rank", "mean_abs_corr", "collapsed"} <= set(tricl)
    ident = report["identifiability"]["tricl"]
    assert {"ordered_top8", "best_match_top8", "ordered_top16", "per_rank", "runs"} <= set(ident)
    if ident["collapsed"]:
        assert "WARNING: features collapsed" in text
    for name in ("bench_importance.png", "bench_accuracy_vs_k.png", "bench_identifiability_tricl.png",
                 "bench_gallery_tricl.png", "bench_gallery_ncl.png", "bench_gallery_simclr.png"):
        assert (out / name).stat().st_size > 1000
