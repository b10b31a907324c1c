"""Edge inputs: all-zero rows after a non-negative map, mixed precisions, non-scalar logit_scale,
infinite temperatures, empty feature dimensions."""

import math

import pytest
import torch

from solo_tricl.losses import (
    FeatureImportance,
    InfoNCELoss,
    KernelClipLoss,
    KernelInfoNCELoss,
    NCLClipLoss,
    NCLLoss,
    TriCLClipLoss,
    TriCLLoss,
)
from solo_tricl.losses.views import unit_rows


def test_rep_relu_on_a_row_that_is_all_zero_gives_bounded_gradients():
    z0 = torch.randn(8, 16, dtype=torch.float64)
    z0[3] = -torch.rand(16, dtype=torch.float64) - 0.1  # relu(z0[3]) == 0 everywhere
    z0.requires_grad_()
    z1 = torch.randn(8, 16, dtype=torch.float64, requires_grad=True)
    NCLLoss(0.2, "rep_relu")(z0, z1).backward()
    assert torch.isfinite(z0.grad).all() and z0.grad.abs().max() < 100
    assert z0.grad[3].abs().max() == 0


def test_unit_rows_keep_a_zero_row_zero_without_gradient_and_match_normalize_elsewhere():
    x = torch.randn(4, 5, dtype=torch.float64)
    x[2] = 0
    x.requires_grad_()
    unit = unit_rows(x)
    assert torch.equal(unit[2], torch.zeros(5, dtype=torch.float64))
    torch.testing.assert_close(unit[[0, 1, 3]], torch.nn.functional.normalize(x[[0, 1, 3]].detach(), dim=1))
    unit.sum().backward()
    assert torch.equal(x.grad[2], torch.zeros(5, dtype=torch.float64))


def test_float64_importance_with_float32_features_is_a_value_error():
    loss = TriCLLoss(FeatureImportance(6).double())
    with pytest.raises(ValueError, match="feature importance is torch.float64 but the features are torch.float32"):
        loss(torch.randn(4, 6), torch.randn(4, 6))


def test_half_precision_features_with_float32_importance_still_work():
    loss = TriCLLoss(FeatureImportance(6))
    assert torch.isfinite(loss(torch.randn(4, 6).bfloat16(), torch.randn(4, 6).bfloat16()))


@pytest.mark.parametrize("loss", [TriCLClipLoss(FeatureImportance(6)), NCLClipLoss(), KernelClipLoss()])
def test_a_non_scalar_logit_scale_is_a_value_error(loss):
    with pytest.raises(ValueError, match=r"logit_scale must be a scalar, got a tensor of shape \(3,\)"):
        loss(torch.randn(3, 6), torch.randn(3, 6), torch.ones(3))


@pytest.mark.parametrize(
    "make",
    [
        lambda t: InfoNCELoss(t),
        lambda t: TriCLLoss(FeatureImportance(4), t),
        lambda t: KernelInfoNCELoss(1.0, t),
        lambda t: NCLLoss(t),
    ],
)
@pytest.mark.parametrize("value", [math.inf, math.nan, 0.0])
def test_temperature_must_be_finite_and_positive(make, value):
    with pytest.raises(ValueError, match="temperature must be finite and > 0"):
        make(value)


def test_zero_features_are_a_value_error():
    with pytest.raises(ValueError, match=r"one feature \(B, k >= 1\)"):
        InfoNCELoss()(torch.randn(4, 0), torch.randn(4, 0))
    with pytest.raises(ValueError, match="num_features must be >= 1"):
        FeatureImportance(0)
