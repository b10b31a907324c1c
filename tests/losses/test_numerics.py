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
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(view_losses(FeatureImportance(1))))
@pytest.mark.parametrize("identical_views", [False, True])
def test_view_losses_finite(dtype, name, identical_views, device):
    torch.manual_seed(0)
    importance = FeatureImportance(16).to(device=device, dtype=dtype)
    z0 = torch.randn(32, 16, dtype=dtype, device=device, requires_grad=True)
    # identical views put the positive at distance 0, where D^gamma has an infinite slope
    z1 = z0.detach().clone() if identical_views else torch.randn(32, 16, dtype=dtype, device=device)
    z1.requires_grad_()
    loss = view_losses(importance)[name](z0, z1)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(z0.grad).all() and torch.isfinite(z1.grad).all()
    if importance.theta.grad is not None:
        assert torch.isfinite(importance.theta.grad).all()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(clip_losses(FeatureImportance(1))))
def test_clip_losses_finite(dtype, name, device):
    torch.manual_seed(0)
    importance = FeatureImportance(16).to(device=device, dtype=dtype)
    image = torch.randn(32, 16, dtype=dtype, device=device, requires_grad=True)
    text = image.detach().clone().requires_grad_()
    scale = torch.tensor(1 / TAU, dtype=dtype, device=device)
    loss = clip_losses(importance)[name](image, text, scale)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(image.grad).all() and torch.isfinite(text.grad).all()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ["tricl", "kernel", "mixture_sum"])
def test_losses_under_autocast(device, name):
    """Inside autocast (as OpenCLIP and Lightning's mixed precision train), the hand-written
    backward passes still get matrices of one dtype."""
    torch.manual_seed(0)
    importance = FeatureImportance(16).to(device)
    z0 = torch.randn(32, 16, device=device, requires_grad=True)
    z1 = torch.randn(32, 16, device=device, requires_grad=True)
    dtype = torch.bfloat16 if device == "cpu" else torch.float16
    with torch.autocast(device_type=device, dtype=dtype):
        loss = view_losses(importance)[name](z0 @ torch.eye(16, device=device), z1)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(z0.grad).all()
