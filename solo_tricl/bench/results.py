"""The bench's results as typed records, and the measures that fill them.

Every run is measured in several feature orders (:mod:`solo_tricl.evaluate.orders`): its own
importance, the post-hoc PCA and canonical orders that any model has for free, and k random
features; each as linear-probe and kNN accuracy of the first k features.
"""

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Dict, List, Optional

import torch

from solo_tricl.common.files import write_json
from solo_tricl.evaluate import measures
from solo_tricl.evaluate.features import RunFeatures
from solo_tricl.evaluate.orders import describe, in_order
from solo_tricl.evaluate.report import (
    DEFAULT_KS,
    RANDOM_DRAWS,
    compare_runs,
    correlation_for_plot,
    curve_ks,
    random_curve,
)

# the orders every run is measured in, and the curve points (each run adds its own k: "all")
BENCH_ORDERS = ("importance", "pca", "canonical")
LEADERBOARD_KS = tuple(k for k in DEFAULT_KS if k <= 128)
IDENTIFIABILITY_TOP = (8, 16)


@dataclass
class Curves:
    """Accuracy of the first k features of one order, for each k: linear probe and kNN."""

    linear: Dict[int, float]
    knn: Dict[int, float]


@dataclass
class RunResult:
    name: str
    variant: str
    method: str
    seed: int
    checkpoint: str
    features: int  # k, the projector (or embedding) dimension
    importance_name: str  # what "importance" is for this run: s, prefix, activation
    orders: Dict[str, Curves]  # BENCH_ORDERS and "random" (mean of RANDOM_DRAWS draws)
    bottom: Dict[int, float]  # linear probe of the k least important
    backbone_linear: Optional[float] = None
    backbone_knn: Optional[float] = None
    sparsity: float = 0.0
    class_consistency: float = 0.0
    mean_abs_corr: float = 0.0
    effective_rank: float = 0.0
    identifiable_rank: Optional[int] = None
    invariance_spectrum: List[float] = field(default_factory=list)
    learned_importance: Optional[List[float]] = None
    train_seconds: Optional[float] = None  # None: the training was reused from an earlier invocation
    images_per_s: Optional[float] = None
    command: str = ""

    @classmethod
    def from_json(cls, saved: dict) -> "RunResult":
        """The record :func:`dataclasses.asdict` wrote as JSON (whose keys are strings)."""

        def by_k(curve):
            return {int(k): value for k, value in curve.items()}

        orders = {name: Curves(by_k(c["linear"]), by_k(c["knn"])) for name, c in saved["orders"].items()}
        return cls(**{**saved, "orders": orders, "bottom": by_k(saved["bottom"])})

    def at(self, order: str, metric: str, k) -> float:
        """Accuracy of the first ``k`` features (``"all"``: every feature) of ``order``."""
        curve = getattr(self.orders[order], metric)
        return curve[self.features if k == "all" else k]


@dataclass
class PairResult:
    """Identifiability of two runs in each order: |corr| of feature i of one with feature i of the
    other, no permutation search, averaged over the top 8, the top 16 and all."""

    variant: str
    label: str
    by_order: Dict[str, Dict[str, float]]
    collapsed: bool
    canonical_per_rank: List[float]
    mean_spectrum: List[float]
    heatmaps: Dict[str, List[List[float]]]


@dataclass
class ClipResult:
    loss: str
    checkpoint: str
    features: int
    zero_shot: float
    zero_shot_top8: float
    orders: Dict[str, Curves]
    sparsity: float
    class_consistency: float
    seconds: Optional[float] = None
    samples_per_s: Optional[float] = None
    command: str = ""


@dataclass
class BenchResult:
    settings: dict
    runs: List[RunResult] = field(default_factory=list)
    pairs: List[PairResult] = field(default_factory=list)
    noise_floor: Optional[PairResult] = None
    clip: List[ClipResult] = field(default_factory=list)
    galleries: Dict[str, dict] = field(default_factory=dict)
    config_differences: Dict[str, List[str]] = field(default_factory=dict)
    minutes: float = 0.0

    def by_variant(self) -> Dict[str, List[RunResult]]:
        grouped: Dict[str, List[RunResult]] = {}
        for run in self.runs:
            grouped.setdefault(run.variant, []).append(run)
        return grouped

    def as_json(self) -> dict:
        return asdict(self)


def order_curves(run: RunFeatures, ks, seed: int) -> Curves:
    """Linear and kNN accuracy of the first k columns of an ordered run."""
    order = torch.arange(run.train.features.shape[1])
    args = (run.train.features, run.train.labels, run.test.features, run.test.labels, order, ks)
    return Curves(measures.topk_curve(*args, "probe", seed=seed), measures.topk_curve(*args, "knn", seed=seed))


def measure_orders(run: RunFeatures, orders=BENCH_ORDERS, seed: int = 0):
    """({order: Curves} with "random", the bottom-k linear curve, {order: ordered run}, the canonical
    basis or None) of one native run.

    Every selection order (importance, bottom, random) holds the same k features at k = all: that
    point is measured once, on the importance order, and shared (a probe on 2,048 features takes a
    minute on a CPU)."""
    k = run.train.features.shape[1]
    ks = curve_ks(k, LEADERBOARD_KS)
    below_all = [x for x in ks if x < k]
    ordered, curves, basis = {}, {}, None
    for order in orders:
        ordered[order], fitted = in_order(run, order, seed)
        basis = fitted or basis
        curves[order] = order_curves(ordered[order], ks, seed)
    importance = ordered["importance"]
    everything = curves["importance"]
    reversed_run = replace(importance, train=_flip(importance.train), test=_flip(importance.test))
    bottom = {**order_curves(reversed_run, below_all, seed).linear, k: everything.linear[k]}
    curves["random"] = Curves(
        {**random_curve(run.train, run.test, below_all, seed), k: everything.linear[k]},
        {**random_curve(run.train, run.test, below_all, seed, metric="knn"), k: everything.knn[k]},
    )
    return curves, bottom, ordered, basis


def _flip(split):
    return replace(split, features=split.features.flip(1))


def measure_solo_run(run: RunFeatures, variant: str, seed: int, trained, seed_for_draws: int = 0):
    """A :class:`RunResult` and the run in each order (for identifiability and galleries)."""
    curves, bottom, ordered, basis = measure_orders(run, seed=seed_for_draws)
    test = run.test
    collapse = measures.collapse(test.features)
    result = RunResult(
        name=trained.name,
        variant=variant,
        method=run.method,
        seed=seed,
        checkpoint=trained.checkpoint,
        features=run.train.features.shape[1],
        importance_name=describe("importance", run),
        orders=curves,
        bottom=bottom,
        backbone_linear=measures.linear_probe(run.train.backbone, run.train.labels, test.backbone, test.labels),
        backbone_knn=measures.knn_accuracy(run.train.backbone, run.train.labels, test.backbone, test.labels),
        sparsity=measures.sparsity(test.features),
        class_consistency=measures.class_consistency(test.features, test.labels),
        mean_abs_corr=collapse["mean_abs_corr"],
        effective_rank=collapse["effective_rank"],
        identifiable_rank=basis.identifiable_rank,
        invariance_spectrum=basis.spectrum.tolist(),
        learned_importance=run.importance.tolist() if run.importance is not None else None,
        train_seconds=trained.seconds,
        images_per_s=trained.images_per_s,
        command=trained.command,
    )
    return result, ordered


# bump when a measure changes: a saved measurement of another version is measured again
MEASURES_VERSION = 1
MEASURED = "bench-measured.json"


def measure_solo_run_once(
    run: RunFeatures, variant: str, seed: int, trained, folder: Path, settings: dict, seed_for_draws: int = 0
):
    """:func:`measure_solo_run`, or its saved result when ``folder`` holds one of the same
    checkpoint (path, size, time), measured with the same ``settings`` and measures version; the
    run in each order is rebuilt from the features (cheap, deterministic). The time and
    throughput always come from ``trained`` (this invocation's)."""
    checkpoint = Path(trained.checkpoint)
    key = {
        "version": MEASURES_VERSION,
        "checkpoint": str(checkpoint),
        "size": checkpoint.stat().st_size,
        "mtime": checkpoint.stat().st_mtime,
        "variant": variant,
        "seed": seed,
        "seed_for_draws": seed_for_draws,
        **settings,
    }
    try:
        saved = json.loads((folder / MEASURED).read_text())
        if saved["key"] != key:
            raise ValueError("measured with other settings")
        result = RunResult.from_json(saved["result"])
        ordered = {order: in_order(run, order, seed_for_draws)[0] for order in BENCH_ORDERS}
        print(f"   reusing its measurement in {folder / MEASURED}", flush=True)
    except (OSError, ValueError, KeyError, TypeError):
        result, ordered = measure_solo_run(run, variant, seed, trained, seed_for_draws)
        write_json(folder / MEASURED, {"key": key, "result": asdict(result)})
    result = replace(result, train_seconds=trained.seconds, images_per_s=trained.images_per_s, command=trained.command)
    return result, ordered


def measure_pair(
    variant: str,
    label: str,
    first: Dict[str, RunFeatures],
    second: Dict[str, RunFeatures],
    first_result: RunResult,
    second_result: RunResult,
) -> PairResult:
    """Identifiability of two runs (each given in every bench order) in every order."""
    by_order, heatmaps, collapsed, canonical_per_rank = {}, {}, False, []
    for order in BENCH_ORDERS:
        ident = compare_runs(first[order], second[order])
        collapsed = collapsed or ident["collapsed"]
        by_order[order] = {
            "all": ident["ordered"],
            "matched": ident["matched"],
            **{f"top{n}": ident[f"ordered_top{n}"] for n in IDENTIFIABILITY_TOP if f"ordered_top{n}" in ident},
            **{
                f"best_match_top{n}": ident[f"best_match_top{n}"]
                for n in IDENTIFIABILITY_TOP
                if f"best_match_top{n}" in ident
            },
        }
        heatmaps[order] = correlation_for_plot(first[order], second[order]).tolist()
        if order == "canonical":
            canonical_per_rank = ident["per_rank"]
    spectrum = [(a + b) / 2 for a, b in zip(first_result.invariance_spectrum, second_result.invariance_spectrum)]
    return PairResult(variant, label, by_order, collapsed, canonical_per_rank, spectrum, heatmaps)


def measure_clip_run(run: RunFeatures, trained, zero_shot: dict) -> ClipResult:
    curves, _, _, _ = measure_orders(run, orders=("importance",))
    return ClipResult(
        loss=trained.name,
        checkpoint=trained.checkpoint,
        features=run.train.features.shape[1],
        zero_shot=zero_shot["accuracy"],
        zero_shot_top8=zero_shot["top8_importance"],
        orders=curves,
        sparsity=measures.sparsity(run.test.features),
        class_consistency=measures.class_consistency(run.test.features, run.test.labels),
        seconds=trained.seconds,
        samples_per_s=trained.images_per_s,
        command=trained.command,
    )


__all__ = [
    "BENCH_ORDERS",
    "BenchResult",
    "ClipResult",
    "Curves",
    "LEADERBOARD_KS",
    "PairResult",
    "RANDOM_DRAWS",
    "RunResult",
    "measure_clip_run",
    "measure_orders",
    "measure_pair",
    "measure_solo_run",
    "measure_solo_run_once",
]
