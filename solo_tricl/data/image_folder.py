"""Write arrays of images as the ``root/<split>/<class>/<n>.png`` tree that solo-learn's
``custom`` dataset (torchvision's ImageFolder) reads."""

from pathlib import Path
from typing import Callable, List, Optional

import numpy as np
from PIL import Image
from tqdm import tqdm


def sample_per_class(labels: np.ndarray, per_class: Optional[int], seed: int = 0) -> np.ndarray:
    """Indices of at most ``per_class`` random samples of each class (all with None), sorted."""
    if per_class is None:
        return np.arange(len(labels))
    if per_class < 1:
        raise ValueError(f"per_class must be >= 1, got {per_class}")
    rng = np.random.default_rng(seed)
    chosen = [rng.permutation(np.flatnonzero(labels == label))[:per_class] for label in np.unique(labels)]
    return np.sort(np.concatenate(chosen))


def write_split(
    root: Path,
    split: str,
    images: np.ndarray,
    labels: np.ndarray,
    folder_of: Callable[[int], str],
    desc: str = "",
) -> List[Path]:
    """Write ``images`` (N, H, W[, C]) uint8 under ``root/split/<folder_of(label)>/``.

    Returns the written paths, in the order of ``images``.
    """
    for label in np.unique(labels):
        (root / split / folder_of(int(label))).mkdir(parents=True, exist_ok=True)
    paths = []
    for n, (image, label) in enumerate(
        tqdm(zip(images, labels), total=len(labels), desc=desc or f"writing {split}", unit="img")
    ):
        paths.append(root / split / folder_of(int(label)) / f"{n:05d}.png")
        Image.fromarray(image).save(paths[-1])
    return paths
