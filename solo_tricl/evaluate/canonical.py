"""The canonical invariance basis: a fixed, label-free rotation of any contrastive
representation that orders its features by how invariant they are to augmentation.

A contrastive loss constrains only the directions in which two views of an image agree; the
others carry the same variance (after decorrelation) and rotate freely between training runs.
Whitening the features and diagonalising the symmetric cross-covariance of two views orders the
directions by that agreement, lambda (the invariance spectrum, a canonical correlation between
views). The leading directions are pinned down by the data, so they match across seeds
whatever the method; the tail is a subspace, not a set of features.

Fitted from two augmented views ``V0, V1`` (N, k) of a reference set (method specification §6):

1. L2-normalise the rows;
2. ``mu, Sigma`` of ``[V0; V1]``, with a ridge ``RIDGE * tr(Sigma) / k`` (whitening with the
   views' own statistics; the clean images' covariance is ill-conditioned);
3. ``W = Sigma^(-1/2)``, ``Y_v = (V_v - mu) W``;
4. ``M = (Y0^T Y1 + Y1^T Y0) / (2N)`` and its eigenvectors ``U``, lambda descending;
5. features ``(zhat - mu) W U``, each sign chosen so that its third moment over the views is
   positive (a rule that does not depend on the coordinates the features arrive in).
"""

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from solo_tricl.common.files import save_torch
from solo_tricl.common.thresholds import IDENTIFIABLE_LAMBDA
from solo_tricl.common.torch_files import load_torch_file
from solo_tricl.errors import BadInput

RIDGE = 1e-3
FORMAT = "solo-tricl canonical basis v1"


def _views(first: torch.Tensor, second: torch.Tensor):
    if first.ndim != 2 or first.shape != second.shape:
        raise ValueError(
            f"the two views must be (N, k) matrices of one shape, got {tuple(first.shape)} and {tuple(second.shape)}"
        )
    n, k = first.shape
    if n < 2 * k:
        raise BadInput(
            f"fitting a basis for k={k} features needs at least 2k={2 * k} reference samples per view, got {n}"
        )
    return first.detach().double().cpu(), second.detach().double().cpu()


@dataclass
class CanonicalBasis:
    """``transform(z)``: (N, k) features -> (N, k) canonical features, most invariant first.

    Attributes:
        mean: (k,) mean of the normalised views.
        projection: (k, k) ``W U`` with the signs applied.
        spectrum: (k,) lambda of each canonical feature, descending (about 1: the two views
            agree; about 0: unconstrained by the views).
        normalize: whether rows are L2-normalised first (as the method's loss sees them).
        threshold: lambda above which a feature counts as identifiable.
    """

    mean: torch.Tensor
    projection: torch.Tensor
    spectrum: torch.Tensor
    normalize: bool = True
    threshold: float = IDENTIFIABLE_LAMBDA

    @classmethod
    def fit(
        cls,
        view0: torch.Tensor,
        view1: torch.Tensor,
        normalize: bool = True,
        ridge: float = RIDGE,
        threshold: float = IDENTIFIABLE_LAMBDA,
    ) -> "CanonicalBasis":
        """Fit from two augmented views (N, k) of the same N reference images, row i of each
        from image i."""
        v0, v1 = _views(view0, view1)
        if not ridge > 0:
            raise ValueError(f"ridge must be > 0, got {ridge}")
        if normalize:
            v0, v1 = F.normalize(v0, dim=1), F.normalize(v1, dim=1)
        both = torch.cat([v0, v1])
        mean = both.mean(dim=0)
        centred = both - mean
        k = both.shape[1]
        covariance = centred.T @ centred / len(both)
        # the ridge is relative to the features' variance; features that never vary (a collapsed
        # model, NCL's dead units) get the smallest one, and a spectrum of zeros rather than NaN
        scale = max(float(covariance.trace()) / k, torch.finfo(both.dtype).eps)
        covariance += ridge * scale * torch.eye(k, dtype=both.dtype)
        values, vectors = torch.linalg.eigh(covariance)
        whitening = vectors @ torch.diag(values.rsqrt()) @ vectors.T
        y0, y1 = (v0 - mean) @ whitening, (v1 - mean) @ whitening
        cross = (y0.T @ y1 + y1.T @ y0) / (2 * len(y0))
        spectrum, rotation = torch.linalg.eigh(cross)
        spectrum, rotation = spectrum.flip(0), rotation.flip(1)
        projection = whitening @ rotation
        third_moment = ((both - mean) @ projection).pow(3).mean(dim=0)
        projection = projection * torch.where(third_moment < 0, -1.0, 1.0).to(projection.dtype)
        return cls(mean.float(), projection.float(), spectrum.float(), normalize, threshold)

    @property
    def num_features(self) -> int:
        return len(self.spectrum)

    @property
    def identifiable_rank(self) -> int:
        """How many leading features have lambda above ``threshold``."""
        return int((self.spectrum > self.threshold).sum())

    def transform(self, features: torch.Tensor) -> torch.Tensor:
        """(N, k) features in the model's own coordinates -> (N, k) canonical features."""
        if features.ndim != 2 or features.shape[1] != self.num_features:
            raise ValueError(
                f"the basis was fitted for k={self.num_features} features; got features "
                f"of shape {tuple(features.shape)}"
            )
        z = features.detach().float().cpu()
        if self.normalize:
            z = F.normalize(z, dim=1)
        return (z - self.mean) @ self.projection

    def save(self, path) -> Path:
        return save_torch(
            {
                "format": FORMAT,
                "mean": self.mean,
                "projection": self.projection,
                "spectrum": self.spectrum,
                "normalize": self.normalize,
                "threshold": self.threshold,
            },
            path,
        )

    @classmethod
    def load(cls, path) -> "CanonicalBasis":
        state = load_torch_file(path, "canonical basis")
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise BadInput(f"{path} is not a solo-tricl canonical basis")
        return cls(state["mean"], state["projection"], state["spectrum"], state["normalize"], state["threshold"])
