import pytest
import torch

from solo_tricl.losses import FeatureImportance, KernelClipLoss, NCLClipLoss, TriCLClipLoss
from tests.losses import reference


def pairs(n=6, d=8, seed=1):
    generator = torch.Generator().manual_seed(seed)
    return (
        torch.randn(n, d, generator=generator, dtype=torch.float64),
        torch.randn(n, d, generator=generator, dtype=torch.float64),
    )


def test_tricl_clip_matches_loops():
    image, text = pairs()
    s = torch.rand(8, dtype=torch.float64) + 0.2
    scale = torch.tensor(7.0, dtype=torch.float64)
    loss = TriCLClipLoss(decorrelation_weight=0.0)(image, text, scale, feature_importance=s)
    expected = reference.clip(image, text, lambda u, v: 7.0 * reference.dot(u, v, s.tolist()))
    assert loss.item() == pytest.approx(expected, rel=1e-9)


@pytest.mark.open_clip
def test_tricl_clip_with_unit_importance_is_open_clip_loss():
    open_clip = pytest.importorskip("open_clip", reason="open_clip_torch is not installed")
    image, text = pairs()
    image = torch.nn.functional.normalize(image, dim=1)
    text = torch.nn.functional.normalize(text, dim=1)
    scale = torch.tensor(10.0, dtype=torch.float64)
    ones = torch.ones(8, dtype=torch.float64)
    ours = TriCLClipLoss(decorrelation_weight=0.0)(image, text, scale, feature_importance=ones)
    theirs = open_clip.ClipLoss()(image, text, scale)
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)


def test_tricl_clip_takes_importance_from_constructor_and_reports_terms():
    image, text = pairs()
    importance = FeatureImportance(8).double()
    out = TriCLClipLoss(importance)(image, text, torch.tensor(5.0), output_dict=True)
    assert set(out) == {"contrastive_loss", "decorrelation_loss"}
    sum(out.values()).backward()
    assert importance.theta.grad.abs().sum() > 0


@pytest.mark.parametrize("form,default_weight", [("isotropic", 10.0), ("reference", 1.0)])
def test_tricl_clip_decorrelates_each_modality_in_the_chosen_form(form, default_weight):
    image, text = pairs()
    s = torch.rand(8, dtype=torch.float64) + 0.2
    loss_fn = TriCLClipLoss(decorrelation=form)
    out = loss_fn(image, text, torch.tensor(3.0), feature_importance=s, output_dict=True)
    expected = sum(reference.decorrelation(x[:3], x[3:], form) for x in (image, text)) / 2
    assert loss_fn.decorrelation_weight == default_weight
    assert out["decorrelation_loss"].item() == pytest.approx(default_weight * expected, rel=1e-9)


def test_ncl_clip_matches_loops():
    image, text = pairs()
    loss = NCLClipLoss("relu")(image, text, torch.tensor(4.0))
    expected = reference.clip(torch.relu(image), torch.relu(text), lambda u, v: 4.0 * reference.dot(u, v))
    assert loss.item() == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0])
def test_kernel_clip_matches_loops(gamma):
    image, text = pairs()
    loss = KernelClipLoss(gamma, eps=1e-12)(image, text, torch.tensor(3.0, dtype=torch.float64))
    expected = reference.clip(image, text, lambda u, v: -3.0 * reference.distance(u, v) ** gamma)
    assert loss.item() == pytest.approx(expected, rel=1e-7)


def test_kernel_clip_fixed_temperature_ignores_logit_scale():
    image, text = pairs()
    loss = KernelClipLoss(1.0, temperature=0.5)
    assert loss(image, text, torch.tensor(3.0)).item() == pytest.approx(loss(image, text, torch.tensor(99.0)).item())


def test_logit_bias_is_added_to_every_logit():
    image, text = pairs()
    loss = NCLClipLoss("softplus")
    # a constant shift of every logit leaves a softmax cross-entropy unchanged
    assert loss(image, text, torch.tensor(4.0), logit_bias=torch.tensor(-3.0)).item() == (
        pytest.approx(loss(image, text, torch.tensor(4.0)).item())
    )
