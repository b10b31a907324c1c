"""Slow, obviously-correct references: explicit loops over anchors and candidates.

They use only scalar arithmetic on python floats taken from float64 tensors, so they share no
code path with the package.
"""

import math
from typing import Callable, List, Sequence

import torch

Vector = List[float]


def rows(z: torch.Tensor) -> List[Vector]:
    return [[float(v) for v in row] for row in z.double()]


def unit(v: Vector) -> Vector:
    norm = math.sqrt(sum(x * x for x in v))
    return [x / max(norm, 1e-12) for x in v]


def dot(a: Vector, b: Vector, weights: Sequence[float] = None) -> float:
    weights = weights or [1.0] * len(a)
    return sum(w * x * y for w, x, y in zip(weights, a, b))


def two_view_rows(z0: torch.Tensor, z1: torch.Tensor) -> List[Vector]:
    return [unit(v) for v in rows(z0) + rows(z1)]


def nce_over_pairs(similarity: Callable[[int, int], float], n: int) -> float:
    """mean_i -log exp(sim(i, p(i))) / sum_{j != i} exp(sim(i, j)), p(i) = i +/- n/2."""
    total = 0.0
    for i in range(n):
        positive = (i + n // 2) % n
        denominator = sum(math.exp(similarity(i, j)) for j in range(n) if j != i)
        total += -math.log(math.exp(similarity(i, positive)) / denominator)
    return total / n


def simclr(z0, z1, tau) -> float:
    z = two_view_rows(z0, z1)
    return nce_over_pairs(lambda i, j: dot(z[i], z[j]) / tau, len(z))


def tricl_contrastive(z0, z1, s, tau, anchors="all") -> float:
    z, s, b = two_view_rows(z0, z1), [float(v) for v in s], z0.shape[0]

    def similarity(i, j):
        weights = s if anchors == "all" or i < b else None
        return dot(z[i], z[j], weights) / tau

    return nce_over_pairs(similarity, len(z))


def decorrelation(z0, z1, form="isotropic", average_rows=True) -> float:
    z = two_view_rows(z0, z1)
    k, n = len(z[0]), len(z)
    total = 0.0
    for a in range(k):
        for c in range(k):
            corr = sum(row[a] * row[c] for row in z)
            if form == "isotropic":
                corr *= k / n
            elif average_rows:
                corr /= n
            total += (corr - (1.0 if a == c else 0.0)) ** 2
    return total / (k * k)


def spectral_tricl_contrastive(z0, z1, s, anchors="all") -> float:
    z, s, b = two_view_rows(z0, z1), [float(v) for v in s], z0.shape[0]
    n = len(z)
    attraction, repulsion = 0.0, 0.0
    for i in range(n):
        weights = s if anchors == "all" or i < b else None
        positive = (i + b) % n
        attraction += dot(z[i], z[positive], weights)
        repulsion += sum(dot(z[i], z[j], weights) ** 2 for j in range(n) if j not in (i, positive)) / n
    return -attraction / n + repulsion / n


def distance(a: Vector, b: Vector) -> float:
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))


def kernel(z0, z1, gamma, tau) -> float:
    z = two_view_rows(z0, z1)
    return nce_over_pairs(lambda i, j: -(distance(z[i], z[j]) ** gamma) / tau, len(z))


def kernel_concat(z0, z1, gamma, lam, tau1, tau2) -> float:
    z = two_view_rows(z0, z1)
    d = len(z[0]) // 2
    first = nce_over_pairs(lambda i, j: -(distance(z[i][:d], z[j][:d]) ** gamma) / tau1, len(z))
    second = nce_over_pairs(lambda i, j: -(distance(z[i][d:], z[j][d:]) ** 2) / tau2, len(z))
    return lam * first + (1 - lam) * second


def clip(image, text, similarity: Callable[[Vector, Vector], float]) -> float:
    """(CE image->text + CE text->image) / 2 with matching rows as positives."""
    u, v = [unit(r) for r in rows(image)], [unit(r) for r in rows(text)]
    n = len(u)

    def direction(anchors, candidates):
        total = 0.0
        for i in range(n):
            logits = [similarity(anchors[i], candidates[j]) for j in range(n)]
            total += -logits[i] + math.log(sum(math.exp(x) for x in logits))
        return total / n

    return (direction(u, v) + direction(v, u)) / 2


def multi_view_rows(views) -> List[Vector]:
    return [unit(v) for view in views for v in rows(view)]


def multi_positive_nce(similarity: Callable[[int, int], float], n: int, batch: int) -> float:
    """mean_i -log sum_{p: same sample, p != i} exp(sim(i, p)) / sum_{j != i} exp(sim(i, j)),
    with row i holding sample i % batch (views stacked one after the other)."""
    total = 0.0
    for i in range(n):
        numerator = sum(math.exp(similarity(i, p)) for p in range(n) if p != i and p % batch == i % batch)
        denominator = sum(math.exp(similarity(i, j)) for j in range(n) if j != i)
        total += -math.log(numerator / denominator)
    return total / n


def multi_view_simclr(views, tau) -> float:
    z = multi_view_rows(views)
    return multi_positive_nce(lambda i, j: dot(z[i], z[j]) / tau, len(z), len(views[0]))


def multi_view_tricl_contrastive(views, s, tau) -> float:
    z, s = multi_view_rows(views), [float(v) for v in s]
    return multi_positive_nce(lambda i, j: dot(z[i], z[j], s) / tau, len(z), len(views[0]))


def multi_view_kernel(views, gamma, tau) -> float:
    z = multi_view_rows(views)
    return multi_positive_nce(lambda i, j: -(distance(z[i], z[j]) ** gamma) / tau, len(z), len(views[0]))


def multi_view_spectral_tricl_contrastive(views, s) -> float:
    z, s, b = multi_view_rows(views), [float(v) for v in s], len(views[0])
    n = len(z)
    pairs = [(i, p) for i in range(n) for p in range(n) if p != i and p % b == i % b]
    attraction = sum(dot(z[i], z[p], s) for i, p in pairs) / len(pairs)
    repulsion = sum(dot(z[i], z[j], s) ** 2 for i in range(n) for j in range(n) if j % b != i % b) / n / n
    return -attraction + repulsion


def multi_view_decorrelation(views) -> float:
    z = multi_view_rows(views)
    k, n = len(z[0]), len(z)
    total = 0.0
    for a in range(k):
        for c in range(k):
            corr = sum(row[a] * row[c] for row in z) * k / n
            total += (corr - (1.0 if a == c else 0.0)) ** 2
    return total / (k * k)


def multi_view_matryoshka(views, nesting, tau, reduction="mean") -> float:
    """Sum or mean over the prefix sizes m of SimCLR's multi-view loss on the first m columns."""
    total = sum(multi_view_simclr([view[:, :m] for view in views], tau) for m in nesting)
    return total if reduction == "sum" else total / len(nesting)


def matryoshka_clip(image, text, nesting, scale, reduction="mean") -> float:
    """Sum or mean over the prefix sizes m of CLIP's loss on the first m columns of both modalities."""
    total = sum(clip(image[:, :m], text[:, :m], lambda u, v: scale * dot(u, v)) for m in nesting)
    return total if reduction == "sum" else total / len(nesting)
