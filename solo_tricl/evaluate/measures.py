"""What the methods promise, measured on (N, k) feature matrices (section 6 of the method
specification, without the reference code's bugs).

Thresholds are arguments with stated defaults; every function takes plain tensors, so the
measures apply to any representation.
"""

from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F

from solo_tricl.common.feature_statistics import (  # noqa: F401  (re-exported: the measures of evaluate)
    correlation_matrix,
    effective_rank,
    orthogonality,
    require_matrix,
    sparsity,
)
from solo_tricl.common.thresholds import (  # noqa: F401  (re-exported)
    ACTIVE,
    COLLAPSED_MEAN_ABS_CORR,
    IDENTIFIABILITY_PREFIXES,
    KNN_NEIGHBOURS,
    KNN_TEMPERATURE,
    ZERO,
)
from solo_tricl.errors import BadInput


def class_consistency(features: torch.Tensor, labels: torch.Tensor, threshold: float = ACTIVE) -> float:
    """For each dimension some sample activates (|zhat_j| > threshold), the share of the most
    common label among those samples; averaged over such dimensions."""
    unit = F.normalize(require_matrix(features), dim=1)
    if len(labels) != len(unit):
        raise ValueError(f"{len(labels)} labels for {len(unit)} samples")
    active = unit.abs() > threshold  # (N, k)
    one_hot = F.one_hot(labels.long(), int(labels.max()) + 1).float()  # (N, C)
    counts = active.float().T @ one_hot  # (k, C): label counts per dimension
    used = counts.sum(dim=1) > 0
    if not used.any():
        return float("nan")
    return (counts[used].max(dim=1).values / counts[used].sum(dim=1)).mean().item()


def collapse(features: torch.Tensor, threshold: float = COLLAPSED_MEAN_ABS_CORR) -> Dict:
    """Effective rank, orthogonality (mean and median |corr|) and whether the features are
    collapsed (mean |corr| > threshold)."""
    ortho = orthogonality(features)
    return {
        "effective_rank": effective_rank(features),
        **ortho,
        "collapsed": ortho["mean_abs_corr"] > threshold,
        "collapse_threshold": threshold,
    }


def identifiability(
    first: torch.Tensor,
    second: torch.Tensor,
    order_first: torch.Tensor,
    order_second: torch.Tensor,
    prefixes: Sequence[int] = IDENTIFIABILITY_PREFIXES,
) -> Dict:
    """How well two runs' features agree, feature by feature, once each is put in its own order.

    ``per_rank[i]``: |corr(first[:, order_first[i]], second[:, order_second[i]])|, with no
    permutation search. ``ordered``: its mean over all features; ``ordered_top{n}``: over the
    first n ranks. ``best_match_top{n}``: for each of the first run's n most important features,
    its largest |corr| with any feature of the second run, averaged: how far the order, rather
    than the features, is what differs. ``matched``: the mean |corr| after the best one-to-one
    matching of all features (Hungarian algorithm on |corr|).
    """
    from scipy.optimize import linear_sum_assignment

    if first.shape[1] != second.shape[1]:
        raise BadInput(
            f"the runs have {first.shape[1]} and {second.shape[1]} features: compare runs of one method and dimension"
        )
    corr = correlation_matrix(first[:, order_first], second[:, order_second]).abs()
    per_rank = corr.diagonal()
    best_match = corr.max(dim=1).values
    rows, cols = linear_sum_assignment(-corr.numpy())
    result = {
        "ordered": per_rank.mean().item(),
        "matched": corr[rows, cols].mean().item(),
        "best_match": best_match.mean().item(),
        "per_rank": per_rank.tolist(),
    }
    for n in prefixes:
        if n < len(per_rank):
            result[f"ordered_top{n}"] = per_rank[:n].mean().item()
            result[f"best_match_top{n}"] = best_match[:n].mean().item()
    return result


def precision_and_map(features: torch.Tensor, labels: torch.Tensor, k: int = 10) -> Dict[str, float]:
    """Retrieval with cosine similarity, each sample a query against all others (self excluded):
    precision@k (the share of same-label neighbours among the k nearest) and mean average
    precision over the full ranking."""
    unit = F.normalize(require_matrix(features), dim=1)
    n = len(unit)
    if n < 2:
        raise BadInput("retrieval needs at least two samples")
    labels = labels.long()
    precisions, average_precisions = [], []
    for start in range(0, n, 512):
        sims = unit[start : start + 512] @ unit.T
        rows = torch.arange(sims.shape[0])
        sims[rows, start + rows] = -float("inf")
        ranking = sims.argsort(dim=1, descending=True)[:, : n - 1]  # self is last, dropped
        relevant = (labels[ranking] == labels[start : start + 512, None]).float()
        precisions.append(relevant[:, :k].mean(dim=1))
        hits = relevant.cumsum(dim=1)
        ranks = torch.arange(1, n, dtype=torch.float32)
        total = relevant.sum(dim=1).clamp_min(1)
        average_precisions.append((relevant * hits / ranks).sum(dim=1) / total)
    return {
        f"precision_at_{k}": torch.cat(precisions).mean().item(),
        "mean_average_precision": torch.cat(average_precisions).mean().item(),
    }


def linear_probe(
    train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor, seed: int = 0
) -> float:
    """Test accuracy of a multinomial logistic regression (scikit-learn, standardised features)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    require_matrix(train_x, "train features")
    require_matrix(test_x, "test features")
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=seed))
    probe.fit(train_x.numpy(), train_y.numpy())
    return float(probe.score(test_x.numpy(), test_y.numpy()))


def knn_accuracy(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    test_x: torch.Tensor,
    test_y: torch.Tensor,
    k: int = KNN_NEIGHBOURS,
    temperature: float = KNN_TEMPERATURE,
) -> float:
    """Top-1 accuracy of solo-learn's weighted kNN (``solo/utils/knn.py``): cosine similarity of
    L2-normalised features, the k nearest training samples, each voting for its label with weight
    exp(similarity / temperature)."""
    train = F.normalize(require_matrix(train_x, "train features"), dim=1)
    test = F.normalize(require_matrix(test_x, "test features"), dim=1)
    classes = int(max(train_y.max(), test_y.max())) + 1
    k = min(k, len(train))
    correct = 0
    for start in range(0, len(test), 1024):
        similarity, neighbours = (test[start : start + 1024] @ train.T).topk(k, dim=1)
        votes = torch.zeros(len(similarity), classes).scatter_add_(
            1, train_y.long()[neighbours], (similarity / temperature).exp()
        )
        correct += (votes.argmax(dim=1) == test_y[start : start + 1024].long()).sum().item()
    return correct / len(test)


def topk_curve(
    train_x, train_y, test_x, test_y, order: torch.Tensor, ks, metric="probe", seed: int = 0
) -> Dict[int, float]:
    """On the first k features of ``order``, for each k: linear probe accuracy (``probe``), kNN
    accuracy (``knn``), or precision@10 on the test features alone (``retrieval``)."""
    curve = {}
    for k in ks:
        columns = order[:k]
        if metric == "probe":
            curve[k] = linear_probe(train_x[:, columns], train_y, test_x[:, columns], test_y, seed)
        elif metric == "knn":
            curve[k] = knn_accuracy(train_x[:, columns], train_y, test_x[:, columns], test_y)
        elif metric == "retrieval":
            curve[k] = precision_and_map(test_x[:, columns], test_y)["precision_at_10"]
        else:
            raise ValueError(f"metric must be probe, knn or retrieval; got {metric!r}")
    return curve


def zero_shot_accuracy(
    classifier: torch.Tensor, features: torch.Tensor, labels: torch.Tensor, basis: Optional[torch.Tensor] = None
) -> float:
    """Top-1 accuracy of ``features (N, d) @ classifier (d, C)`` for (N,) ``labels``; with ``basis``
    (d, k), orthonormal, both the images and the class embeddings projected on it first, the class
    embeddings renormalised there (k columns of the identity: k of the embedding's features)."""
    if basis is not None:
        classifier = basis.T.to(classifier.dtype) @ classifier
        classifier = classifier / classifier.norm(dim=0, keepdim=True).clamp_min(1e-12)
        features = features @ basis.to(features.dtype)
    predictions = (features @ classifier).argmax(dim=1)
    return (predictions == labels).float().mean().item()
