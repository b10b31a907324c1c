"""Feature galleries, the interpretability figure of the triCL and NCL papers: for a feature, the
held-out images that activate it most, and how pure their class is."""

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Sequence

import torch

from solo_tricl.errors import BadInput
from solo_tricl.evaluate.features import RunFeatures
from solo_tricl.evaluate.orders import FeatureOrder


@dataclass(frozen=True)
class GalleryRow:
    """One feature of a gallery.

    Attributes:
        feature: its column in the feature matrix.
        rank: its place in the importance order (0: most important).
        images: row indices of the (at most) M samples with the largest activation, largest
            first; samples at the feature's minimum (a dead unit's zeros) are never shown.
        purity: share of the most common label among those samples (nan for a dead feature).
        majority: that label (-1 for a dead feature).
    """

    feature: int
    rank: int
    images: List[int]
    purity: float
    majority: int


def class_purity(labels: torch.Tensor) -> tuple:
    """(share of the most common label, that label) of a 1-d label tensor."""
    counts = torch.bincount(labels.long())
    return (counts.max() / len(labels)).item(), int(counts.argmax())


def gallery_rows(
    features: torch.Tensor, labels: torch.Tensor, order: torch.Tensor, features_per_end: int, images_per_feature: int
) -> Dict[str, List[GalleryRow]]:
    """The N most and the N least important features of ``order``, each with its top-M images.

    "Activates most" is the largest value of the feature (not of its magnitude): NCL's features
    are non-negative, and for signed features this reads one pole, as the papers' figures do.
    Only samples above the feature's minimum over the set count, so a feature that is constant
    (a dead NCL unit) gets no images and no purity instead of an arbitrary, falsely pure row.

    Args:
        features: (N_samples, k) held-out features.
        labels: (N_samples,) their labels.
        order: (k,) feature indices, most important first.
        features_per_end: N, rows per end of the order.
        images_per_feature: M, images per row.

    Returns:
        ``{"most": [...], "least": [...]}``, least important last within "least".
    """
    k = features.shape[1]
    if not 1 <= features_per_end <= k:
        raise BadInput(f"the gallery size must be in [1, {k}] (the feature dimension), got {features_per_end}")
    if not 1 <= images_per_feature <= len(features):
        raise BadInput(f"images per feature must be in [1, {len(features)}], got {images_per_feature}")

    def row(rank: int) -> GalleryRow:
        column = int(order[rank])
        values = features[:, column]
        top = torch.topk(values, images_per_feature)
        shown = top.indices[top.values > values.min()]
        if len(shown) == 0:
            return GalleryRow(column, rank, [], float("nan"), -1)
        purity, majority = class_purity(labels[shown])
        return GalleryRow(column, rank, shown.tolist(), purity, majority)

    return {
        "most": [row(r) for r in range(features_per_end)],
        "least": [row(r) for r in range(k - features_per_end, k)],
    }


def gallery_summary(rows: Dict[str, Sequence[GalleryRow]]) -> Dict:
    """JSON-ready rows, and at each end the mean purity over live features and the dead count."""
    summary = {}
    for end, group in rows.items():
        live = [r.purity for r in group if r.images]
        summary[end] = {
            "mean_purity": sum(live) / len(live) if live else float("nan"),
            "dead_features": len(group) - len(live),
            "rows": [asdict(r) for r in group],
        }
    return summary


def run_gallery(run: RunFeatures, features_per_end: int, images_per_feature: int) -> Dict[str, List[GalleryRow]]:
    """:func:`gallery_rows` of the held-out features of a run put in an order
    (:func:`solo_tricl.evaluate.orders.in_order`): column 0 the most important."""
    order = torch.arange(run.test.features.shape[1])
    return gallery_rows(run.test.features, run.test.labels, order, features_per_end, images_per_feature)


SCORE_NAMES = {"s": "s", "activation": "mass", "pca": "var", "canonical": "lambda"}


def draw_run_gallery(run: RunFeatures, order: FeatureOrder, rows: Dict[str, List[GalleryRow]], path: Path) -> Dict:
    """Draw ``rows`` of a run in ``order`` with its held-out images to ``path``, each column labelled
    with the order's own score (s sorted, activation mass, explained variance, lambda); the
    JSON-ready summary."""
    from solo_tricl.common.plots import plot_gallery

    test = run.test
    summary = gallery_summary(rows)
    plot_gallery(
        rows,
        test.paths,
        path,
        f"{run.host} {run.method}: features by {order.label}; "
        f"mean purity {summary['most']['mean_purity']:.2f} (most) vs "
        f"{summary['least']['mean_purity']:.2f} (least important)",
        None if order.scores is None else order.scores.tolist(),
        SCORE_NAMES.get(order.kind, "score"),
        test.class_names,
    )
    return {**summary, "png": str(path)}
