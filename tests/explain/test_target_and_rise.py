import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from solo_tricl.explain import RISE, ContrastiveCorpusSimilarity, LabelFreeSimilarity, gaussian_blur
from solo_tricl.explain.rise import generate_masks


class RegionEncoder(nn.Module):
    """Looks only at the top-left 8 x 8 pixels: the one place attributions may point to."""

    def __init__(self, dim=16):
        super().__init__()
        torch.manual_seed(0)
        self.linear = nn.Linear(3 * 8 * 8, dim)

    def forward(self, images):
        return torch.tanh(self.linear(images[:, :, :8, :8].flatten(1)))


def images(n, seed):
    return torch.rand(n, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


def test_closed_form_equals_the_explicit_pairwise_mean():
    encoder = RegionEncoder()
    corpus, foil, x = images(5, 1), images(7, 2), images(3, 3)
    target = ContrastiveCorpusSimilarity(encoder, corpus, foil, progress=False)
    with torch.no_grad():
        fx, fc, fv = encoder(x), encoder(corpus), encoder(foil)
        expected = torch.stack(
            [
                torch.stack([F.cosine_similarity(fx[i], c, dim=0) for c in fc]).mean()
                - torch.stack([F.cosine_similarity(fx[i], v, dim=0) for v in fv]).mean()
                for i in range(len(x))
            ]
        )
        assert torch.allclose(target(x), expected, atol=1e-6)
        dot = ContrastiveCorpusSimilarity(encoder, corpus, foil, mode="dot", progress=False)
        expected_dot = torch.stack(
            [
                torch.stack([fx[i] @ c for c in fc]).mean() - torch.stack([fx[i] @ v for v in fv]).mean()
                for i in range(len(x))
            ]
        )
        assert torch.allclose(dot(x), expected_dot, atol=1e-5)


def test_corpus_is_encoded_once_not_per_explicand():
    calls = []
    encoder = RegionEncoder()
    counting = lambda x: (calls.append(len(x)), encoder(x))[1]  # noqa: E731
    target = ContrastiveCorpusSimilarity(counting, images(10, 1), images(20, 2), batch_size=8, progress=False)
    assert sum(calls) == 30
    calls.clear()
    target(images(4, 3))
    target(images(4, 4))
    assert calls == [4, 4]


def test_empty_corpus_or_foil_is_an_error():
    with pytest.raises(ValueError, match="the corpus is empty"):
        ContrastiveCorpusSimilarity(RegionEncoder(), images(0, 1), images(3, 2), progress=False)
    with pytest.raises(ValueError, match="the foil is empty"):
        ContrastiveCorpusSimilarity(RegionEncoder(), images(3, 1), images(0, 2), progress=False)


def share_inside(attributions):
    magnitude = attributions.abs().mean(dim=1)
    return (magnitude[:, :8, :8].sum() / magnitude.sum()).item()


def test_gradient_attributions_concentrate_on_the_region_the_encoder_reads():
    from captum.attr import GradientShap, IntegratedGradients

    target = ContrastiveCorpusSimilarity(RegionEncoder(), images(10, 1), images(30, 2), progress=False)
    x = images(2, 3)
    baselines = gaussian_blur(x)
    ig = IntegratedGradients(target).attribute(x, baselines=baselines, n_steps=20)
    shap = GradientShap(target).attribute(x, baselines=baselines, n_samples=20, stdevs=0.2)
    assert share_inside(ig) > 0.99 and share_inside(shap) > 0.99


def test_rise_points_at_the_region_the_encoder_reads():
    target = ContrastiveCorpusSimilarity(RegionEncoder(), images(10, 1), images(30, 2), progress=False)
    x = images(2, 3)
    saliency = RISE(target).attribute(x, n_masks=2000, grid=4, seed=0).mean(dim=1)
    for heat in saliency:
        top = heat.flatten().argsort(descending=True)[:64]
        rows, cols = top // 32, top % 32
        # 8 x 8 region, dilated by one RISE cell (8 px at grid 4 on 32 px)
        assert ((rows < 16) & (cols < 16)).float().mean() > 0.9


def test_rise_matches_a_slow_unbatched_version_with_a_fixed_seed():
    target = ContrastiveCorpusSimilarity(RegionEncoder(), images(4, 1), images(6, 2), progress=False)
    x, n, p = images(2, 3), 37, 0.5
    fast = RISE(target).attribute(x, n_masks=n, grid=4, p_keep=p, batch_size=5, seed=7)
    masks = generate_masks(n, (32, 32), 4, p, torch.Generator().manual_seed(7))
    baselines = gaussian_blur(x)
    with torch.no_grad():
        for i in range(len(x)):
            slow = torch.zeros(1, 32, 32)
            for mask in masks:
                score = target((x[i] * mask + baselines[i] * (1 - mask))[None])[0]
                slow += score * mask
            slow /= n * p
            assert torch.allclose(fast[i], slow.expand(3, -1, -1), atol=1e-5)


def test_rise_with_several_targets_equals_one_run_per_target():
    first = ContrastiveCorpusSimilarity(RegionEncoder(), images(4, 1), images(6, 2), progress=False)
    second = ContrastiveCorpusSimilarity(RegionEncoder(), images(4, 4), images(6, 5), progress=False)
    x = images(2, 3)
    both = RISE(lambda batch: torch.stack([first(batch), second(batch)], dim=1)).attribute(
        x, n_masks=50, grid=4, batch_size=16, seed=1
    )
    assert both.shape == (2, 2, 3, 32, 32)
    for t, target in enumerate((first, second)):
        alone = RISE(target).attribute(x, n_masks=50, grid=4, batch_size=16, seed=1)
        assert torch.allclose(both[:, t], alone, atol=1e-6)


def test_masks_are_soft_grids_with_the_keep_probability():
    masks = generate_masks(4000, (28, 28), grid=7, p_keep=0.3, generator=torch.Generator().manual_seed(0))
    assert masks.shape == (4000, 1, 28, 28)
    assert masks.min() >= 0 and masks.max() <= 1
    assert masks.mean().item() == pytest.approx(0.3, abs=0.02)


def test_label_free_target_is_one_at_the_explicand():
    encoder = RegionEncoder()
    target = LabelFreeSimilarity(encoder)
    x = images(3, 5)
    assert torch.allclose(target(x, target.reference(x)), torch.ones(3), atol=1e-6)


def test_blur_baseline_keeps_shape_and_smooths():
    x = images(2, 6)
    blurred = gaussian_blur(x)
    assert blurred.shape == x.shape and blurred.std() < x.std()
    tiny = gaussian_blur(torch.rand(1, 3, 4, 4))
    assert tiny.shape == (1, 3, 4, 4)


def test_corpus_and_foil_follow_the_paper_protocol():
    from solo_tricl.explain.sampling import corpus_and_foil_indices

    labels = torch.arange(1000) % 10
    corpus, foil = corpus_and_foil_indices(labels, corpus_class=3, corpus_size=50, foil_size=300, seed=0)
    assert len(corpus) == 50 and all(labels[i] == 3 for i in corpus)
    assert len(foil) == 300 and not set(corpus) & set(foil)
    assert any(labels[i] == 3 for i in foil), "the foil is a data sample and may hold the class"
    assert (corpus, foil) == corpus_and_foil_indices(labels, 3, 50, 300, seed=0)
    with pytest.raises(ValueError, match="the corpus is empty"):
        corpus_and_foil_indices(labels, corpus_class=11)
