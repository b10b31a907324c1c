"""Multi-crop: V views of a batch, every view of a sample a positive for every other view of it
(solo-learn's SimCLR rule), against slow loop references; V = 2 is the two-view loss."""

import pytest
import torch

from solo_tricl.losses import (
    FeatureImportance,
    InfoNCELoss,
    KernelInfoNCELoss,
    KernelMixtureLoss,
    NCLLoss,
    SpectralTriCLLoss,
    TriCLLoss,
    spectral_tricl_terms,
    tricl_terms,
)
from solo_tricl.losses.views import stack_views
from tests.losses import reference

VIEW_COUNTS = [3, 4, 8]


def views(v, b=3, k=5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(b, k, generator=generator, dtype=torch.float64) for _ in range(v)]


def test_the_positive_mask_pairs_every_view_of_a_sample():
    batch = stack_views(*views(3, b=2))
    expected = torch.tensor(
        [
            [0, 0, 1, 0, 1, 0],
            [0, 0, 0, 1, 0, 1],
            [1, 0, 0, 0, 1, 0],
            [0, 1, 0, 0, 0, 1],
            [1, 0, 1, 0, 0, 0],
            [0, 1, 0, 1, 0, 0],
        ],
        dtype=torch.bool,
    )
    assert torch.equal(batch.positive_mask, expected)
    assert batch.positive_cols is None and batch.num_views == 3


@pytest.mark.parametrize("v", VIEW_COUNTS)
@pytest.mark.parametrize("tau", [0.1, 0.5])
def test_info_nce_matches_loops(v, tau):
    zs = views(v)
    assert InfoNCELoss(tau)(*zs).item() == pytest.approx(reference.multi_view_simclr(zs, tau), rel=1e-9)


@pytest.mark.parametrize("v", VIEW_COUNTS)
def test_tricl_matches_loops_and_decorrelates_every_crop(v):
    zs = views(v)
    s = torch.rand(5, dtype=torch.float64) + 0.1
    terms = tricl_terms(zs, s, 0.2, decorrelation_weight=3.0)
    assert terms["contrastive"].item() == pytest.approx(reference.multi_view_tricl_contrastive(zs, s, 0.2), rel=1e-9)
    assert terms["decorrelation"].item() == pytest.approx(reference.multi_view_decorrelation(zs), rel=1e-9)


@pytest.mark.parametrize("v", VIEW_COUNTS)
@pytest.mark.parametrize("nesting", [(1, 3), (2, 5), (4,)])
def test_nested_tricl_adds_the_mean_of_the_contrastive_term_on_the_top_m_features_by_s(v, nesting):
    zs = views(v)
    s = torch.rand(5, dtype=torch.float64) + 0.1
    terms = tricl_terms(zs, s, 0.2, decorrelation_weight=3.0, nesting=nesting, nesting_weight=0.5)
    order = torch.argsort(s, descending=True)
    prefixes = [m for m in nesting if m < 5]  # the full prefix is the main term already
    expected = sum(
        reference.multi_view_tricl_contrastive([z[:, order[:m]] for z in zs], s[order[:m]], 0.2) for m in prefixes
    ) / len(prefixes)
    assert terms["nested"].item() == pytest.approx(expected, rel=1e-9)
    plain = tricl_terms(zs, s, 0.2, decorrelation_weight=3.0)
    assert terms["loss"].item() == pytest.approx(plain["loss"].item() + 0.5 * expected, rel=1e-9)
    assert "nested" not in plain


@pytest.mark.parametrize("v", VIEW_COUNTS)
def test_spectral_tricl_matches_loops(v):
    zs = views(v)
    s = torch.rand(5, dtype=torch.float64) + 0.1
    terms = spectral_tricl_terms(zs, s, decorrelation_weight=0.0)
    assert terms["contrastive"].item() == pytest.approx(
        reference.multi_view_spectral_tricl_contrastive(zs, s), rel=1e-9
    )


@pytest.mark.parametrize("v", VIEW_COUNTS)
@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0])
def test_kernel_matches_loops(v, gamma):
    zs = views(v)
    expected = reference.multi_view_kernel(zs, gamma, 0.4)
    assert KernelInfoNCELoss(gamma, 0.4, eps=1e-30)(*zs).item() == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("v", VIEW_COUNTS)
def test_kernel_mixture_is_the_weighted_sum_of_its_kernel_terms(v):
    zs = views(v)
    mixture = KernelMixtureLoss(gamma=1.0, lam=0.3, tau1=0.2, tau2=0.5, eps=1e-30)(*zs)
    expected = 0.3 * reference.multi_view_kernel(zs, 1.0, 0.2) + 0.7 * reference.multi_view_kernel(zs, 2.0, 0.5)
    assert mixture.item() == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("v", VIEW_COUNTS)
def test_ncl_is_info_nce_on_the_mapped_views(v):
    zs = views(v)
    expected = reference.multi_view_simclr([torch.relu(z) for z in zs], 0.2)
    assert NCLLoss(0.2, "relu")(*zs).item() == pytest.approx(expected, rel=1e-9)


def test_two_views_give_the_two_view_loss():
    z0, z1 = views(2)
    importance = FeatureImportance(5).double()
    assert TriCLLoss(importance)(z0, z1).item() == pytest.approx(
        reference.tricl_contrastive(z0, z1, importance().detach(), 0.2) + 10.0 * reference.decorrelation(z0, z1),
        rel=1e-9,
    )
    assert SpectralTriCLLoss(importance)(z0, z1).item() == pytest.approx(
        reference.spectral_tricl_contrastive(z0, z1, importance().detach()) + 10.0 * reference.decorrelation(z0, z1),
        rel=1e-9,
    )


@pytest.mark.parametrize("loss", [InfoNCELoss(), TriCLLoss(FeatureImportance(5)), KernelMixtureLoss(), NCLLoss()])
def test_one_view_is_an_error(loss):
    with pytest.raises(ValueError, match="at least two views"):
        loss(torch.randn(4, 5))


def test_gradients_reach_every_crop():
    zs = [z.requires_grad_() for z in views(4)]
    TriCLLoss(FeatureImportance(5).double())(*zs).backward()
    assert all(z.grad is not None and z.grad.abs().sum() > 0 for z in zs)
