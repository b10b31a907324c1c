"""All measures for one run, and identifiability for a pair of runs."""

from dataclasses import replace
from typing import Dict, Optional, Sequence, Tuple

import torch

from solo_tricl.common.order import feature_order
from solo_tricl.evaluate import measures
from solo_tricl.evaluate.canonical import CanonicalBasis
from solo_tricl.evaluate.features import RunFeatures

DEFAULT_KS = (1, 2, 4, 8, 16, 20, 32, 64, 128, 256, 512)


def in_canonical_basis(run: RunFeatures, basis: Optional[CanonicalBasis] = None) -> Tuple[RunFeatures, CanonicalBasis]:
    """``run`` with its features in the canonical invariance basis (fitted from ``run.views``
    unless given), ordered by the invariance spectrum, which takes the place of the importance."""
    if basis is None:
        if run.views is None:
            raise ValueError("the canonical basis needs two augmented views of reference images; "
                             "extract the features with views=N")
        basis = CanonicalBasis.fit(*run.views)
    splits = {name: replace(split, features=basis.transform(split.features))
              for name, split in (("train", run.train), ("test", run.test))}
    return replace(run, **splits, importance=basis.spectrum, views=None, basis="canonical"), basis


def order_name(run: RunFeatures) -> str:
    if run.basis == "canonical":
        return "invariance (canonical basis)"
    return "s (learned)" if run.importance is not None else "activation mass"


def importance_order(run: RunFeatures) -> torch.Tensor:
    """triCL: by s; other methods: by activation mass on the training features; in the canonical
    basis, by invariance."""
    k = run.train.features.shape[1]
    return feature_order("importance", k, run.importance, run.train.features)


RANDOM_DRAWS = 3


def random_curve(train, test, ks: Sequence[int], seed: int, draws: int = RANDOM_DRAWS) -> Dict[int, float]:
    """Probe accuracy of k random features, the mean over ``draws`` seeded draws for each k."""
    k = train.features.shape[1]
    curves = [measures.topk_curve(train.features, train.labels, test.features, test.labels,
                                  feature_order("random", k, seed=seed + draw), ks, seed=seed)
              for draw in range(draws)]
    return {x: sum(curve[x] for curve in curves) / draws for x in ks}


def evaluate_run(run: RunFeatures, top_k: int = 20, ks: Sequence[int] = DEFAULT_KS,
                 seed: int = 0) -> Dict:
    """Probes, retrieval, sparsity, consistency, orthogonality and collapse of one run (JSON-ready).

    Accuracy vs k on three feature sets: the k most important (triCL: by s, others: activation
    mass), the k least important, and k random ones (mean of :data:`RANDOM_DRAWS` draws).
    """
    train, test = run.train, run.test
    k = train.features.shape[1]
    if not 1 <= top_k <= k:
        raise ValueError(f"--top-k must be in [1, {k}] (the feature dimension), got {top_k}")
    ks = sorted({x for x in ks if x <= k} | {top_k, k})
    ordered = importance_order(run)
    shuffled = feature_order("random", k, seed=seed)
    # top_k and k are points of the curves: the headline probes are read off them
    important_curve, least_curve = (
        measures.topk_curve(train.features, train.labels, test.features, test.labels, order, ks, seed=seed)
        for order in (ordered, ordered.flip(0)))
    chance_curve = random_curve(train, test, ks, seed)
    result = {
        "checkpoint": run.checkpoint, "host": run.host, "method": run.method, **run.info,
        "features": k, "train_samples": len(train.labels), "test_samples": len(test.labels),
        "basis": run.basis, "order": order_name(run),
        "accuracy": {
            "projector_all": important_curve[k],
            f"top{top_k}_important": important_curve[top_k],
            f"top{top_k}_random": chance_curve[top_k],
            f"top{top_k}_least": least_curve[top_k],
        },
        "accuracy_vs_k": {"important": important_curve, "random": chance_curve, "least": least_curve},
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
            train.backbone, train.labels, test.backbone, test.labels, seed)
    if run.basis == "canonical":
        result["invariance_spectrum"] = run.importance.tolist()
    elif run.importance is not None:
        result["importance"] = run.importance.tolist()
    return result


def compare_runs(first: RunFeatures, second: RunFeatures) -> Dict:
    """Identifiability of two runs of one method that differ in seed, on the test features, with
    each run's collapse measures and ``collapsed`` when either run is collapsed."""
    if first.method != second.method or first.host != second.host:
        raise ValueError(f"identifiability compares two runs of one method; got {first.host} "
                           f"{first.method} and {second.host} {second.method}")
    if first.test.features.shape != second.test.features.shape:
        raise ValueError(f"the runs' features differ in shape: {tuple(first.test.features.shape)} and "
                           f"{tuple(second.test.features.shape)}; use the same data and dimension")
    if not torch.equal(first.test.labels, second.test.labels):
        raise ValueError("the runs were evaluated on different samples")
    result = measures.identifiability(first.test.features, second.test.features,
                                      importance_order(first), importance_order(second))
    runs = [measures.collapse(run.test.features) for run in (first, second)]
    return {**result, "runs": runs, "collapsed": any(run["collapsed"] for run in runs)}


def collapse_warning(identifiability: Dict) -> Optional[str]:
    """A one-line warning when either run's features are collapsed, else None: identifiability
    of nearly collinear features is high for any pair of runs and means nothing."""
    if not identifiability.get("collapsed"):
        return None
    state = ", ".join(f"run {i + 1}: mean |corr| {run['mean_abs_corr']:.2f}, effective rank "
                      f"{run['effective_rank']:.1f}" for i, run in enumerate(identifiability["runs"]))
    return (f"WARNING: features collapsed ({state}; collapsed above mean |corr| "
            f"{identifiability['runs'][0]['collapse_threshold']}): the identifiability scores are not meaningful")


def correlation_for_plot(first: RunFeatures, second: RunFeatures, size: Optional[int] = 32) -> torch.Tensor:
    """|corr| between the two runs' first ``size`` features, each in its own importance order."""
    a = first.test.features[:, importance_order(first)[:size]]
    b = second.test.features[:, importance_order(second)[:size]]
    return measures.correlation_matrix(a, b).abs()
