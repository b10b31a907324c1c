"""Generated cases: a NaN or Inf anywhere in any input makes every loss NaN (never a finite value
that looks right), and every argument a loss cannot use is a TypeError or ValueError naming it."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from solo_tricl.losses import (
    NON_NEGATIVE_MAPS,
    FeatureImportance,
    InfoNCELoss,
    KernelClipLoss,
    KernelInfoNCELoss,
    KernelMixtureLoss,
    MatryoshkaClipLoss,
    MatryoshkaInfoNCELoss,
    NCLClipLoss,
    NCLLoss,
    NonNegative,
    SpectralTriCLLoss,
    TriCLClipLoss,
    TriCLLoss,
)

K = 6


def view_losses():
    importance = FeatureImportance(K)
    losses = {
        "simclr": InfoNCELoss(),
        "tricl": TriCLLoss(importance),
        "tricl_reference_view1": TriCLLoss(importance, decorrelation="reference", anchors="view1"),
        "tri_scl": SpectralTriCLLoss(importance),
        "kernel_laplacian": KernelInfoNCELoss(1.0, 0.5),
        "kernel_gaussian": KernelInfoNCELoss(2.0, 0.5),
        "mixture_sum": KernelMixtureLoss(),
        "mixture_concat": KernelMixtureLoss(mixture="concat"),
        "matryoshka": MatryoshkaInfoNCELoss(),
        "matryoshka_head": MatryoshkaInfoNCELoss((1, 2)),
    }
    losses.update({f"ncl_{name}": NCLLoss(non_neg=name) for name in NON_NEGATIVE_MAPS})
    return losses


def clip_losses():
    return {
        "tricl_clip": TriCLClipLoss(FeatureImportance(K)),
        "ncl_clip": NCLClipLoss(),
        "kernel_clip": KernelClipLoss(),
        "kernel_clip_fixed_tau": KernelClipLoss(temperature=0.1),
        "matryoshka_clip": MatryoshkaClipLoss(),
        "matryoshka_clip_head": MatryoshkaClipLoss((1, 2)),
    }


VIEW_LOSSES, CLIP_LOSSES = view_losses(), clip_losses()
BAD_VALUES = st.sampled_from([math.nan, math.inf, -math.inf])


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(sorted(VIEW_LOSSES)),
    views=st.integers(2, 4),
    batch=st.integers(1, 5),
    data=st.data(),
    bad=BAD_VALUES,
)
def test_a_non_finite_entry_in_any_view_makes_every_view_loss_nan(name, views, batch, data, bad):
    z = [torch.randn(batch, K) for _ in range(views)]
    view, row, col = (data.draw(st.integers(0, n - 1)) for n in (views, batch, K))
    z[view][row, col] = bad
    assert torch.isnan(VIEW_LOSSES[name](*z))


@pytest.mark.parametrize("column", range(K))
@pytest.mark.parametrize("name", sorted(VIEW_LOSSES))
def test_a_nan_in_any_feature_column_makes_the_view_loss_nan(name, column):
    # every column, not a sample of them: a loss whose terms skip some features (Matryoshka's
    # prefixes) must still show a diverged one
    z0, z1 = torch.randn(3, K), torch.randn(3, K)
    z1[2, column] = math.nan
    assert torch.isnan(VIEW_LOSSES[name](z0, z1))


@pytest.mark.parametrize("column", range(K))
@pytest.mark.parametrize("name", sorted(CLIP_LOSSES))
def test_an_inf_in_any_feature_column_makes_the_clip_loss_nan(name, column):
    image, text = torch.randn(3, K), torch.randn(3, K)
    image[0, column] = math.inf
    assert torch.isnan(CLIP_LOSSES[name](image, text, torch.tensor(10.0)))


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(CLIP_LOSSES)),
    batch=st.integers(1, 5),
    data=st.data(),
    bad=BAD_VALUES,
    modality=st.sampled_from(["image", "text", "logit_scale"]),
)
def test_a_non_finite_entry_in_any_input_makes_every_clip_loss_nan(name, batch, data, bad, modality):
    image, text = torch.randn(batch, K), torch.randn(batch, K)
    scale = torch.tensor(10.0)
    if modality == "logit_scale":
        scale = torch.tensor(bad)
    else:
        target = image if modality == "image" else text
        target[data.draw(st.integers(0, batch - 1)), data.draw(st.integers(0, K - 1))] = bad
    if name == "kernel_clip_fixed_tau" and modality == "logit_scale":
        return  # a fixed temperature does not read logit_scale
    assert torch.isnan(CLIP_LOSSES[name](image, text, scale))


@pytest.mark.parametrize("loss", [TriCLLoss, SpectralTriCLLoss])
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_non_finite_importance_makes_the_tricl_losses_nan(loss, bad):
    importance = FeatureImportance(K)
    with torch.no_grad():
        importance.theta[2] = bad
    assert torch.isnan(loss(importance)(torch.randn(4, K), torch.randn(4, K)))


def test_an_exactly_zero_row_is_the_only_special_case():
    z0, z1 = torch.randn(4, K), torch.randn(4, K)
    z0[1] = 0
    assert torch.isfinite(InfoNCELoss()(z0, z1))


@pytest.mark.parametrize("name", sorted(NON_NEGATIVE_MAPS))
def test_no_non_negative_map_hides_a_non_finite_input(name):
    out = NonNegative(name)(torch.tensor([-math.inf, math.inf, math.nan, -1.0, 1.0]))
    assert torch.isnan(out[:3]).all() and torch.isfinite(out[3:]).all()


NOT_FEATURES = {
    "an integer tensor": torch.ones(4, K, dtype=torch.long),
    "a bool tensor": torch.ones(4, K, dtype=torch.bool),
    "a complex tensor": torch.ones(4, K, dtype=torch.complex64),
    "a list": [[0.0] * K] * 4,
    "a numpy array": np.ones((4, K), dtype=np.float32),
}


@pytest.mark.parametrize("what", sorted(NOT_FEATURES))
@pytest.mark.parametrize("name", sorted(VIEW_LOSSES))
@pytest.mark.parametrize("position", [0, 1])
def test_a_view_that_is_not_floating_point_features_is_a_type_error_naming_it(name, what, position):
    views = [torch.randn(4, K), torch.randn(4, K)]
    views[position] = NOT_FEATURES[what]
    with pytest.raises(TypeError, match=rf"(view {position}|z) must be a (torch.Tensor|floating-point tensor)"):
        VIEW_LOSSES[name](*views)


@pytest.mark.parametrize("what", sorted(NOT_FEATURES))
@pytest.mark.parametrize("name", sorted(CLIP_LOSSES))
@pytest.mark.parametrize("argument", ["image_features", "text_features"])
def test_clip_features_that_are_not_floating_point_are_a_type_error_naming_them(name, what, argument):
    inputs = {"image_features": torch.randn(4, K), "text_features": torch.randn(4, K)}
    inputs[argument] = NOT_FEATURES[what]
    with pytest.raises(TypeError, match=rf"{argument} must be"):
        CLIP_LOSSES[name](**inputs, logit_scale=torch.tensor(10.0))


@pytest.mark.parametrize("name", sorted(CLIP_LOSSES))
def test_a_string_logit_scale_is_a_type_error(name):
    with pytest.raises(TypeError, match="logit_scale must be"):
        CLIP_LOSSES[name](torch.randn(4, K), torch.randn(4, K), "10")


# every numeric constructor argument of every loss, with a value it accepts
NUMERIC_ARGUMENTS = [
    (InfoNCELoss, {}, "temperature"),
    (NCLLoss, {}, "temperature"),
    (TriCLLoss, {"importance": FeatureImportance(K)}, "temperature"),
    (TriCLLoss, {"importance": FeatureImportance(K)}, "decorrelation_weight"),
    (SpectralTriCLLoss, {"importance": FeatureImportance(K)}, "decorrelation_weight"),
    (KernelInfoNCELoss, {}, "gamma"),
    (KernelInfoNCELoss, {}, "temperature"),
    (KernelInfoNCELoss, {}, "eps"),
    (KernelMixtureLoss, {}, "gamma"),
    (KernelMixtureLoss, {}, "lam"),
    (KernelMixtureLoss, {}, "tau1"),
    (KernelMixtureLoss, {}, "tau2"),
    (KernelMixtureLoss, {}, "eps"),
    (KernelClipLoss, {}, "gamma"),
    (KernelClipLoss, {}, "temperature"),
    (KernelClipLoss, {}, "eps"),
    (TriCLClipLoss, {}, "decorrelation_weight"),
    (FeatureImportance, {"num_features": K}, "init_std"),
    (FeatureImportance, {}, "num_features"),
]
WRONG_TYPES = ["0.2", True, [0.2], complex(0.2, 0), torch.tensor(0.2)]
OUT_OF_RANGE = [math.nan, math.inf, -math.inf, -1.0, 1e9]


@pytest.mark.parametrize("value", WRONG_TYPES, ids=repr)
@pytest.mark.parametrize("cls,fixed,argument", NUMERIC_ARGUMENTS, ids=lambda x: getattr(x, "__name__", str(x)))
def test_a_wrongly_typed_number_is_a_type_error_naming_the_argument(cls, fixed, argument, value):
    with pytest.raises(TypeError, match=rf"^{argument} must be"):
        cls(**fixed, **{argument: value})


@pytest.mark.parametrize("value", OUT_OF_RANGE, ids=repr)
@pytest.mark.parametrize("cls,fixed,argument", NUMERIC_ARGUMENTS, ids=lambda x: getattr(x, "__name__", str(x)))
def test_an_out_of_range_number_is_a_value_or_type_error_naming_the_argument(cls, fixed, argument, value):
    accepted = {
        ("decorrelation_weight", 1e9),
        ("eps", 1e9),
        ("temperature", 1e9),
        ("tau1", 1e9),
        ("tau2", 1e9),
        ("init_std", 1e9),
    }
    if (argument, value) in accepted:
        cls(**fixed, **{argument: value})  # large but finite: allowed
        return
    with pytest.raises((ValueError, TypeError), match=rf"^{argument} must be"):
        cls(**fixed, **{argument: value})


@pytest.mark.parametrize("cls", [TriCLLoss, SpectralTriCLLoss])
def test_an_importance_that_is_not_a_feature_importance_is_a_type_error(cls):
    with pytest.raises(TypeError, match="importance must be a FeatureImportance"):
        cls(torch.ones(K))


@pytest.mark.parametrize("flag", ["local_loss", "gather_with_grad", "cache_labels", "use_horovod"])
def test_clip_flags_must_be_booleans(flag):
    with pytest.raises(TypeError, match=rf"{flag} must be True or False"):
        NCLClipLoss(**{flag: "no"})
