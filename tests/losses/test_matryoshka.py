"""Matryoshka (Kusupati et al., NeurIPS 2022): InfoNCE and CLIP's loss averaged over nested
prefixes, against slow loop references and analytic values."""

import math

import pytest
import torch

from solo_tricl.losses import InfoNCELoss, MatryoshkaClipLoss, MatryoshkaInfoNCELoss
from solo_tricl.losses.defaults import MRL_REDUCTION
from solo_tricl.losses.matryoshka import default_nesting
from tests.losses import reference


def views(v, b=4, k=8, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(b, k, generator=generator, dtype=torch.float64) for _ in range(v)]


@pytest.mark.parametrize(
    "k,smallest,expected",
    [
        (1, 1, (1,)),
        (2, 1, (1, 2)),
        (5, 1, (1, 2, 4, 5)),
        (8, 1, (1, 2, 4, 8)),
        (12, 1, (1, 2, 4, 8, 12)),
        (4, 8, (4,)),
        (8, 8, (8,)),
        (128, 8, (8, 16, 32, 64, 128)),
        (100, 8, (8, 16, 32, 64, 100)),
    ],
)
def test_the_default_nesting_is_powers_of_two_from_the_smallest_prefix_and_k(k, smallest, expected):
    assert default_nesting(k, smallest) == expected


@pytest.mark.parametrize("v", [2, 3, 5])
@pytest.mark.parametrize("nesting", [(3,), (1, 8), (2, 5, 7)])
@pytest.mark.parametrize("tau", [0.1, 0.5])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_matryoshka_matches_loops_for_any_number_of_views(v, nesting, tau, reduction):
    zs = views(v)
    expected = reference.multi_view_matryoshka(zs, nesting, tau, reduction)
    assert MatryoshkaInfoNCELoss(nesting, tau, reduction)(*zs).item() == pytest.approx(expected, rel=1e-9)


def test_the_default_is_the_default_nesting_with_the_default_reduction():
    zs = views(2, k=32)
    expected = reference.multi_view_matryoshka(zs, default_nesting(32), 0.2, MRL_REDUCTION)
    assert default_nesting(32) == (8, 16, 32)  # the authors' smallest prefix
    assert MatryoshkaInfoNCELoss()(*zs).item() == pytest.approx(expected, rel=1e-9)


def test_the_smallest_prefix_sets_the_default_nesting_in_both_losses():
    zs = views(2, k=32)
    expected = reference.multi_view_matryoshka(zs, (8, 16, 32), 0.2, "sum")
    assert MatryoshkaInfoNCELoss(None, 0.2, "sum", smallest_prefix=8)(*zs).item() == pytest.approx(expected, rel=1e-9)
    scale = torch.tensor(5.0, dtype=torch.float64)
    explicit = MatryoshkaClipLoss((8, 16, 32), "sum")(*zs, scale)
    assert MatryoshkaClipLoss(None, "sum", smallest_prefix=8)(*zs, scale).item() == pytest.approx(explicit.item())
    with pytest.raises(ValueError, match="smallest_prefix"):
        MatryoshkaInfoNCELoss(smallest_prefix=0)


def test_the_sum_is_the_mean_times_the_number_of_prefixes():
    zs = views(2)
    total, mean = (MatryoshkaInfoNCELoss((1, 2, 8), 0.2, r)(*zs).item() for r in ("sum", "mean"))
    assert total == pytest.approx(3 * mean, rel=1e-12)


def test_an_unknown_reduction_is_refused():
    with pytest.raises(ValueError, match="reduction"):
        MatryoshkaInfoNCELoss(reduction="max")


def test_one_prefix_of_every_feature_is_simclr():
    zs = views(3)
    assert MatryoshkaInfoNCELoss((8,), 0.2)(*zs).item() == pytest.approx(InfoNCELoss(0.2)(*zs).item(), rel=1e-12)


@pytest.mark.parametrize("b", [1, 3, 16])
def test_identical_rows_give_log_2b_minus_1_for_every_prefix(b):
    z = torch.ones(b, 8, dtype=torch.float64)
    assert MatryoshkaInfoNCELoss((1, 4, 8), reduction="mean")(z, z.clone()).item() == pytest.approx(
        math.log(2 * b - 1), rel=1e-12
    )
    assert MatryoshkaInfoNCELoss((1, 4, 8), reduction="sum")(z, z.clone()).item() == pytest.approx(
        3 * math.log(2 * b - 1), rel=1e-12
    )


def test_each_prefix_is_normalised_on_its_own():
    # scaling the tail changes the full-length term only; the first prefixes do not see it
    z0, z1 = views(2)
    scaled0, scaled1 = z0.clone(), z1.clone()
    scaled0[:, 4:] *= 10
    scaled1[:, 4:] *= 10
    head = MatryoshkaInfoNCELoss((1, 2, 4))
    assert head(z0, z1).item() == pytest.approx(head(scaled0, scaled1).item(), rel=1e-12)
    assert MatryoshkaInfoNCELoss((8,))(z0, z1).item() != pytest.approx(
        MatryoshkaInfoNCELoss((8,))(scaled0, scaled1).item()
    )


def test_the_gradient_of_the_smallest_prefix_reaches_only_its_features():
    z0, z1 = (z.requires_grad_() for z in views(2))
    MatryoshkaInfoNCELoss((2,))(z0, z1).backward()
    assert z0.grad[:, 2:].abs().sum() == 0 and z0.grad[:, :2].abs().sum() > 0


@pytest.mark.parametrize("nesting", [None, (1, 4), (3, 8)])
@pytest.mark.parametrize("scale", [1.0, 7.0])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_matryoshka_clip_matches_loops(nesting, scale, reduction):
    image, text = views(2, b=6)
    loss = MatryoshkaClipLoss(nesting, reduction)(image, text, torch.tensor(scale, dtype=torch.float64))
    assert loss.item() == pytest.approx(
        reference.matryoshka_clip(image, text, nesting or default_nesting(8), scale, reduction), rel=1e-9
    )


@pytest.mark.open_clip
def test_matryoshka_clip_with_one_full_prefix_is_open_clip_loss():
    open_clip = pytest.importorskip("open_clip", reason="open_clip_torch is not installed")
    image, text = (torch.nn.functional.normalize(x, dim=1) for x in views(2, b=6))
    scale = torch.tensor(10.0, dtype=torch.float64)
    ours = MatryoshkaClipLoss((8,))(image, text, scale)
    assert ours.item() == pytest.approx(open_clip.ClipLoss()(image, text, scale).item(), rel=1e-12)


@pytest.mark.parametrize(
    "nesting,error,match",
    [
        ("1,2,4", TypeError, "nesting must be a sequence of prefix sizes"),
        (4, TypeError, "nesting must be a sequence of prefix sizes"),
        ((), ValueError, "nesting must hold at least one prefix size"),
        ((0, 2), ValueError, "nesting"),
        ((1.5,), TypeError, "nesting"),
    ],
)
@pytest.mark.parametrize("cls", [MatryoshkaInfoNCELoss, MatryoshkaClipLoss])
def test_a_nesting_it_cannot_use_is_refused_naming_it(cls, nesting, error, match):
    with pytest.raises(error, match=match):
        cls(nesting)


def test_a_prefix_longer_than_the_features_is_refused_at_the_call():
    with pytest.raises(ValueError, match="prefix size 16, above the embedding dimension k=8"):
        MatryoshkaInfoNCELoss((4, 16))(*views(2))
    with pytest.raises(ValueError, match="prefix size 16, above the embedding dimension k=8"):
        MatryoshkaClipLoss((4, 16))(*views(2), torch.tensor(1.0))


@pytest.mark.parametrize("tau", [0.0, -0.1, math.inf])
def test_a_temperature_it_cannot_use_is_refused(tau):
    with pytest.raises(ValueError, match="temperature must be finite and > 0"):
        MatryoshkaInfoNCELoss(temperature=tau)
