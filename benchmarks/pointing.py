"""A pointing game with known answers: 2 x 2 mosaics in which exactly one tile holds the corpus
class, and the other three hold three other classes. A map points right when its maximum falls
in that tile; it is concentrated when most of its positive mass lies there (chance: 0.25 for
both).

Quadrants are numbered row by row: 0 top left, 1 top right, 2 bottom left, 3 bottom right.
"""

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence

import torch
from PIL import Image

from solo_tricl.common.plots import attribution_overlay, save, subplots


@dataclass
class Mosaic:
    image: Image.Image  # (2 * tile) x (2 * tile), RGB
    corpus_class: int
    quadrant: int  # the tile that holds the corpus class
    tile_classes: List[int]  # class of each tile, by quadrant
    tile_paths: List[str]


def build_mosaics(paths_by_class: Dict[int, Sequence], count: int, tile: int, seed: int = 0) -> List[Mosaic]:
    """``count`` mosaics of held-out images. Mosaic i has corpus class ``classes[i % C]`` (every
    class equally often) in a random quadrant, and three tiles of three other, distinct classes;
    every image is drawn at random. Tiles are resized to ``tile`` x ``tile`` pixels."""
    classes = sorted(c for c, paths in paths_by_class.items() if paths)
    if len(classes) < 4:
        raise ValueError(f"a mosaic needs images of at least 4 classes, got {len(classes)}")
    if count < 1 or tile < 1:
        raise ValueError(f"count and tile must be >= 1, got {count} and {tile}")
    rng = random.Random(seed)
    mosaics = []
    for i in range(count):
        corpus_class = classes[i % len(classes)]
        others = rng.sample([c for c in classes if c != corpus_class], 3)
        quadrant = rng.randrange(4)
        tile_classes = others[:quadrant] + [corpus_class] + others[quadrant:]
        tile_paths = [str(rng.choice(list(paths_by_class[c]))) for c in tile_classes]
        canvas = Image.new("RGB", (2 * tile, 2 * tile))
        for q, path in enumerate(tile_paths):
            with Image.open(path) as image:
                canvas.paste(
                    image.convert("RGB").resize((tile, tile), Image.BILINEAR), ((q % 2) * tile, (q // 2) * tile)
                )
        mosaics.append(Mosaic(canvas, corpus_class, quadrant, tile_classes, tile_paths))
    return mosaics


def quadrant_masses(attributions: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) attributions -> (N, 4) positive mass of each quadrant, after averaging the
    channels and subtracting each map's median (RISE's maps carry a large constant offset; for
    gradient maps the median is about 0)."""
    heat = attributions.float().mean(dim=1)
    heat = heat - heat.flatten(1).median(dim=1).values[:, None, None]
    positive = heat.clamp_min(0)
    h, w = heat.shape[-2] // 2, heat.shape[-1] // 2
    return torch.stack(
        [
            positive[:, :h, :w].sum((1, 2)),
            positive[:, :h, w:].sum((1, 2)),
            positive[:, h:, :w].sum((1, 2)),
            positive[:, h:, w:].sum((1, 2)),
        ],
        dim=1,
    )


def quadrant_of_maximum(attributions: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N,) the quadrant of each channel-averaged map's largest value."""
    heat = attributions.float().mean(dim=1)
    n, height, width = heat.shape
    index = heat.flatten(1).argmax(dim=1)
    rows, cols = index // width, index % width
    return (rows >= height // 2).long() * 2 + (cols >= width // 2).long()


def pointing_scores(attributions: torch.Tensor, quadrants: torch.Tensor) -> Dict[str, torch.Tensor]:
    """``hit`` (N,): the map's maximum lies in the right quadrant; ``mass`` (N,): the share of the
    map's positive mass in it (a map without positive mass scores 0.25)."""
    quadrants = torch.as_tensor(quadrants).long()
    if attributions.ndim != 4 or len(attributions) != len(quadrants):
        raise ValueError(
            f"need (N, C, H, W) attributions and N quadrants, got {tuple(attributions.shape)} and {len(quadrants)}"
        )
    masses = quadrant_masses(attributions)
    total = masses.sum(dim=1)
    right = masses.gather(1, quadrants[:, None]).squeeze(1)
    share = torch.where(total > 0, right / total.clamp_min(1e-30), torch.full_like(total, 0.25))
    return {"hit": quadrant_of_maximum(attributions) == quadrants, "mass": share}


def plot_pointing(rows_by_encoder: Dict[str, Sequence], path: Path) -> Path:
    """The pointing game's figure: per encoder, a few mosaics (corpus tile boxed) and one map
    per method and target. ``rows_by_encoder[name]`` is a list of (image (H, W, 3) in [0, 1],
    quadrant, class name, {column title: (C, H, W) attributions})."""
    from matplotlib.patches import Rectangle

    rows = [(name, *row) for name, encoder_rows in rows_by_encoder.items() for row in encoder_rows]
    columns = 1 + max(len(row[4]) for row in rows)
    fig, axes = subplots(len(rows), columns, squeeze=False, figsize=(1.7 * columns, 1.8 * len(rows)))
    for r, (name, image, quadrant, class_name, maps) in enumerate(rows):
        height, width = image.shape[:2]
        box = ((quadrant % 2) * width / 2 - 0.5, (quadrant // 2) * height / 2 - 0.5)
        axes[r, 0].imshow(image)
        axes[r, 0].set_title(f"{name}: {class_name}"[:28], fontsize=7)
        for c, (title, attribution) in enumerate(maps.items(), start=1):
            attribution_overlay(axes[r, c], image, attribution)
            if r == 0:
                axes[r, c].set_title(title, fontsize=7)
        for ax in axes[r]:
            ax.add_patch(Rectangle(box, width / 2, height / 2, fill=False, edgecolor="lime", linewidth=1.5))
            ax.set_xticks([])
            ax.set_yticks([])
    return save(fig, path)
