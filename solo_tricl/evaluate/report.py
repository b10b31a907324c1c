"""All measures for one run, and identifiability for a pair of runs."""

from typing import Dict, List, Optional, Sequence

import torch

from solo_tricl.common.order import feature_order
from solo_tricl.evaluate import measures
from solo_tricl.evaluate.features import RunFeatures
from solo_tricl.evaluate.orders import describe, selection

# the points of every accuracy-vs-k curve (the run's own k and any headline k are added)
DEFAULT_KS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)


def importance_order(run: RunFeatures) -> torch.Tensor:
    """(k,) columns, most important first: the method's own importance for a native run (triCL:
    s; MRL: prefix; others: activation mass on the training features), the columns as they
    are for a run already put in an order (:func:`solo_tricl.evaluate.orders.in_order`)."""
    if run.order == "native":
        return selection(run, "importance")[0]
    return torch.arange(run.train.features.shape[1])


def order_name(run: RunFeatures) -> str:
    return describe("importance" if run.order == "native" else run.order, run)


RANDOM_DRAWS = 3


def random_curve(
    train, test, ks: Sequence[int], seed: int, draws: int = RANDOM_DRAWS, metric: str = "probe"
) -> Dict[int, float]:
    """Accuracy of k random features (linear probe or kNN), the mean over ``draws`` seeded draws."""
    k = train.features.shape[1]
    curves = [
        measures.topk_curve(
            train.features,
            train.labels,
            test.features,
            test.labels,
            feature_order("random", k, seed=seed + draw),
            ks,
            metric,
            seed=seed,
        )
        for draw in range(draws)
    ]
    return {x: sum(curve[x] for curve in curves) / draws for x in ks}


def curve_ks(k: int, ks: Sequence[int] = DEFAULT_KS, also: Sequence[int] = ()) -> List[int]:
    """The points of an accuracy-vs-k curve for k features: ``ks`` up to k, ``also``, and k itself."""
    return sorted({x for x in ks if x <= k} | {x for x in also if x <= k} | {k})


def evaluate_run(run: RunFeatures, top_k: int = 20, ks: Sequence[int] = DEFAULT_KS, seed: int = 0) -> Dict:
    """Probes, kNN, retrieval, sparsity, consistency, orthogonality and collapse of one run
    (JSON-ready), in the run's order (its own importance for a native run).

    Accuracy vs k, linear probe and kNN (solo-learn's: k = 20, T = 0.07), on three feature sets:
    the k most important, the k least important (linear only), and k random ones (mean of
    :data:`RANDOM_DRAWS` draws).
    """
    train, test = run.train, run.test
    k = train.features.shape[1]
    if not 1 <= top_k <= k:
        raise ValueError(f"--top-k must be in [1, {k}] (the feature dimension), got {top_k}")
    ks = curve_ks(k, ks, (top_k,))
    ordered = importance_order(run)
    shuffled = feature_order("random", k, seed=seed)

    def curve(order, metric="probe"):
        return measures.topk_curve(
            train.features, train.labels, test.features, test.labels, order, ks, metric, seed=seed
        )

    # top_k and k are points of the curves: the headline probes are read off them
    important_curve, least_curve, knn_curve = curve(ordered), curve(ordered.flip(0)), curve(ordered, "knn")
    chance_curve = random_curve(train, test, ks, seed)
    result = {
        "checkpoint": run.checkpoint,
        "host": run.host,
        "method": run.method,
        **run.info,
        "features": k,
        "train_samples": len(train.labels),
        "test_samples": len(test.labels),
        "order": order_name(run),
        "order_key": "importance" if run.order == "native" else run.order,
        "accuracy": {
            "projector_all": important_curve[k],
            "knn_all": knn_curve[k],
            f"top{top_k}_important": important_curve[top_k],
            f"top{top_k}_random": chance_curve[top_k],
            f"top{top_k}_least": least_curve[top_k],
        },
        "accuracy_vs_k": {"important": important_curve, "random": chance_curve, "least": least_curve},
        "knn_vs_k": {"important": knn_curve, "random": random_curve(train, test, ks, seed, metric="knn")},
        "random_draws": RANDOM_DRAWS,
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
        **measures.collapse(test.features),
    }
    if train.backbone is not None:
        result["accuracy"]["backbone"] = measures.linear_probe(
            train.backbone, train.labels, test.backbone, test.labels, seed
        )
        result["accuracy"]["backbone_knn"] = measures.knn_accuracy(
            train.backbone, train.labels, test.backbone, test.labels
        )
    if run.importance is not None:
        result["importance"] = run.importance.tolist()
    if run.order == "canonical":
        result["invariance_spectrum"] = run.scores.tolist()
    return result


def compare_runs(first: RunFeatures, second: RunFeatures) -> Dict:
    """Identifiability of two runs of one method that differ in seed, on the test features, with
    each run's collapse measures and ``collapsed`` when either run is collapsed."""
    if first.method != second.method or first.host != second.host:
        raise ValueError(
            f"identifiability compares two runs of one method; got {first.host} "
            f"{first.method} and {second.host} {second.method}"
        )
    if first.test.features.shape != second.test.features.shape:
        raise ValueError(
            f"the runs' features differ in shape: {tuple(first.test.features.shape)} and "
            f"{tuple(second.test.features.shape)}; use the same data and dimension"
        )
    if not torch.equal(first.test.labels, second.test.labels):
        raise ValueError("the runs were evaluated on different samples")
    result = measures.identifiability(
        first.test.features, second.test.features, importance_order(first), importance_order(second)
    )
    runs = [measures.collapse(run.test.features) for run in (first, second)]
    return {**result, "runs": runs, "collapsed": any(run["collapsed"] for run in runs)}


def collapse_warning(identifiability: Dict) -> Optional[str]:
    """A one-line warning when either run's features are collapsed, else None: identifiability
    of nearly collinear features is high for any pair of runs and means nothing."""
    if not identifiability.get("collapsed"):
        return None
    state = ", ".join(
        f"run {i + 1}: mean |corr| {run['mean_abs_corr']:.2f}, effective rank {run['effective_rank']:.1f}"
        for i, run in enumerate(identifiability["runs"])
    )
    return (
        f"WARNING: features collapsed ({state}; collapsed above mean |corr| "
        f"{identifiability['runs'][0]['collapse_threshold']}): the identifiability scores are not meaningful"
    )


def correlation_for_plot(first: RunFeatures, second: RunFeatures, size: Optional[int] = 32) -> torch.Tensor:
    """|corr| between the two runs' first ``size`` features, each in its own importance order."""
    a = first.test.features[:, importance_order(first)[:size]]
    b = second.test.features[:, importance_order(second)[:size]]
    return measures.correlation_matrix(a, b).abs()
