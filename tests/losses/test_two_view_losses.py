import math

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
    decorrelation_loss,
    spectral_tricl_terms,
    tricl_terms,
)
from tests.losses import reference

SHAPES = [(1, 3), (4, 8), (7, 5)]
TEMPERATURES = [0.07, 0.2, 1.0]


def views(b, k, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return (
        torch.randn(b, k, generator=generator, dtype=torch.float64),
        torch.randn(b, k, generator=generator, dtype=torch.float64),
    )


def importance_with(s: torch.Tensor) -> FeatureImportance:
    """A FeatureImportance whose softplus(theta) equals s."""
    importance = FeatureImportance(s.numel()).double()
    with torch.no_grad():
        importance.theta.copy_(torch.log(torch.expm1(s)))
    return importance


@pytest.mark.parametrize("b,k", SHAPES)
@pytest.mark.parametrize("tau", TEMPERATURES)
def test_info_nce_matches_loops(b, k, tau):
    z0, z1 = views(b, k)
    assert InfoNCELoss(tau)(z0, z1).item() == pytest.approx(reference.simclr(z0, z1, tau), rel=1e-9)


@pytest.mark.parametrize("b", [1, 3, 16])
def test_identical_rows_give_log_2b_minus_1(b):
    # every logit equal -> uniform softmax over the 2B - 1 candidates
    z = torch.ones(b, 6)
    expected = math.log(2 * b - 1)
    assert InfoNCELoss(0.3)(z, z).item() == pytest.approx(expected, rel=1e-6)
    assert KernelInfoNCELoss(0.5, 0.3)(z, z).item() == pytest.approx(expected, rel=1e-6)
    importance = FeatureImportance(6)
    assert TriCLLoss(importance, decorrelation_weight=0)(z, z).item() == pytest.approx(expected, rel=1e-6)


def test_perfectly_separated_views_approach_zero_loss():
    # views equal, distinct samples orthogonal: positive logit 1/tau, negatives 0
    z = torch.eye(4)
    tau = 0.01
    assert InfoNCELoss(tau)(z, z).item() < 1e-30 + 7 * math.exp(-1 / tau) * 1.01


@pytest.mark.parametrize("b,k", SHAPES)
@pytest.mark.parametrize("tau", TEMPERATURES)
@pytest.mark.parametrize("anchors", ["all", "view1"])
@pytest.mark.parametrize("form", ["isotropic", "reference"])
def test_tricl_matches_loops(b, k, tau, anchors, form):
    z0, z1 = views(b, k)
    s = torch.rand(k, dtype=torch.float64) + 0.1
    terms = tricl_terms((z0, z1), s, tau, decorrelation_weight=0.5, anchors=anchors, decorrelation=form)
    contrastive = reference.tricl_contrastive(z0, z1, s, tau, anchors)
    dec = reference.decorrelation(z0, z1, form)
    assert terms["contrastive"].item() == pytest.approx(contrastive, rel=1e-9)
    assert terms["decorrelation"].item() == pytest.approx(dec, rel=1e-9)
    assert terms["loss"].item() == pytest.approx(contrastive + 0.5 * dec, rel=1e-9)


@pytest.mark.parametrize("b,k", SHAPES)
@pytest.mark.parametrize("anchors", ["all", "view1"])
def test_tricl_with_unit_importance_is_simclr(b, k, anchors):
    z0, z1 = views(b, k)
    loss = TriCLLoss(importance_with(torch.ones(k, dtype=torch.float64)), 0.2, 0.0, anchors)
    assert loss(z0, z1).item() == pytest.approx(InfoNCELoss(0.2)(z0, z1).item(), rel=1e-12)


def test_view1_scaling_differs_from_all_when_s_is_not_one():
    z0, z1 = views(4, 6)
    s = torch.linspace(0.2, 3.0, 6, dtype=torch.float64)
    all_rows = tricl_terms((z0, z1), s, anchors="all")["contrastive"]
    view1 = tricl_terms((z0, z1), s, anchors="view1")["contrastive"]
    assert abs(all_rows.item() - view1.item()) > 1e-3


def test_gradients_reach_theta():
    z0, z1 = views(5, 8)
    importance = FeatureImportance(8).double()
    for loss in (TriCLLoss(importance), SpectralTriCLLoss(importance)):
        importance.zero_grad()
        loss(z0, z1).backward()
        assert importance.theta.grad is not None
        assert importance.theta.grad.abs().sum() > 0
        assert torch.isfinite(importance.theta.grad).all()


def test_tricl_module_exposes_theta_as_its_parameter():
    importance = FeatureImportance(8)
    assert list(TriCLLoss(importance).parameters()) == [importance.theta]


@pytest.mark.parametrize("k", [1, 4, 32])
def test_decorrelation_analytic(k):
    # the k rows e_1..e_k: isotropic C = (k/k) I = I; the authors' C = I / k (or I unaveraged)
    zhat = torch.eye(k, dtype=torch.float64)
    expected_reference = k * (1 / k - 1) ** 2 / k**2
    assert decorrelation_loss(zhat).item() == pytest.approx(0.0, abs=1e-15)
    assert decorrelation_loss(zhat, "reference").item() == pytest.approx(expected_reference, rel=1e-12)
    assert decorrelation_loss(zhat, "reference", average_rows=False).item() == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("k", [2, 8, 64])
def test_isotropic_decorrelation_of_collapsed_rows(k):
    # every row e_1: C = k e_1 e_1^T, so (C - I)^2 sums to (k - 1)^2 + (k - 1) over k^2 entries
    zhat = torch.zeros(10, k, dtype=torch.float64)
    zhat[:, 0] = 1
    assert decorrelation_loss(zhat).item() == pytest.approx((k - 1) / k, rel=1e-12)


def test_reference_decorrelation_cannot_fall_below_about_one_over_k():
    zhat = torch.nn.functional.normalize(torch.randn(512, 16, dtype=torch.float64), dim=1)
    assert decorrelation_loss(zhat, "reference").item() >= (1 - 1 / 16) ** 2 / 16 - 1e-12
    assert decorrelation_loss(zhat).item() < (1 - 1 / 16) ** 2 / 16


def _mean_abs_corr(z):
    corr = torch.corrcoef(z.T).abs()
    return corr[~torch.eye(len(corr), dtype=torch.bool)].mean().item()


def test_isotropic_decorrelation_decorrelates_and_the_reference_form_does_not():
    # strongly correlated features; 200 plain gradient steps on each form alone
    generator = torch.Generator().manual_seed(0)
    shared = torch.randn(256, 1, generator=generator, dtype=torch.float64)
    start = shared + 0.3 * torch.randn(256, 8, generator=generator, dtype=torch.float64)
    before = _mean_abs_corr(start)
    after = {}
    for form in ("isotropic", "reference"):
        z = start.clone().requires_grad_()
        optimizer = torch.optim.SGD([z], lr=100.0)
        for _ in range(200):
            optimizer.zero_grad()
            decorrelation_loss(torch.nn.functional.normalize(z, dim=1), form).backward()
            optimizer.step()
        after[form] = _mean_abs_corr(z.detach())
    assert before > 0.8
    assert after["isotropic"] < 0.5 * before
    assert after["reference"] > 0.9 * before


def test_default_weight_depends_on_the_form():
    assert TriCLLoss(FeatureImportance(4)).decorrelation_weight == 10.0
    assert TriCLLoss(FeatureImportance(4), decorrelation="reference").decorrelation_weight == 1.0
    assert TriCLLoss(FeatureImportance(4), decorrelation_weight=0.5).decorrelation_weight == 0.5
    assert SpectralTriCLLoss(FeatureImportance(4), decorrelation="reference").decorrelation_weight == 1.0
    assert SpectralTriCLLoss(FeatureImportance(4)).decorrelation_weight == 10.0


@pytest.mark.parametrize("b,k", SHAPES)
@pytest.mark.parametrize("anchors", ["all", "view1"])
@pytest.mark.parametrize("form", ["isotropic", "reference"])
def test_spectral_tricl_matches_loops(b, k, anchors, form):
    z0, z1 = views(b, k)
    s = torch.rand(k, dtype=torch.float64) + 0.1
    terms = spectral_tricl_terms((z0, z1), s, decorrelation_weight=2.0, anchors=anchors, decorrelation=form)
    contrastive = reference.spectral_tricl_contrastive(z0, z1, s, anchors)
    dec = reference.decorrelation(z0, z1, form, average_rows=False)
    assert terms["contrastive"].item() == pytest.approx(contrastive, rel=1e-9, abs=1e-12)
    assert terms["loss"].item() == pytest.approx(contrastive + 2.0 * dec, rel=1e-9)


def test_spectral_tricl_analytic_value():
    # two samples, views equal, orthogonal: positive sim 1 each, negatives 0 -> -1 + 0
    z = torch.eye(2, dtype=torch.float64)
    terms = spectral_tricl_terms((z, z), torch.ones(2, dtype=torch.float64))
    assert terms["contrastive"].item() == pytest.approx(-1.0)


@pytest.mark.parametrize("b,k", SHAPES)
def test_ncl_is_simclr_on_the_mapped_features(b, k):
    z0, z1 = views(b, k)
    expected = reference.simclr(torch.relu(z0), torch.relu(z1), 0.2)
    assert NCLLoss(0.2, "relu")(z0, z1).item() == pytest.approx(expected, rel=1e-9)
    assert NCLLoss(0.2, "rep_relu")(z0, z1).item() == pytest.approx(expected, rel=1e-9)


def test_ncl_all_zero_rows_stay_zero_and_finite():
    z0 = (-torch.ones(3, 4)).requires_grad_()  # relu -> all-zero rows: no direction, no gradient
    z1 = torch.randn(3, 4)
    loss = NCLLoss(0.2, "rep_relu")(z0, z1)
    loss.backward()
    assert torch.isfinite(loss) and torch.equal(z0.grad, torch.zeros(3, 4))


def test_rep_relu_sends_a_gradient_through_the_dead_units_of_a_live_row():
    z0 = torch.tensor([[1.0, -0.5, 2.0, -1.0], [0.5, 1.0, -2.0, 0.3], [-0.2, 0.7, 0.1, 1.0]], requires_grad=True)
    z1 = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    NCLLoss(0.2, "rep_relu")(z0, z1).backward()
    dead = z0.detach() < 0
    assert (z0.grad[dead] != 0).all()
    z0.grad = None
    NCLLoss(0.2, "relu")(z0, z1).backward()
    assert (z0.grad[dead] == 0).all()


@pytest.mark.parametrize("b,k", SHAPES)
@pytest.mark.parametrize("gamma", [0.5, 1.0, 1.5, 2.0])
@pytest.mark.parametrize("tau", [0.1, 0.5])
def test_kernel_matches_loops(b, k, gamma, tau):
    z0, z1 = views(b, k)
    expected = reference.kernel(z0, z1, gamma, tau)
    got = KernelInfoNCELoss(gamma, tau, eps=1e-12)(z0, z1).item()
    assert got == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("b,k", SHAPES)
@pytest.mark.parametrize("tau", TEMPERATURES)
def test_gaussian_kernel_is_simclr_at_half_temperature(b, k, tau):
    z0, z1 = views(b, k)
    gaussian = KernelInfoNCELoss(gamma=2.0, temperature=tau)(z0, z1).item()
    assert gaussian == pytest.approx(InfoNCELoss(tau / 2)(z0, z1).item(), rel=1e-10)


@pytest.mark.parametrize("lam", [0.0, 0.3, 1.0])
def test_sum_mixture_is_weighted_sum_of_kernel_losses(lam):
    z0, z1 = views(6, 8)
    got = KernelMixtureLoss(0.5, lam, 0.3, 0.6, "sum", eps=1e-12)(z0, z1).item()
    expected = lam * reference.kernel(z0, z1, 0.5, 0.3) + (1 - lam) * reference.kernel(z0, z1, 2.0, 0.6)
    assert got == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("lam", [0.0, 0.2, 1.0])
def test_concat_mixture_matches_loops(lam):
    z0, z1 = views(5, 10)
    got = KernelMixtureLoss(1.0, lam, 0.1, 0.3, "concat", eps=1e-12)(z0, z1).item()
    assert got == pytest.approx(reference.kernel_concat(z0, z1, 1.0, lam, 0.1, 0.3), rel=1e-7)
