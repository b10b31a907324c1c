"""Statistics of a batch or set of features that need no labels: sparsity, correlation,
orthogonality, effective rank. Shared by training (logged each epoch by both hosts) and by the
evaluation (:mod:`solo_tricl.evaluate.measures`)."""

from typing import Dict

import torch
import torch.nn.functional as F

from solo_tricl.common.thresholds import ZERO  # noqa: F401  (an entry with |zhat| below it counts as zero)


def require_matrix(features: torch.Tensor, name: str = "features") -> torch.Tensor:
    if features.ndim != 2 or features.shape[0] == 0 or features.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty (N, k) matrix, got {tuple(features.shape)}")
    return features.float()


def sparsity(features: torch.Tensor, threshold: float = ZERO) -> float:
    """Share of entries of the L2-normalised features with |zhat| < threshold, averaged over samples."""
    unit = F.normalize(require_matrix(features), dim=1)
    return (unit.abs() < threshold).float().mean(dim=1).mean().item()


def correlation_matrix(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """(k1, k2) Pearson correlations between the columns of two (N, k) matrices; constant
    columns get correlation 0."""
    first, second = require_matrix(first, "first"), require_matrix(second, "second")
    if len(first) != len(second):
        raise ValueError(f"the feature sets describe {len(first)} and {len(second)} samples")
    a = first - first.mean(dim=0)
    b = second - second.mean(dim=0)
    a = a / a.norm(dim=0).clamp_min(1e-12)
    b = b / b.norm(dim=0).clamp_min(1e-12)
    return a.T @ b


def orthogonality(features: torch.Tensor, median: bool = True) -> Dict[str, float]:
    """Mean (and, with ``median``, median) |corr| between distinct dimensions (0: perfectly
    decorrelated)."""
    corr = correlation_matrix(features, features).abs()
    k = len(corr)
    if not median:
        return {"mean_abs_corr": ((corr.sum() - corr.diagonal().sum()) / max(k * k - k, 1)).item()}
    off = corr[~torch.eye(k, dtype=torch.bool)]
    return {"mean_abs_corr": off.mean().item(), "median_abs_corr": off.median().item()}


def effective_rank(features: torch.Tensor) -> float:
    """exp of the entropy of the normalised eigenvalues of the features' covariance (Roy and
    Vetterli, 2007): k for k equally used independent directions, 1 for a collapse to a line."""
    centred = require_matrix(features).double()
    centred = centred - centred.mean(dim=0)
    # X^T X and X X^T share their non-zero eigenvalues: take the smaller (a batch of 128 rows
    # against 2,048 features costs a 128 x 128 eigenproblem, not a 2,048 x 2,048 one)
    gram = centred.T @ centred if centred.shape[1] <= centred.shape[0] else centred @ centred.T
    eigenvalues = torch.linalg.eigvalsh(gram / max(len(centred) - 1, 1)).clamp_min(0)
    if eigenvalues.sum() <= 0:
        return 0.0
    p = eigenvalues / eigenvalues.sum()
    return torch.exp(-(p * p.clamp_min(1e-300).log()).sum()).item()


def batch_statistics(features: torch.Tensor) -> Dict[str, float]:
    """What the methods promise, on one batch of (B, k) features: sparsity (share of |zhat| <
    1e-5), effective rank and mean |corr| between distinct features. Detached, in float32."""
    features = features.detach().float()
    return {
        "sparsity": sparsity(features),
        "effective_rank": effective_rank(features),
        "mean_abs_corr": orthogonality(features, median=False)["mean_abs_corr"],
    }
