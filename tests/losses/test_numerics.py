"""Finite losses and gradients at a small temperature and a fractional kernel exponent."""

import pytest
import torch

from solo_tricl.losses import (
    FeatureImportance,
    InfoNCELoss,
    KernelClipLoss,
    KernelInfoNCELoss,
    KernelMixtureLoss,
    NCLClipLoss,
    NCLLoss,
    SpectralTriCLLoss,
    TriCLClipLoss,
    TriCLLoss,
)

TAU = 0.01
GAMMA = 0.5


def view_losses(importance):
    return {
        "simclr": InfoNCELoss(TAU),
        "tricl": TriCLLoss(importance, TAU),
        "tricl_view1": TriCLLoss(importance, TAU, anchors="view1"),
        "spectral_tricl": SpectralTriCLLoss(importance),
        "ncl": NCLLoss(TAU),
        "kernel": KernelInfoNCELoss(GAMMA, TAU),
        "mixture_sum": KernelMixtureLoss(GAMMA, 0.5, TAU, TAU, "sum"),
        "mixture_concat": KernelMixtureLoss(GAMMA, 0.5, TAU, TAU, "concat"),
    }


def clip_losses(importance):
    return {
        "tricl_clip": TriCLClipLoss(importance),
        "ncl_clip": NCLClipLoss(),
        "kernel_clip": KernelClipLoss(GAMMA, temperature=TAU),
    }


DTYPES = [torch.float32, torch.bfloat16]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(view_losses(FeatureImportance(1))))
@pytest.mark.parametrize("identical_views", [False, True])
def test_view_losses_finite(dtype, name, identical_views):
    torch.manual_seed(0)
    importance = FeatureImportance(16).to(dtype)
    z0 = torch.randn(32, 16, dtype=dtype, requires_grad=True)
    # identical views put the positive at distance 0, where D^gamma has an infinite slope
    z1 = z0.detach().clone() if identical_views else torch.randn(32, 16, dtype=dtype)
    z1.requires_grad_()
    loss = view_losses(importance)[name](z0, z1)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(z0.grad).all() and torch.isfinite(z1.grad).all()
    if importance.theta.grad is not None:
        assert torch.isfinite(importance.theta.grad).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(clip_losses(FeatureImportance(1))))
def test_clip_losses_finite(dtype, name):
    torch.manual_seed(0)
    importance = FeatureImportance(16).to(dtype)
    image = torch.randn(32, 16, dtype=dtype, requires_grad=True)
    text = image.detach().clone().requires_grad_()
    scale = torch.tensor(1 / TAU, dtype=dtype)
    loss = clip_losses(importance)[name](image, text, scale)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(image.grad).all() and torch.isfinite(text.grad).all()
