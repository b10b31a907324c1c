"""The study scripts' reports, written from constructed results (no training)."""

import argparse

from benchmarks import clip_importance, mrl_nesting, tricl_order_study


def clip_result(seed, zero_shot_all, s_max=None):
    result = {"seed": seed, "linear_top8": 0.7, "linear_random8": 0.6, "zero_shot_all": zero_shot_all}
    result.update({"zero_shot_top8": 0.5, "zero_shot_random8": 0.4})
    if s_max is not None:
        result.update(s_min=0.1, s_median=0.5, s_max=s_max, theta_change_per_step=0.001)
    return result


def test_the_clip_report_gives_the_mean_and_the_benchs_spread_over_seeds(tmp_path):
    raw = {
        "ClipLoss": [clip_result(0, 0.80), clip_result(1, 0.82), clip_result(2, 0.81)],
        "triCL, c = 100": [clip_result(0, 0.79, s_max=2.0)],
    }
    args = argparse.Namespace(epochs=10, solo_run=None, out=tmp_path)
    clip_importance.write_report(raw, None, args)
    rows = {
        line.split(" | ")[0].strip("| "): line for line in (tmp_path / "clip_importance.md").read_text().splitlines()
    }
    assert "| 3 |" in rows["ClipLoss"] and "0.810 ± 0.010 |" in rows["ClipLoss"]  # standard deviation of 0.80-0.82
    assert "| - / - / - |" in rows["ClipLoss"]  # no s for ClipLoss
    assert "| 1 |" in rows["triCL, c = 100"] and "0.790 |" in rows["triCL, c = 100"]
    assert "±" not in rows["triCL, c = 100"]


def order_result(linear_at_1, all_features):
    curve = {"1": linear_at_1, "2": 0.5, "4": 0.6, "8": 0.7, "16": 0.7, "32": 0.7, "64": 0.7, "128": all_features}
    return {
        "features": 128,
        **{
            f"{order}_{metric}": curve
            for order in ("importance", "pca", "canonical", "random")
            for metric in ("linear", "knn")
        },
    }


def test_the_order_study_marks_the_best_of_each_column_and_averages_seeds(tmp_path):
    raw = {"SimCLR": [order_result(0.2, 0.69)], "triCL (default)": [order_result(0.3, 0.76), order_result(0.5, 0.78)]}
    args = argparse.Namespace(epochs=6, fraction=0.1, samples=5000, seeds=[0, 1], out=tmp_path)
    tricl_order_study.write_report(raw, args)
    lines = (tmp_path / "tricl_order_study.md").read_text().splitlines()
    own = next(line for line in lines if line.startswith("| triCL (default) | own |"))
    simclr = next(line for line in lines if line.startswith("| SimCLR | own |"))
    assert own.split(" | ")[2] == "**0.400**" and own.rstrip(" |").endswith("**0.770**")
    assert simclr.split(" | ")[2] == "0.200"


def mrl_result(seed, all_features, std_first2=10.0):
    curve = {str(k): 0.5 for k in mrl_nesting.KS}
    return {
        "seed": seed,
        "prefix_linear": {**curve, "128": all_features},
        "random_linear": curve,
        "zero_shot_prefix": {},
        "effective_rank": 3.0,
        "std_first2": std_first2,
        "std_median_rest": 1.0,
        "scale_ratio": std_first2,
        "norm_share_first8": 0.8,
    }


def test_the_matryoshka_study_keeps_earlier_rows_and_replaces_a_rerun_seed(tmp_path):
    raw = {"solo": {}, "clip": {}}
    mrl_nesting.record_seed(raw["solo"], "SGD", mrl_result(1, 0.70))
    mrl_nesting.record_seed(raw["solo"], "SGD", mrl_result(0, 0.60))
    mrl_nesting.record_seed(raw["solo"], "SGD", mrl_result(1, 0.80))  # seed 1 again: replaces the first
    mrl_nesting.record_seed(raw["solo"], "LARS", mrl_result(0, 0.50, std_first2=40.0))
    assert [r["seed"] for r in raw["solo"]["SGD"]] == [0, 1]
    args = argparse.Namespace(epochs=6, fraction=0.1, samples=5000, clip_epochs=10, out=tmp_path)
    mrl_nesting.write_report(raw, args)
    rows = {line.split(" | ")[0].strip("| "): line for line in (tmp_path / "mrl_nesting.md").read_text().splitlines()}
    assert rows["SGD"].startswith("| SGD | 2 |") and rows["SGD"].endswith("| 0.700 ± 0.141 |")  # sd of 0.6, 0.8
    assert rows["LARS"].startswith("| LARS | 1 | 40.00 / 1.00 (40.0x) |") and rows["LARS"].endswith("| 0.500 |")
    assert mrl_nesting.saved_results(tmp_path)["solo"]["SGD"][1]["prefix_linear"]["128"] == 0.80
