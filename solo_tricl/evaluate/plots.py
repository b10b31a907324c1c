"""Plots a person would rather look at than read: PNG files, no display needed."""

from pathlib import Path
from typing import Dict, Optional, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(fig, path: Path, dpi: int = 120) -> Path:
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def plot_importance(s: Sequence[float], path: Path, title: str = "learned feature importance",
                    initial: Optional[float] = None) -> Path:
    """The importance curve: s sorted descending, with its cumulative share."""
    s = np.sort(np.asarray(s, dtype=float))[::-1]
    fig, left = plt.subplots(figsize=(7, 4))
    ranks = np.arange(1, len(s) + 1)
    left.plot(ranks, s, color="tab:blue", label="s (sorted)")
    if initial is not None:
        left.axhline(initial, color="gray", linestyle=":", label=f"initial s ~ {initial:.2f}")
    left.set_xlabel("feature rank")
    left.set_ylabel("s = softplus(theta)")
    right = left.twinx()
    right.plot(ranks, np.cumsum(s) / s.sum(), color="tab:orange", label="cumulative share")
    right.set_ylabel("cumulative share of sum(s)")
    right.set_ylim(0, 1.02)
    handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    left.legend(handles, [h.get_label() for h in handles], loc="center right")
    left.set_title(title)
    return _save(fig, path)


def plot_curves(curves: Dict[str, Dict[int, float]], path: Path, xlabel: str, ylabel: str,
                title: str, chance: Optional[float] = None) -> Path:
    """Several y-vs-x curves (one per label) on a log-2 x axis, e.g. accuracy vs k."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, points in curves.items():
        xs = sorted(points)
        ax.plot(xs, [points[x] for x in xs], marker="o", label=label)
    if chance is not None:
        ax.axhline(chance, color="gray", linestyle=":", label="chance")
    ax.set_xscale("log", base=2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return _save(fig, path)


def plot_heatmap(matrix: np.ndarray, path: Path, title: str, xlabel: str, ylabel: str,
                 vmin: float = 0.0, vmax: float = 1.0) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    image = ax.imshow(matrix, vmin=vmin, vmax=vmax, cmap="viridis", interpolation="nearest")
    fig.colorbar(image, ax=ax)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return _save(fig, path)


def plot_attributions(image: np.ndarray, attributions: Dict[str, "torch.Tensor"], path: Path,
                      title: str = "") -> Path:
    """The image, then one heatmap overlay per method: channel-averaged attributions minus their
    median (RISE's saliency carries a large constant offset), red above and blue below it."""
    fig, axes = plt.subplots(1, len(attributions) + 1, figsize=(2.6 * (len(attributions) + 1), 2.8))
    axes = np.atleast_1d(axes)
    axes[0].imshow(image)
    axes[0].set_title(title[:24])
    for ax, (name, attribution) in zip(axes[1:], attributions.items()):
        heat = attribution.float().mean(dim=0).cpu().numpy()
        heat = heat - np.median(heat)
        limit = np.abs(heat).max() or 1.0
        ax.imshow(image.mean(axis=-1), cmap="gray")
        ax.imshow(heat, cmap="bwr", vmin=-limit, vmax=limit, alpha=0.6)
        ax.set_title(name)
    for ax in axes:
        ax.axis("off")
    return _save(fig, path, dpi=110)
