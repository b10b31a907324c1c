"""Bad arguments raise ValueError naming the argument and the allowed range."""

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
    NonNegative,
    SpectralTriCLLoss,
    TriCLClipLoss,
    TriCLLoss,
)


@pytest.mark.parametrize("tau", [0.0, -0.1])
@pytest.mark.parametrize(
    "make",
    [
        lambda t: InfoNCELoss(t),
        lambda t: TriCLLoss(FeatureImportance(4), temperature=t),
        lambda t: NCLLoss(t),
        lambda t: KernelInfoNCELoss(1.0, t),
        lambda t: KernelClipLoss(1.0, temperature=t),
    ],
)
def test_non_positive_temperature(make, tau):
    with pytest.raises(ValueError, match=r"temperature must be finite and > 0"):
        make(tau)


@pytest.mark.parametrize("name", ["tau1", "tau2"])
def test_non_positive_mixture_temperatures(name):
    with pytest.raises(ValueError, match=rf"{name} must be finite and > 0"):
        KernelMixtureLoss(**{name: 0.0})


@pytest.mark.parametrize("gamma", [0.0, -1.0, 2.01, 3.0])
@pytest.mark.parametrize("cls", [KernelInfoNCELoss, KernelMixtureLoss, KernelClipLoss])
def test_gamma_outside_zero_two(cls, gamma):
    with pytest.raises(ValueError, match=r"gamma must be in \(0.0, 2.0\]"):
        cls(gamma=gamma)


@pytest.mark.parametrize("lam", [-0.01, 1.5])
def test_lam_outside_unit_interval(lam):
    with pytest.raises(ValueError, match=r"lam must be in \[0.0, 1.0\]"):
        KernelMixtureLoss(lam=lam)


def test_odd_concat_dimension():
    with pytest.raises(ValueError, match=r"mixture='concat' needs an even embedding dimension"):
        KernelMixtureLoss(mixture="concat")(torch.randn(4, 7), torch.randn(4, 7))


def test_unknown_mixture_and_anchor_and_map_names():
    with pytest.raises(ValueError, match=r"mixture must be one of sum, concat"):
        KernelMixtureLoss(mixture="product")
    with pytest.raises(ValueError, match=r"anchors must be one of all, view1"):
        TriCLLoss(FeatureImportance(4), anchors="view2")
    with pytest.raises(ValueError, match=r"non_neg must be one of relu, rep_relu"):
        NonNegative("tanh")


@pytest.mark.parametrize(
    "loss",
    [
        InfoNCELoss(),
        TriCLLoss(FeatureImportance(8)),
        SpectralTriCLLoss(FeatureImportance(8)),
        NCLLoss(),
        KernelInfoNCELoss(),
        KernelMixtureLoss(),
    ],
)
@pytest.mark.parametrize("shapes", [((4, 8), (5, 8)), ((4, 8), (4, 6)), ((8,), (8,))])
def test_mismatched_view_shapes(loss, shapes):
    with pytest.raises(ValueError, match=r"every view must have shape \(B, k\)"):
        loss(torch.randn(*shapes[0]), torch.randn(*shapes[1]))


def test_importance_of_the_wrong_size():
    with pytest.raises(ValueError, match=r"feature importance must have shape \(6,\)"):
        TriCLLoss(FeatureImportance(4))(torch.randn(3, 6), torch.randn(3, 6))


@pytest.mark.parametrize("loss", [TriCLClipLoss(FeatureImportance(8)), NCLClipLoss(), KernelClipLoss()])
def test_mismatched_clip_shapes(loss):
    with pytest.raises(ValueError, match=r"image_features and text_features must both"):
        loss(torch.randn(4, 8), torch.randn(3, 8), torch.tensor(1.0))


def test_clip_world_size_must_match_torch_distributed():
    with pytest.raises(ValueError, match=r"world_size=2 must match torch.distributed"):
        NCLClipLoss(rank=0, world_size=2)


def test_negative_decorrelation_weight():
    with pytest.raises(ValueError, match=r"decorrelation_weight must be finite and >= 0"):
        TriCLLoss(FeatureImportance(4), decorrelation_weight=-1)
