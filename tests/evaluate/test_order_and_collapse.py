"""The feature orders, the one measurement of a run, per-rank identifiability and the collapse
guard, on constructed features whose answers are known."""

import math

import pytest
import torch

from solo_tricl.evaluate import measures
from solo_tricl.evaluate.features import RunFeatures, Split
from solo_tricl.evaluate.measurement import collapse_warning, measure_pair, measure_run
from solo_tricl.evaluate.orders import activation_mass, fit, in_order, selection


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


def run(features, labels, method="tricl", importance=None, classifier=None):
    split = Split(features, labels)
    return RunFeatures(
        "ckpt",
        "solo-learn",
        method,
        split,
        split,
        importance,
        activation=activation_mass(features),
        classifier=classifier,
    )


def informative_run(method="tricl", importance=None, n=1200):
    """The first 4 features carry the label, the other 28 are noise."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 4, (n,), generator=generator)
    informative = torch.nn.functional.one_hot(labels, 4).float() * 3 + 0.3 * torch.randn(n, 4, generator=generator)
    return run(torch.cat([informative, torch.randn(n, 28, generator=generator)], dim=1), labels, method, importance)


def test_measure_run_puts_top_random_and_bottom_k_side_by_side():
    importance = torch.cat([torch.full((4,), 5.0), torch.linspace(2.0, 0.1, 28)])
    result, _ = measure_run(informative_run(importance=importance), ("importance",), ks=(1, 2, 4, 8))
    top, bottom, random = (result.at(o, "linear", 4) for o in ("importance", "bottom", "random"))
    assert top > 0.95 and bottom < 0.4 and bottom < random < top
    assert result.orders["importance"].label == "s (learned)" and result.orders["importance"].columns[:4] == [
        0,
        1,
        2,
        3,
    ]
    assert result.effective_rank > 1 and not result.collapsed


def test_every_selection_order_shares_its_all_feature_point_and_rotations_measure_their_own():
    result, _ = measure_run(informative_run("simclr"), ("importance", "prefix", "pca"), ks=(2, 8))
    everything = result.at("importance", "linear", "all")
    assert result.at("prefix", "linear", "all") == everything == result.at("random", "linear", "all")
    assert result.at("pca", "linear", "all") == pytest.approx(everything, abs=0.05)
    assert result.orders["pca"].columns is None and result.orders["prefix"].columns == list(range(32))


@pytest.mark.parametrize(
    "method, importance, expected",
    [("tricl", torch.linspace(0.1, 2.0, 32), "s"), ("mrl", None, "prefix"), ("simclr", None, "activation")],
)
def test_importance_is_what_each_method_defines(method, importance, expected):
    native = informative_run(method, importance)
    order = fit(native, "importance")
    assert order.kind == expected
    columns = {"s": list(range(31, -1, -1)), "prefix": list(range(32))}.get(expected)
    if columns:
        assert order.columns.tolist() == columns
    else:  # activation mass: the label-carrying features have the largest |z|
        assert set(order.columns[:4].tolist()) == {0, 1, 2, 3}


def test_the_span_of_a_selection_is_its_columns_and_of_a_rotation_its_leading_directions():
    native = informative_run("simclr")
    chosen = selection("activation", "simclr", 32, activation=native.activation)
    span = chosen.span(3)
    assert torch.equal(span, torch.eye(32)[:, chosen.columns[:3]])
    pca = fit(native, "pca")
    basis = pca.span(5)
    assert torch.allclose(basis.T @ basis, torch.eye(5), atol=1e-5)
    # the first 5 PCA features are linear functionals of the features: they lie in that span
    ordered = pca.apply(native.test.features)[:, :5]
    centred = native.test.features - pca.offset.float()
    assert torch.allclose((centred @ basis @ basis.T) @ pca.matrix[:, :5].float(), ordered, atol=1e-3)


def test_zero_shot_on_every_feature_is_the_same_in_every_order():
    generator = torch.Generator().manual_seed(0)
    classifier = torch.nn.functional.normalize(torch.randn(32, 4, generator=generator), dim=0)
    native = informative_run("clip")
    features = torch.nn.functional.normalize(native.test.features, dim=1)
    clip_run = run(features, native.test.labels, "clip", classifier=classifier)
    result, _ = measure_run(clip_run, ("importance", "pca"), ks=(1, 4))
    everything = measures.zero_shot_accuracy(classifier, features, native.test.labels)
    assert result.at("importance", "zero_shot", "all") == pytest.approx(everything)
    assert result.at("pca", "zero_shot", "all") == pytest.approx(everything)
    assert sorted(result.orders["importance"].curves.zero_shot) == [1, 4, 32]


def test_measure_pair_flags_collapse_and_warns_instead_of_a_headline():
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(500) % 5
    shared = torch.randn(500, 1, generator=generator)
    collapsed = run(shared + 0.05 * torch.randn(500, 16, generator=generator), labels)
    other = run(shared + 0.05 * torch.randn(500, 16, generator=generator), labels)
    pair = measure_pair({"prefix": in_order(collapsed, "prefix")}, {"prefix": in_order(other, "prefix")})
    assert pair.collapsed and pair.by_order["prefix"]["ordered"] > 0.9
    warning = collapse_warning(pair)
    assert warning.startswith("WARNING: features collapsed") and "not meaningful" in warning
    healthy = [run(scaled(500, 16, seed=s), labels) for s in (0, 1)]
    pair = measure_pair(*({"prefix": in_order(r, "prefix")} for r in healthy))
    assert collapse_warning(pair) is None


def test_random_order_is_seeded():
    first, second = (selection("random", "simclr", 10, seed=3).columns for _ in range(2))
    assert torch.equal(first, second)
    assert not torch.equal(first, selection("random", "simclr", 10, seed=4).columns)
