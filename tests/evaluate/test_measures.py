"""The measures on constructed features whose answers are known."""

import pytest
import torch

from solo_tricl.common.images import subset
from solo_tricl.evaluate import measures
from solo_tricl.evaluate.features import RunFeatures, Split
from solo_tricl.evaluate.measurement import check_comparable, measure_run
from solo_tricl.evaluate.orders import activation_mass, selection


def scaled_features(n=2000, k=16, seed=0):
    """Independent columns with distinct scales, so activation mass gives one order."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, k, generator=generator) * torch.linspace(0.5, 3.0, k)


def mass_order(x):
    return selection("activation", "simclr", x.shape[1], activation=activation_mass(x)).columns


def test_a_permuted_copy_is_identifiable_after_ordering():
    first = scaled_features()
    second = first[:, torch.randperm(16, generator=torch.Generator().manual_seed(1))]
    score = measures.identifiability(first, second, mass_order(first), mass_order(second))
    assert score["ordered"] == pytest.approx(1.0, abs=1e-5)
    assert score["matched"] == pytest.approx(1.0, abs=1e-5)


def test_independent_runs_score_near_zero_and_matching_is_only_context():
    first, second = scaled_features(seed=0), scaled_features(seed=1)
    score = measures.identifiability(first, second, mass_order(first), mass_order(second))
    assert score["ordered"] < 0.05
    # a rotation of the same features: no single feature matches, whatever the order
    rotation, _ = torch.linalg.qr(torch.randn(16, 16, generator=torch.Generator().manual_seed(2)))
    rotated = first @ rotation
    assert measures.identifiability(first, rotated, mass_order(first), mass_order(rotated))["ordered"] < 0.5


def test_identifiability_without_permutation_search_is_low_for_unordered_copies():
    first = scaled_features()
    second = first[:, torch.randperm(16, generator=torch.Generator().manual_seed(3))]
    identity = torch.arange(16)
    score = measures.identifiability(first, second, identity, identity)
    assert score["ordered"] < 0.3 and score["matched"] == pytest.approx(1.0, abs=1e-5)


def labelled_features(n=3000, k=4, noise_dims=60, seed=0):
    """Only the first k dimensions carry the label; the rest are noise."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 4, (n,), generator=generator)
    informative = torch.nn.functional.one_hot(labels, k).float() * 3 + 0.3 * torch.randn(n, k, generator=generator)
    return torch.cat([informative, torch.randn(n, noise_dims, generator=generator)], dim=1), labels


def test_top_k_probe_finds_the_informative_dimensions():
    x, y = labelled_features()
    importance = torch.cat([torch.full((4,), 5.0), torch.rand(60)])
    order = selection("importance", "tricl", 64, importance).columns
    train, test = slice(0, 2000), slice(2000, None)
    top = measures.linear_probe(x[train][:, order[:4]], y[train], x[test][:, order[:4]], y[test])
    noise = measures.linear_probe(x[train][:, 10:14], y[train], x[test][:, 10:14], y[test])
    assert top > 0.95 and noise < 0.4


def test_sparsity_and_consistency_and_orthogonality_on_known_features():
    features = torch.zeros(8, 4)
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    features[torch.arange(8), labels] = 1.0  # dimension j fires only for class j
    assert measures.sparsity(features) == pytest.approx(0.75)
    assert measures.class_consistency(features, labels) == pytest.approx(1.0)
    mixed = torch.ones(8, 4)  # every dimension fires for every class
    assert measures.class_consistency(mixed, labels) == pytest.approx(0.25)
    assert measures.sparsity(mixed) == 0.0
    duplicated = torch.randn(100, 1).repeat(1, 3)
    assert measures.orthogonality(duplicated)["mean_abs_corr"] == pytest.approx(1.0, abs=1e-5)
    assert measures.orthogonality(scaled_features())["mean_abs_corr"] < 0.05


def test_retrieval_by_hand():
    # 1-d features: 0.0, 0.1 (class 0) and 1.0, 1.1 (class 1), as 2-d unit-ish vectors
    features = torch.tensor([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]])
    labels = torch.tensor([0, 0, 1, 1])
    result = measures.precision_and_map(features, labels, k=1)
    assert result["precision_at_1"] == 1.0 and result["mean_average_precision"] == 1.0
    swapped = measures.precision_and_map(features, torch.tensor([0, 1, 0, 1]), k=1)
    # every nearest neighbour has the other label; the one relevant item ranks 3rd for the
    # queries 0 and 2 and 2nd for 1 and 3: mAP = (1/3 + 1/2 + 1/3 + 1/2) / 4
    assert swapped["precision_at_1"] == 0.0
    assert swapped["mean_average_precision"] == pytest.approx(5 / 12)


def run(method="tricl", k=16, n=200, seed=0, host="solo-learn"):
    x = scaled_features(n, k, seed)
    labels = torch.arange(n) % 4
    return RunFeatures("ckpt", host, method, Split(x, labels), Split(x, labels), activation=activation_mass(x))


def test_pairs_must_be_one_method_and_dimension():
    with pytest.raises(ValueError, match="two runs of one method"):
        check_comparable(run("tricl"), run("ncl"))
    with pytest.raises(ValueError, match="differ in shape"):
        check_comparable(run(k=16), run(k=8))


def test_an_empty_dataset_is_an_error():
    with pytest.raises(ValueError, match="the dataset holds no images"):
        subset([], None, 0)
    with pytest.raises(ValueError, match="non-empty"):
        activation_mass(torch.zeros(0, 4))


def test_measure_run_reports_every_measure():
    result, ordered = measure_run(run(n=400), ("importance",), ks=(1, 2, 4, 8), also=(4,), retrieval=True)
    importance = result.orders["importance"]
    assert sorted(importance.curves.linear) == [1, 2, 4, 8, 16] and sorted(importance.bottom) == [1, 2, 4, 8, 16]
    # kNN on one feature is a coin flip: not measured
    assert sorted(importance.curves.knn) == [2, 4, 8, 16] and sorted(result.random.knn) == [2, 4, 8, 16]
    assert sorted(result.random.linear) == [1, 2, 4, 8, 16] and sorted(importance.curves.retrieval) == [1, 2, 4, 8, 16]
    assert result.at("importance", "knn", 1) is None
    assert result.retrieval_all is not None and result.representation == ""  # constructed features: none named
    assert {"sparsity", "class_consistency", "mean_abs_corr", "effective_rank"} <= set(vars(result))
    assert importance.label == "activation mass" and importance.kind == "activation"
    assert set(ordered) == {"importance"}


def test_knn_follows_solo_learns_protocol_against_a_slow_reference():
    from solo_tricl.evaluate.measures import knn_accuracy

    generator = torch.Generator().manual_seed(0)
    train, test = torch.randn(60, 5, generator=generator), torch.randn(25, 5, generator=generator)
    train_y, test_y = torch.randint(0, 3, (60,), generator=generator), torch.randint(0, 3, (25,), generator=generator)
    correct = 0
    for x, y in zip(test, test_y):
        similarity = torch.nn.functional.cosine_similarity(x[None], train)
        nearest = similarity.argsort(descending=True)[:20]
        votes = [sum(float(torch.exp(similarity[j] / 0.07)) for j in nearest if train_y[j] == c) for c in range(3)]
        correct += int(max(range(3), key=votes.__getitem__) == y)
    assert knn_accuracy(train, train_y, test, test_y) == pytest.approx(correct / 25)


def test_knn_is_perfect_on_separated_classes():
    from solo_tricl.evaluate.measures import knn_accuracy

    centres = torch.eye(4) * 10
    labels = torch.arange(4).repeat_interleave(30)
    features = centres[labels] + 0.1 * torch.randn(120, 4)
    assert knn_accuracy(features, labels, features, labels) == 1.0


def test_batch_statistics_on_known_features():
    from solo_tricl.common.feature_statistics import batch_statistics

    gaussian = torch.randn(4000, 8, generator=torch.Generator().manual_seed(0))
    independent = batch_statistics(gaussian + 1e-3 * gaussian.sign())  # no entry within 1e-5 of 0
    assert independent["sparsity"] == 0 and independent["effective_rank"] > 7.9 and independent["mean_abs_corr"] < 0.05
    line = torch.randn(500, 1) * torch.ones(1, 8)
    collapsed = batch_statistics(line)
    assert collapsed["effective_rank"] == pytest.approx(1.0, abs=1e-6) and collapsed["mean_abs_corr"] > 0.999
    sparse = torch.zeros(10, 8)
    sparse[:, 0] = 1
    assert batch_statistics(sparse)["sparsity"] == pytest.approx(7 / 8)


def test_effective_rank_is_the_same_from_the_smaller_gram_matrix():
    from solo_tricl.common.feature_statistics import effective_rank

    wide = torch.randn(50, 300)
    centred = (wide - wide.mean(0)).double()
    values = torch.linalg.eigvalsh(centred.T @ centred / 49).clamp_min(0)
    p = values / values.sum()
    assert effective_rank(wide) == pytest.approx(torch.exp(-(p * p.clamp_min(1e-300).log()).sum()).item())
