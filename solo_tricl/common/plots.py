"""Plots a person would rather look at than read: PNG files, no display needed."""

from pathlib import Path
from typing import TYPE_CHECKING, Dict, Optional, Sequence

import numpy as np
from matplotlib.figure import Figure

from solo_tricl.common.files import save_figure

if TYPE_CHECKING:
    import torch


def subplots(*grid, figsize, **kwargs):
    """A figure and its axes, without pyplot: no backend is chosen and no global state changes."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*grid, **kwargs)


def save(fig, path: Path, dpi: int = 120) -> Path:
    fig.tight_layout()
    return save_figure(fig, path, dpi=dpi)


def plot_importance(
    s: Sequence[float],
    path: Path,
    title: str = "learned feature importance",
    initial: Optional[float] = None,
    ylabel: str = "s",
) -> Path:
    """The importance curve: s sorted descending, with its cumulative share."""
    s = np.sort(np.asarray(s, dtype=float))[::-1]
    fig, left = subplots(figsize=(7, 4))
    ranks = np.arange(1, len(s) + 1)
    left.plot(ranks, s, color="tab:blue", label="s (sorted)")
    if initial is not None:
        left.axhline(initial, color="gray", linestyle=":", label=f"initial s ~ {initial:.2f}")
    left.set_xlabel("feature rank")
    left.set_ylabel(ylabel)
    right = left.twinx()
    right.plot(ranks, np.cumsum(s) / s.sum(), color="tab:orange", label="cumulative share")
    right.set_ylabel("cumulative share of sum(s)")
    right.set_ylim(0, 1.02)
    handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    left.legend(handles, [h.get_label() for h in handles], loc="center right")
    left.set_title(title)
    return save(fig, path)


def plot_curves(
    curves: Dict[str, Dict[int, float]],
    path: Path,
    xlabel: str,
    ylabel: str,
    title: str,
    chance: Optional[float] = None,
) -> Path:
    """Several y-vs-x curves (one per label) on a log-2 x axis, e.g. accuracy vs k."""
    fig, ax = subplots(figsize=(7, 4))
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
    return save(fig, path)


def plot_curve_grid(
    panels: Dict[str, Dict[str, Dict[int, float]]],
    path: Path,
    xlabel: str,
    ylabel: str,
    title: str,
    columns: int = 3,
    chance: Optional[float] = None,
) -> Path:
    """One panel of curves per entry of ``panels`` (panel title -> {label: {x: y}}), sharing the y
    axis, log-2 x axis; one legend for the figure."""
    rows = -(-len(panels) // columns)
    fig, axes = subplots(rows, columns, figsize=(4.6 * columns, 3.6 * rows + 0.8), sharey=True, squeeze=False)
    labels = sorted({label for curves in panels.values() for label in curves})
    colours = {label: f"C{i % 10}" for i, label in enumerate(labels)}
    styles = {label: ("-", "--", ":")[i // 10 % 3] for i, label in enumerate(labels)}
    for ax, (panel, curves) in zip(axes.flat, panels.items()):
        for label, points in curves.items():
            xs = sorted(points)
            ax.plot(
                xs,
                [points[x] for x in xs],
                marker="o",
                markersize=3,
                label=label,
                color=colours[label],
                linestyle=styles[label],
            )
        if chance is not None:
            ax.axhline(chance, color="gray", linestyle=":")
        ax.set_xscale("log", base=2)
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel(xlabel)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    handles = [
        next(line for ax in axes.flat for line in ax.get_lines() if line.get_label() == label) for label in labels
    ]
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), fontsize=8)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06 + 0.02 * (len(labels) // 6), 1, 0.97))
    return save_figure(fig, path, dpi=120)


def plot_heatmap(
    matrix: np.ndarray, path: Path, title: str, xlabel: str, ylabel: str, vmin: float = 0.0, vmax: float = 1.0
) -> Path:
    fig, ax = subplots(figsize=(5.5, 4.5))
    image = ax.imshow(matrix, vmin=vmin, vmax=vmax, cmap="viridis", interpolation="nearest")
    fig.colorbar(image, ax=ax)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return save(fig, path)


def attribution_overlay(ax, image: np.ndarray, attribution: "torch.Tensor"):
    """Draw the (C, H, W) attribution, channel-averaged minus its median, in red above and blue
    below the median over the grayscale image; returns the overlay and its colour limit."""
    heat = attribution.float().mean(dim=0).cpu().numpy()
    heat = heat - np.median(heat)
    limit = np.abs(heat).max() or 1.0
    ax.imshow(image.mean(axis=-1), cmap="gray")
    return ax.imshow(heat, cmap="bwr", vmin=-limit, vmax=limit, alpha=0.6), limit


def plot_attributions(image: np.ndarray, attributions: Dict[str, "torch.Tensor"], path: Path, title: str = "") -> Path:
    """The image, then one heatmap overlay per method: channel-averaged attributions minus their
    median (RISE's saliency carries a large constant offset), red above and blue below it."""
    fig, axes = subplots(1, len(attributions) + 1, figsize=(2.6 * (len(attributions) + 1), 2.8))
    axes = np.atleast_1d(axes)
    axes[0].imshow(image)
    axes[0].set_title(title[:24])
    for ax, (name, attribution) in zip(axes[1:], attributions.items()):
        overlay, limit = attribution_overlay(ax, image, attribution)
        ax.set_title(name)
        bar = fig.colorbar(overlay, ax=ax, fraction=0.046, pad=0.04)
        bar.set_ticks([-limit, 0, limit], labels=["-", "median", "+"])
    for ax in axes:
        ax.axis("off")
    return save(fig, path, dpi=110)


def plot_gallery(
    rows: Dict[str, Sequence],
    paths: Sequence[str],
    path: Path,
    title: str,
    scores: Optional[Sequence[float]] = None,
    score_name: str = "s",
    class_names: Optional[Sequence[str]] = None,
) -> Path:
    """A feature gallery: one row per feature (the most important block, then the least
    important one), its top-activating images left to right, and the class purity of those
    images at the row's start. ``rows`` is :func:`solo_tricl.evaluate.gallery.gallery_rows`'s."""
    from PIL import Image

    ordered = [("most important", r) for r in rows["most"]] + [("least important", r) for r in rows["least"]]
    columns = len(ordered[0][1].images)
    fig, axes = subplots(
        len(ordered),
        columns + 1,
        squeeze=False,
        figsize=(0.75 * columns + 2.6, 0.78 * len(ordered) + 0.7),
        gridspec_kw={"width_ratios": [3.2] + [1] * columns},
    )
    previous_block = None
    for axes_row, (block, row) in zip(axes, ordered):
        label = axes_row[0]
        label.axis("off")
        majority = class_names[row.majority] if class_names else str(row.majority)
        score = f", {score_name} {scores[row.feature]:.2f}" if scores is not None else ""
        purity = f"purity {row.purity:.2f}: {majority}" if row.images else "dead: constant on every image"
        label.text(
            1.0,
            0.5,
            f"rank {row.rank + 1} (feature {row.feature}{score})\n{purity}",
            ha="right",
            va="center",
            fontsize=7,
            transform=label.transAxes,
        )
        if block != previous_block:
            label.set_title(block, fontsize=8, loc="right", fontweight="bold")
            previous_block = block
        for column, ax in enumerate(axes_row[1:]):
            ax.set_xticks([])
            ax.set_yticks([])
            if column < len(row.images):
                ax.imshow(np.asarray(Image.open(paths[row.images[column]]).convert("RGB")))
            else:
                ax.axis("off")
    fig.suptitle(title, fontsize=9)
    return save(fig, path, dpi=100)


def plot_importance_curves(
    curves: Dict[str, Sequence[float]], path: Path, title: str = "learned importance s, sorted"
) -> Path:
    """Several runs' s, each sorted descending, on one axis (e.g. two seeds of one method)."""
    fig, ax = subplots(figsize=(7, 4))
    for label, s in curves.items():
        s = np.sort(np.asarray(s, dtype=float))[::-1]
        ax.plot(np.arange(1, len(s) + 1), s, label=label)
    ax.set_xlabel("feature rank")
    ax.set_ylabel("learned importance s")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return save(fig, path)


def plot_invariance_spectra(
    spectra: Dict[str, Sequence[float]],
    path: Path,
    threshold: float,
    title: str = "invariance spectrum of the canonical basis",
) -> Path:
    """lambda per canonical feature (descending) for several runs, with the identifiability
    threshold: features above the line are identifiable one by one."""
    fig, ax = subplots(figsize=(7, 4))
    for label, spectrum in spectra.items():
        values = np.asarray(spectrum, dtype=float)
        above = int((values > threshold).sum())
        ax.plot(np.arange(1, len(values) + 1), values, label=f"{label} (identifiable rank {above})")
    ax.axhline(threshold, color="gray", linestyle=":", label=f"threshold {threshold}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("canonical feature")
    ax.set_ylabel("lambda: agreement of two views")
    ax.set_title(title)
    ax.legend(fontsize=7)
    return save(fig, path)


def plot_scatter(
    series: Dict[str, tuple], path: Path, xlabel: str, ylabel: str, title: str, vertical: Optional[float] = None
) -> Path:
    """Points (xs, ys) per label, with an optional vertical line (e.g. a threshold)."""
    fig, ax = subplots(figsize=(7, 4))
    for label, (xs, ys) in series.items():
        ax.scatter(xs, ys, s=12, alpha=0.7, label=label)
    if vertical is not None:
        ax.axvline(vertical, color="gray", linestyle=":", label=f"threshold {vertical}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7)
    return save(fig, path)
