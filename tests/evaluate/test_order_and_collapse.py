"""The importance-order measures, per-rank identifiability and the collapse guard, on constructed
features whose answers are known."""

import math

import pytest
import torch

from solo_tricl.common.order import feature_order
from solo_tricl.evaluate import measures
from solo_tricl.evaluate.features import RunFeatures, Split
from solo_tricl.evaluate.report import collapse_warning, compare_runs, evaluate_run


def test_effective_rank_counts_equally_used_independent_directions():
    generator = torch.Generator().manual_seed(0)
    independent = torch.randn(20000, 8, generator=generator)
    assert measures.effective_rank(independent) == pytest.approx(8, rel=0.02)
    line = torch.randn(500, 1, generator=generator) * torch.randn(1, 8, generator=generator)
    assert measures.effective_rank(line) == pytest.approx(1, abs=1e-6)
    two_scales = torch.cat(
        [torch.randn(20000, 1, generator=generator) * 3, torch.randn(20000, 1, generator=generator)], dim=1
    )
    p = torch.tensor([9.0, 1.0]) / 10
    assert measures.effective_rank(two_scales) == pytest.approx(math.exp(-(p * p.log()).sum()), rel=0.02)


def test_collapse_flags_nearly_collinear_features_only():
    generator = torch.Generator().manual_seed(0)
    shared = torch.randn(1000, 1, generator=generator)
    collapsed = measures.collapse(shared + 0.1 * torch.randn(1000, 16, generator=generator))
    healthy = measures.collapse(torch.randn(1000, 16, generator=generator))
    assert collapsed["collapsed"] and collapsed["mean_abs_corr"] > 0.9
    assert not healthy["collapsed"] and healthy["effective_rank"] > 14


def scaled(n=3000, k=32, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, k, generator=generator) * torch.linspace(3.0, 0.5, k)


def test_identifiability_per_rank_head_and_best_match():
    first = scaled()
    # the second run keeps the 8 leading features in place and rotates the rest among themselves
    rotation, _ = torch.linalg.qr(torch.randn(24, 24, generator=torch.Generator().manual_seed(1)))
    second = torch.cat([first[:, :8], first[:, 8:] @ rotation], dim=1)
    order = torch.arange(32)
    score = measures.identifiability(first, second, order, order)
    assert len(score["per_rank"]) == 32
    assert score["ordered_top8"] == pytest.approx(1.0, abs=1e-5)
    assert score["best_match_top8"] == pytest.approx(1.0, abs=1e-5)
    assert score["ordered_top16"] < 0.8
    assert score["ordered"] < score["ordered_top16"] < score["ordered_top8"]


def run(features, labels, method="tricl", importance=None):
    return RunFeatures("ckpt", "solo-learn", method, Split(features, labels), Split(features, labels), importance)


def test_evaluate_run_puts_top_random_and_bottom_k_side_by_side():
    # the 4 features with the largest s carry the label, the 4 smallest are noise
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 4, (1200,), generator=generator)
    informative = torch.nn.functional.one_hot(labels, 4).float() * 3 + 0.3 * torch.randn(1200, 4, generator=generator)
    features = torch.cat([informative, torch.randn(1200, 28, generator=generator)], dim=1)
    importance = torch.cat([torch.full((4,), 5.0), torch.linspace(2.0, 0.1, 28)])
    result = evaluate_run(run(features, labels, importance=importance), top_k=4, ks=(1, 2, 4, 8))
    curves = result["accuracy_vs_k"]
    assert set(curves) == {"important", "random", "least"}
    assert curves["important"][4] > 0.95
    assert curves["least"][4] < 0.4
    assert curves["least"][4] < curves["random"][4] < curves["important"][4]
    assert result["accuracy"]["top4_least"] == curves["least"][4]
    assert {"effective_rank", "collapsed"} <= set(result)


def test_compare_runs_flags_collapse_and_warns_instead_of_a_headline():
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(500) % 5
    shared = torch.randn(500, 1, generator=generator)
    collapsed = run(shared + 0.05 * torch.randn(500, 16, generator=generator), labels)
    other = run(shared + 0.05 * torch.randn(500, 16, generator=generator), labels)
    ident = compare_runs(collapsed, other)
    assert ident["collapsed"] and ident["ordered"] > 0.9
    warning = collapse_warning(ident)
    assert warning.startswith("WARNING: features collapsed") and "not meaningful" in warning
    healthy = run(scaled(500, 16), labels)
    assert collapse_warning(compare_runs(healthy, run(scaled(500, 16, seed=1), labels))) is None


def test_random_order_is_seeded():
    assert torch.equal(feature_order("random", 10, seed=3), feature_order("random", 10, seed=3))
