"""One measurement of a run, as typed records: what ``evaluate`` reports and the bench renders.

:func:`measure_run` puts a run's features in each order asked for (:mod:`solo_tricl.evaluate.orders`)
and measures, at every k of the curve, the linear probe and solo-learn's kNN on the first k
features (and zero-shot accuracy for a CLIP run), against k random features; then the measures of
the whole representation (sparsity, class consistency, orthogonality, effective rank, collapse).
:func:`measure_pair` gives the identifiability of two runs of one method, in each order.
"""

from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch

from solo_tricl.common import thresholds
from solo_tricl.errors import BadInput
from solo_tricl.evaluate import measures
from solo_tricl.evaluate.features import RunFeatures
from solo_tricl.evaluate.orders import FeatureOrder, in_order, selection

# the points of every accuracy-vs-k curve (the run's own k and any headline k are added)
DEFAULT_KS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)
RANDOM_DRAWS = thresholds.RANDOM_DRAWS
K = Union[int, str]  # a number of features, or "all"


def curve_ks(k: int, ks: Sequence[int] = DEFAULT_KS, also: Sequence[int] = ()) -> List[int]:
    """The points of an accuracy-vs-k curve for k features: ``ks`` up to k, ``also``, and k itself."""
    return sorted({x for x in ks if x <= k} | {x for x in also if x <= k} | {k})


def knn_ks(ks: Sequence[int]) -> List[int]:
    """The points where kNN means something: with fewer than
    :data:`~solo_tricl.common.thresholds.KNN_MIN_FEATURES` features every cosine similarity is +-1,
    so every neighbour ties."""
    return [k for k in ks if k >= thresholds.KNN_MIN_FEATURES]


@dataclass
class Curves:
    """Accuracy of the first k features of one order, for each k (keys: k)."""

    linear: Dict[int, float] = field(default_factory=dict)
    knn: Dict[int, float] = field(default_factory=dict)  # k >= KNN_MIN_FEATURES only
    zero_shot: Dict[int, float] = field(default_factory=dict)  # CLIP runs with class names
    retrieval: Dict[int, float] = field(default_factory=dict)  # precision@10, when measured

    @classmethod
    def from_json(cls, saved: dict) -> "Curves":
        return cls(**{name: {int(k): v for k, v in curve.items()} for name, curve in saved.items()})


@dataclass
class OrderMeasurement:
    """A run in one order: which features come first, and how well the first k do."""

    order: str  # as asked: importance, activation, prefix, pca, canonical, random
    kind: str  # what it resolved to: s, prefix, activation, random, pca, canonical
    label: str  # how reports name it
    columns: Optional[List[int]]  # a selection order's model columns, most important first
    scores: Optional[List[float]]  # each ordered feature's score (s, mass, variance, lambda)
    curves: Curves
    bottom: Dict[int, float] = field(default_factory=dict)  # linear probe of the k last features

    @classmethod
    def from_json(cls, saved: dict) -> "OrderMeasurement":
        return cls(
            **{
                **saved,
                "curves": Curves.from_json(saved["curves"]),
                "bottom": {int(k): v for k, v in saved["bottom"].items()},
            }
        )


@dataclass
class RunMeasurement:
    """Every measure of one run. ``at(order, metric, k)`` reads a curve; ``random`` holds k random
    features (the mean of ``random_draws`` seeded draws)."""

    checkpoint: str
    host: str
    method: str
    representation: str
    features: int
    train_samples: int
    test_samples: int
    orders: Dict[str, OrderMeasurement]
    random: Curves
    random_draws: int
    sparsity: float
    class_consistency: float
    mean_abs_corr: float
    median_abs_corr: float
    effective_rank: float
    collapsed: bool
    backbone_linear: Optional[float] = None
    backbone_knn: Optional[float] = None
    retrieval_all: Optional[Dict[str, float]] = None
    identifiable_rank: Optional[int] = None
    invariance_spectrum: Optional[List[float]] = None
    importance: Optional[List[float]] = None  # s, in the model's own column order
    info: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, saved: dict) -> "RunMeasurement":
        return cls(
            **{
                **saved,
                "orders": {name: OrderMeasurement.from_json(o) for name, o in saved["orders"].items()},
                "random": Curves.from_json(saved["random"]),
            }
        )

    def curve(self, order: str, metric: str) -> Dict[int, float]:
        curves = self.random if order == "random" else self.orders[order].curves
        return getattr(curves, metric)

    def at(self, order: str, metric: str, k: K) -> Optional[float]:
        """Accuracy of the first ``k`` features (``"all"``: every feature) of ``order``
        (``"random"``: k random ones, ``"bottom"``: the importance order's last k), or None where
        it is not measured (kNN on one feature, zero-shot of a solo-learn run)."""
        k = self.features if k == "all" else k
        if order == "bottom":
            return self.orders["importance"].bottom.get(k)
        return self.curve(order, metric).get(k)

    def top_columns(self, order: str, k: int) -> List[int]:
        """The model columns of the first k features of a selection order."""
        columns = self.orders[order].columns
        if columns is None:
            raise ValueError(f"the {order} order rotates the features: it selects no columns")
        return columns[:k]


def _curves(train, test, ks, seed, zero_shot_of=None, retrieval: bool = False) -> Curves:
    """Curves of the first k columns of already ordered features."""
    order = torch.arange(train.features.shape[1])
    args = (train.features, train.labels, test.features, test.labels, order)
    curves = Curves(
        measures.topk_curve(*args, ks, "probe", seed=seed), measures.topk_curve(*args, knn_ks(ks), "knn", seed=seed)
    )
    if zero_shot_of is not None:
        curves.zero_shot = {k: zero_shot_of(k) for k in ks}
    if retrieval:
        curves.retrieval = measures.topk_curve(None, None, test.features, test.labels, order, ks, "retrieval")
    return curves


def zero_shot_curve(run: RunFeatures, fitted: FeatureOrder):
    """k -> zero-shot accuracy with the first k features of ``fitted`` (images and class embeddings
    projected on the span of its first k functionals), or None for a run without a classifier."""
    if run.classifier is None:
        return None
    return lambda k: measures.zero_shot_accuracy(run.classifier, run.test.features, run.test.labels, fitted.span(k))


def _share_all(curves: Curves, reference: Curves, k: int) -> Curves:
    """``curves`` with the k = all point of ``reference``: every selection of the model's columns
    holds the same k features at k = all, so the point is measured once (a probe on 2,048 features
    takes a minute on a CPU)."""
    for metric in ("linear", "knn", "zero_shot", "retrieval"):
        point = getattr(reference, metric).get(k)
        if point is not None:
            getattr(curves, metric)[k] = point
    return curves


def measure_run(
    run: RunFeatures,
    orders: Sequence[str] = ("importance",),
    ks: Sequence[int] = DEFAULT_KS,
    also: Sequence[int] = (),
    seed: int = 0,
    bottom_orders: Sequence[str] = ("importance",),
    retrieval: bool = False,
    random_draws: int = RANDOM_DRAWS,
) -> Tuple[RunMeasurement, Dict[str, Tuple[RunFeatures, FeatureOrder]]]:
    """Measure a run as the model gives its features, in every order of ``orders``.

    Args:
        run: features of a checkpoint (:mod:`solo_tricl.evaluate.features`), native order.
        orders: the orders to measure (:data:`solo_tricl.evaluate.orders.ORDERS`).
        ks: curve points (up to the run's k; k itself and ``also`` are added).
        seed: seed of the probes and of the random draws.
        bottom_orders: orders whose last k features are probed too.
        retrieval: also precision@10 at each k, and precision@10 and mAP on all features.
        random_draws: draws of k random features, averaged.

    Returns:
        the measurement, and for each order the run in that order with the fitted order (for
        identifiability and galleries).
    """
    k = run.train.features.shape[1]
    ks = curve_ks(k, ks, also)
    below_all = [x for x in ks if x < k]
    everything = None  # the k = all point shared by every selection order
    measured, ordered = {}, {}
    for name in dict.fromkeys(orders):
        ordered_run, fitted = in_order(run, name, seed)
        ordered[name] = (ordered_run, fitted)
        points = ks if fitted.is_rotation or everything is None else below_all
        curves = _curves(ordered_run.train, ordered_run.test, points, seed, zero_shot_curve(run, fitted), retrieval)
        if not fitted.is_rotation:
            everything = everything or curves
            curves = _share_all(curves, everything, k)
        bottom = {}
        if name in bottom_orders:
            reversed_run = _flip(ordered_run)
            args = (reversed_run.train.features, run.train.labels, reversed_run.test.features, run.test.labels)
            bottom = measures.topk_curve(*args, torch.arange(k), below_all, "probe", seed=seed)
            bottom[k] = curves.linear[k]
        measured[name] = OrderMeasurement(
            name,
            fitted.kind,
            fitted.label,
            None if fitted.columns is None else fitted.columns.tolist(),
            None if fitted.scores is None else fitted.scores.tolist(),
            curves,
            bottom,
        )
    random_curves = _random_curves(run, below_all, seed, random_draws, retrieval)
    if everything is None:  # only rotations were measured: measure the model's own features once
        identity = selection("prefix", run.method, k)
        everything = _curves(run.train, run.test, [k], seed, zero_shot_curve(run, identity))
    random_curves = _share_all(random_curves, everything, k)
    test = run.test
    collapse = measures.collapse(test.features)
    basis = next((fitted.basis for _, fitted in ordered.values() if fitted.basis is not None), None)
    result = RunMeasurement(
        checkpoint=run.checkpoint,
        host=run.host,
        method=run.method,
        representation=run.representation,
        features=k,
        train_samples=len(run.train.labels),
        test_samples=len(test.labels),
        orders=measured,
        random=random_curves,
        random_draws=random_draws,
        sparsity=measures.sparsity(test.features),
        class_consistency=measures.class_consistency(test.features, test.labels),
        mean_abs_corr=collapse["mean_abs_corr"],
        median_abs_corr=collapse["median_abs_corr"],
        effective_rank=collapse["effective_rank"],
        collapsed=collapse["collapsed"],
        retrieval_all=measures.precision_and_map(test.features, test.labels) if retrieval else None,
        identifiable_rank=None if basis is None else basis.identifiable_rank,
        invariance_spectrum=None if basis is None else basis.spectrum.tolist(),
        importance=None if run.importance is None else run.importance.tolist(),
        info=run.info,
    )
    if run.train.backbone is not None:
        result.backbone_linear = measures.linear_probe(
            run.train.backbone, run.train.labels, test.backbone, test.labels, seed
        )
        result.backbone_knn = measures.knn_accuracy(run.train.backbone, run.train.labels, test.backbone, test.labels)
    return result, ordered


def _flip(run: RunFeatures) -> RunFeatures:
    return replace(
        run,
        train=replace(run.train, features=run.train.features.flip(1)),
        test=replace(run.test, features=run.test.features.flip(1)),
    )


def _random_curves(run: RunFeatures, ks: Sequence[int], seed: int, draws: int, retrieval: bool) -> Curves:
    """The mean over ``draws`` seeded draws of k random features, at each k."""
    total = Curves()
    for draw in range(draws):
        ordered_run, fitted = in_order(run, "random", seed + draw)
        curves = _curves(ordered_run.train, ordered_run.test, ks, seed, zero_shot_curve(run, fitted), retrieval)
        for metric in ("linear", "knn", "zero_shot", "retrieval"):
            target = getattr(total, metric)
            for point, value in getattr(curves, metric).items():
                target[point] = target.get(point, 0.0) + value / draws
    return total


@dataclass
class PairMeasurement:
    """Identifiability of two runs of one method in each order: |corr| of feature i of one with
    feature i of the other, no permutation search, averaged over the top 8, the top 16 and all;
    ``matched`` after the best one-to-one matching; ``best_match_top{n}`` each of the first run's
    top n against any feature of the other."""

    by_order: Dict[str, Dict[str, float]]
    per_rank: Dict[str, List[float]]
    collapsed: bool
    runs: List[Dict[str, float]]  # each run's collapse measures
    mean_spectrum: Optional[List[float]] = None
    heatmaps: Dict[str, List[List[float]]] = field(default_factory=dict)


def measure_pair(
    first: Dict[str, Tuple[RunFeatures, FeatureOrder]],
    second: Dict[str, Tuple[RunFeatures, FeatureOrder]],
    heatmap_size: int = 32,
) -> PairMeasurement:
    """Identifiability of two runs, each given in the same orders (:func:`measure_run`'s second result)."""
    by_order, per_rank, heatmaps = {}, {}, {}
    runs = None
    for name in first:
        a, b = first[name][0], second[name][0]
        check_comparable(a, b)
        k = a.test.features.shape[1]
        ident = measures.identifiability(a.test.features, b.test.features, torch.arange(k), torch.arange(k))
        by_order[name] = {key: value for key, value in ident.items() if key != "per_rank"}
        per_rank[name] = ident["per_rank"]
        size = min(heatmap_size, k)
        heatmaps[name] = (
            measures.correlation_matrix(a.test.features[:, :size], b.test.features[:, :size]).abs().tolist()
        )
        if runs is None:
            runs = [measures.collapse(run.test.features) for run in (a, b)]
    spectra = [
        run_order[1].basis.spectrum for run_order in (first.get("canonical"), second.get("canonical")) if run_order
    ]
    mean_spectrum = ((spectra[0] + spectra[1]) / 2).tolist() if len(spectra) == 2 else None
    return PairMeasurement(by_order, per_rank, any(run["collapsed"] for run in runs), runs, mean_spectrum, heatmaps)


def check_comparable(first: RunFeatures, second: RunFeatures) -> None:
    """Two runs of one method, with features of one shape on the same samples."""
    if first.method != second.method or first.host != second.host:
        raise BadInput(
            f"identifiability compares two runs of one method; got {first.host} "
            f"{first.method} and {second.host} {second.method}"
        )
    if first.test.features.shape != second.test.features.shape:
        raise BadInput(
            f"the runs' features differ in shape: {tuple(first.test.features.shape)} and "
            f"{tuple(second.test.features.shape)}; use the same data and dimension"
        )
    if not torch.equal(first.test.labels, second.test.labels):
        raise BadInput("the runs were evaluated on different samples")


def collapse_warning(pair: PairMeasurement) -> Optional[str]:
    """A one-line warning when either run's features are collapsed, else None: identifiability
    of nearly collinear features is high for any pair of runs and means nothing."""
    if not pair.collapsed:
        return None
    state = ", ".join(
        f"run {i + 1}: mean |corr| {run['mean_abs_corr']:.2f}, effective rank {run['effective_rank']:.1f}"
        for i, run in enumerate(pair.runs)
    )
    return (
        f"WARNING: features collapsed ({state}; collapsed above mean |corr| "
        f"{thresholds.COLLAPSED_MEAN_ABS_CORR}): the identifiability scores are not meaningful"
    )
