import math

import pytest
import torch
import torch.nn.functional as F

from solo_tricl.losses import NON_NEGATIVE_MAPS, FeatureImportance, NonNegative

NON_NEGATIVE_FOR_REAL = ["relu", "rep_relu", "softplus", "sigmoid", "exp"]


@pytest.mark.parametrize("name", NON_NEGATIVE_FOR_REAL)
def test_maps_are_non_negative(name):
    z = torch.linspace(-6, 6, 101)
    assert (NonNegative(name)(z) >= 0).all()


def test_every_listed_map_is_available():
    assert set(NON_NEGATIVE_MAPS) == {"relu", "rep_relu", "gelu", "softplus", "sigmoid", "exp", "leaky_relu"}


def test_rep_relu_is_relu_forward_and_gelu_backward():
    z = torch.linspace(-3, 3, 13, dtype=torch.float64, requires_grad=True)
    out = NonNegative("rep_relu")(z)
    assert torch.equal(out.detach(), F.relu(z.detach()))
    out.sum().backward()
    reference = z.detach().clone().requires_grad_()
    F.gelu(reference).sum().backward()
    assert torch.allclose(z.grad, reference.grad)
    assert (z.grad[z.detach() < 0] != 0).all()  # dead units still get a gradient


def test_importance_is_softplus_of_theta_and_orders_descending():
    importance = FeatureImportance(5)
    with torch.no_grad():
        importance.theta.copy_(torch.tensor([0.0, 2.0, -1.0, 5.0, 1.0]))
    assert torch.allclose(importance(), F.softplus(importance.theta))
    assert importance.order().tolist() == [3, 1, 4, 0, 2]


def test_importance_initialisation_matches_reference_scale():
    torch.manual_seed(0)
    theta = FeatureImportance(10_000).theta.detach()
    assert theta.std().item() == pytest.approx(0.1, rel=0.05)
    assert F.softplus(theta).mean().item() == pytest.approx(math.log(2), rel=0.02)


def test_importance_entropy_bounds():
    importance = FeatureImportance(8, init_std=0.0)
    assert importance.entropy().item() == pytest.approx(1.0)
    with torch.no_grad():
        importance.theta.copy_(torch.tensor([30.0] + [-30.0] * 7))
    assert importance.entropy().item() < 0.01


@pytest.mark.parametrize("scale", [1.0, 10.0, 100.0])
def test_the_scale_multiplies_thetas_step_under_adam_and_keeps_the_start(scale):
    torch.manual_seed(0)
    importance = FeatureImportance(10_000, scale=scale)
    assert (scale * importance.theta).std().item() == pytest.approx(0.1, rel=0.05)
    before = (scale * importance.theta).detach().clone()
    optimizer = torch.optim.Adam(importance.parameters(), lr=1e-3)
    (-importance()[:10].sum()).backward()  # a push on the first 10 features
    optimizer.step()
    # Adam's first step is lr in theta whatever the gradient: c lr in c theta
    change = (scale * importance.theta).detach() - before
    assert change[:10].mean().item() == pytest.approx(scale * 1e-3, rel=1e-3)
    assert torch.allclose(importance(), F.softplus(scale * importance.theta))
    assert importance.parametrisation == ("s = softplus(theta)" if scale == 1 else f"s = softplus({scale:g} theta)")
