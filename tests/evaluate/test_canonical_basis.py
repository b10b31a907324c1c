import pytest
import torch

from solo_tricl.evaluate.canonical import CanonicalBasis
from solo_tricl.evaluate.measures import correlation_matrix


def planted_views(n=4000, k=6, seed=0):
    """Two views of n samples whose latent coordinate j agrees across views with correlation
    ``agreement[j]`` (descending), mixed by a random rotation."""
    generator = torch.Generator().manual_seed(seed)
    agreement = torch.tensor([0.95, 0.88, 0.6, 0.4, 0.2, 0.05])[:k]
    shared = torch.randn(n, k, generator=generator)

    def view():
        own = torch.randn(n, k, generator=generator)
        return agreement.sqrt() * shared + (1 - agreement).sqrt() * own

    latent0, latent1 = view(), view()
    rotation, _ = torch.linalg.qr(torch.randn(k, k, generator=generator))
    return latent0, latent1, rotation, agreement


def test_recovers_a_planted_rotation_in_order_of_invariance():
    latent0, latent1, rotation, agreement = planted_views()
    basis = CanonicalBasis.fit(latent0 @ rotation, latent1 @ rotation, normalize=False)
    recovered = basis.transform(latent0 @ rotation)
    match = correlation_matrix(recovered, latent0).abs()
    assert torch.all(match.diagonal() > 0.97), match
    assert torch.allclose(basis.spectrum, agreement, atol=0.05)
    assert basis.identifiable_rank == int((agreement > basis.threshold).sum())


def test_invariant_to_an_orthogonal_rotation_of_the_input_features():
    generator = torch.Generator().manual_seed(1)
    base = torch.randn(3000, 8, generator=generator) + 2.0
    view0 = base + 0.3 * torch.randn(3000, 8, generator=generator) * torch.arange(1, 9)
    view1 = base + 0.3 * torch.randn(3000, 8, generator=generator) * torch.arange(1, 9)
    rotation, _ = torch.linalg.qr(torch.randn(8, 8, generator=generator))
    plain = CanonicalBasis.fit(view0, view1)
    rotated = CanonicalBasis.fit(view0 @ rotation, view1 @ rotation)
    clean = base[:500]
    assert torch.allclose(plain.spectrum, rotated.spectrum, atol=1e-4)
    assert torch.allclose(plain.transform(clean), rotated.transform(clean @ rotation), atol=1e-3)


def test_signs_are_fixed_by_the_data_not_by_eigh():
    latent0, latent1, rotation, _ = planted_views()
    skewed0, skewed1 = latent0.exp(), latent1.exp()
    basis = CanonicalBasis.fit(skewed0 @ rotation, skewed1 @ rotation, normalize=False)
    flipped = CanonicalBasis.fit(-(skewed0 @ rotation), -(skewed1 @ rotation), normalize=False)
    assert torch.allclose(basis.transform(skewed0 @ rotation), flipped.transform(-(skewed0 @ rotation)), atol=1e-3)


def test_save_and_load_round_trip(tmp_path):
    latent0, latent1, rotation, _ = planted_views(k=4)
    basis = CanonicalBasis.fit(latent0, latent1)
    loaded = CanonicalBasis.load(basis.save(tmp_path / "basis.pt"))
    assert torch.equal(loaded.transform(latent0), basis.transform(latent0))
    assert loaded.identifiable_rank == basis.identifiable_rank


@pytest.mark.parametrize(
    "shapes, message",
    [
        (((10, 8), (10, 8)), "at least 2k=16 reference samples"),
        (((100, 8), (100, 6)), "one shape"),
        (((100,), (100,)), "one shape"),
    ],
)
def test_bad_views_raise_clear_errors(shapes, message):
    with pytest.raises(ValueError, match=message):
        CanonicalBasis.fit(torch.randn(*shapes[0]), torch.randn(*shapes[1]))


def test_transform_rejects_a_k_mismatch_and_load_a_foreign_file(tmp_path):
    basis = CanonicalBasis.fit(torch.randn(100, 8), torch.randn(100, 8))
    with pytest.raises(ValueError, match="fitted for k=8"):
        basis.transform(torch.randn(5, 7))
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a solo-tricl canonical basis"):
        CanonicalBasis.load(tmp_path / "other.pt")
    with pytest.raises(FileNotFoundError):
        CanonicalBasis.load(tmp_path / "missing.pt")


def test_features_that_never_vary_give_a_zero_spectrum_not_nan():
    """A collapsed model (every normalised row the same, as NCL's with all but one unit dead)."""
    dead = torch.zeros(16, 4)
    dead[:, 0] = torch.rand(16) + 0.1
    basis = CanonicalBasis.fit(dead, dead.flip(0))
    assert torch.equal(basis.spectrum, torch.zeros(4)) and basis.identifiable_rank == 0
    assert torch.isfinite(basis.transform(torch.rand(5, 4))).all()
