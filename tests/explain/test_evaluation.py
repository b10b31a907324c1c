import numpy as np
import pytest
import torch

from solo_tricl.explain.evaluation import (
    area_under_curve,
    perturbation_curves,
    pixel_order,
    rank_correlation,
)


@pytest.mark.parametrize(
    "curve,area",
    [([0, 1], 0.5), ([1, 1, 1], 1.0), ([0, 0.5, 1], 0.5), ([0, 1, 0], 0.5), ([1, 0, 0, 0, 0], 0.125)],
)
def test_area_under_hand_computed_curves(curve, area):
    assert area_under_curve(curve) == pytest.approx(area)


def test_a_curve_needs_two_points():
    with pytest.raises(ValueError):
        area_under_curve([1.0])


def test_insertion_and_deletion_follow_the_attribution_order():
    # 2 x 2 image of ones over a zero baseline; the score is the sum of the top-left pixel and
    # half the others: revealing it first gives the steepest insertion curve
    image, baseline = torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2)
    weights = torch.tensor([[1.0, 0.5], [0.5, 0.5]])
    score = lambda x: (x[:, 0] * weights).sum(dim=(1, 2))  # noqa: E731
    attributions = weights[None, None]
    insertion = perturbation_curves(image, baseline, attributions, score, "insertion", steps=4)
    deletion = perturbation_curves(image, baseline, attributions, score, "deletion", steps=4)
    assert insertion[0].tolist() == [0.0, 1.0, 1.5, 2.0, 2.5]
    assert deletion[0].tolist() == [2.5, 1.5, 1.0, 0.5, 0.0]
    assert pixel_order(attributions)[0, 0].item() == 0


def test_curves_can_return_representations():
    images, baselines = torch.rand(3, 3, 4, 4), torch.zeros(3, 3, 4, 4)
    reps = perturbation_curves(
        images, baselines, torch.rand(3, 3, 4, 4), lambda x: x.flatten(1)[:, :5], "insertion", steps=8
    )
    assert reps.shape == (3, 9, 5)
    assert torch.equal(reps[:, 0], baselines.flatten(1)[:, :5])
    assert torch.equal(reps[:, -1], images.flatten(1)[:, :5])


def test_rank_correlation_of_identical_and_independent_maps():
    a = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    b = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    assert rank_correlation(a, a) == pytest.approx(1.0)
    assert abs(rank_correlation(a, b)) < 0.2
    assert np.isfinite(rank_correlation(a, b))


def test_randomized_copy_leaves_the_global_random_state_alone():
    from solo_tricl.explain.evaluation import randomized_copy

    module = torch.nn.Linear(4, 3)
    before = torch.random.get_rng_state()
    copy = randomized_copy(module, seed=5)
    assert torch.equal(torch.random.get_rng_state(), before)
    again = randomized_copy(module, seed=5)
    assert torch.equal(copy.weight, again.weight)
