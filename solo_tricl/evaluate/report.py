"""All measures for one run, and identifiability for a pair of runs."""

from typing import Dict, Optional, Sequence

import torch

from solo_tricl.errors import CommandError
from solo_tricl.evaluate import measures
from solo_tricl.evaluate.features import RunFeatures
from solo_tricl.evaluate.order import feature_order

DEFAULT_KS = (1, 2, 4, 8, 16, 20, 32, 64, 128, 256, 512)


def importance_order(run: RunFeatures) -> torch.Tensor:
    """triCL: by s; other methods: by activation mass on the training features."""
    k = run.train.features.shape[1]
    return feature_order("importance", k, run.importance, run.train.features)


def evaluate_run(run: RunFeatures, top_k: int = 20, ks: Sequence[int] = DEFAULT_KS,
                 seed: int = 0) -> Dict:
    """Probes, retrieval, sparsity, consistency and orthogonality of one run (JSON-ready)."""
    train, test = run.train, run.test
    k = train.features.shape[1]
    if not 1 <= top_k <= k:
        raise CommandError(f"--top-k must be in [1, {k}] (the feature dimension), got {top_k}")
    ks = sorted({x for x in ks if x <= k} | {top_k, k})
    ordered = importance_order(run)
    shuffled = feature_order("random", k, seed=seed)
    # top_k and k are points of both curves: the headline probes are read off them
    important_curve, random_curve = (
        measures.topk_curve(train.features, train.labels, test.features, test.labels, order, ks, seed=seed)
        for order in (ordered, shuffled))
    result = {
        "checkpoint": run.checkpoint, "host": run.host, "method": run.method, **run.info,
        "features": k, "train_samples": len(train.labels), "test_samples": len(test.labels),
        "order": "s (learned)" if run.importance is not None else "activation mass",
        "accuracy": {
            "projector_all": important_curve[k],
            f"top{top_k}_important": important_curve[top_k],
            f"top{top_k}_random": random_curve[top_k],
        },
        "accuracy_vs_k": {"important": important_curve, "random": random_curve},
        "retrieval": {
            f"top{top_k}_important": measures.precision_and_map(test.features[:, ordered[:top_k]], test.labels),
            f"top{top_k}_random": measures.precision_and_map(test.features[:, shuffled[:top_k]], test.labels),
            "all": measures.precision_and_map(test.features, test.labels),
        },
        "retrieval_vs_k": {
            "important": measures.topk_curve(None, None, test.features, test.labels, ordered, ks, "retrieval"),
            "random": measures.topk_curve(None, None, test.features, test.labels, shuffled, ks, "retrieval"),
        },
        "sparsity": measures.sparsity(test.features),
        "sparsity_threshold": measures.ZERO,
        "class_consistency": measures.class_consistency(test.features, test.labels),
        "class_consistency_threshold": measures.ACTIVE,
        **measures.orthogonality(test.features),
    }
    if train.backbone is not None:
        result["accuracy"]["backbone"] = measures.linear_probe(
            train.backbone, train.labels, test.backbone, test.labels, seed)
    if run.importance is not None:
        result["importance"] = run.importance.tolist()
    return result


def compare_runs(first: RunFeatures, second: RunFeatures) -> Dict:
    """Identifiability of two runs of one method that differ in seed, on the test features."""
    if first.method != second.method or first.host != second.host:
        raise CommandError(f"identifiability compares two runs of one method; got {first.host} "
                           f"{first.method} and {second.host} {second.method}")
    if first.test.features.shape != second.test.features.shape:
        raise CommandError(f"the runs' features differ in shape: {tuple(first.test.features.shape)} and "
                           f"{tuple(second.test.features.shape)}; use the same data and dimension")
    if not torch.equal(first.test.labels, second.test.labels):
        raise CommandError("the runs were evaluated on different samples")
    return measures.identifiability(first.test.features, second.test.features,
                                    importance_order(first), importance_order(second))


def correlation_for_plot(first: RunFeatures, second: RunFeatures, size: Optional[int] = 32) -> torch.Tensor:
    """|corr| between the two runs' first ``size`` features, each in its own importance order."""
    a = first.test.features[:, importance_order(first)[:size]]
    b = second.test.features[:, importance_order(second)[:size]]
    return measures.correlation_matrix(a, b).abs()
