"""Image-caption pairs for OpenCLIP's CSV dataset: images with template captions of their class.

The CSV is tab-separated with the columns ``filepath``, ``title`` and ``label``; open_clip_train
reads the first two with ``--csv-img-key filepath --csv-caption-key title`` (its default
separator is a tab), and zero-shot evaluation reads the label.
"""

import csv
import random
from pathlib import Path
from typing import Sequence

import numpy as np

from solo_tricl.common.files import atomic_path, write_json

TEMPLATES = (
    "a photo of a {}.",
    "a black and white photo of a {}.",
    "a low resolution photo of a {}.",
    "a picture of a {}.",
    "a close-up photo of a {}.",
    "a photo of the {}.",
)


def caption_name(class_name: str) -> str:
    """Class names as words in a caption: 'T-shirt/top' -> 't-shirt or top'."""
    return class_name.lower().replace("/", " or ")


def write_csv(
    root: Path,
    split: str,
    image_paths: Sequence[Path],
    labels: np.ndarray,
    class_names: Sequence[str],
    seed: int = 0,
) -> Path:
    """``root/<split>.csv`` with one line per image (its absolute path) and a random template
    caption of its class."""
    rng = random.Random(seed)
    path = root / f"{split}.csv"
    with atomic_path(path) as temporary, temporary.open("w", newline="") as f:
        writer = csv.writer(f, delimiter="\t")
        writer.writerow(["filepath", "title", "label"])
        for image, label in zip(image_paths, labels):
            caption = rng.choice(TEMPLATES).format(caption_name(class_names[label]))
            writer.writerow([str(Path(image).resolve()), caption, int(label)])
    return path


def write_classes(root: Path, class_names: Sequence[str]) -> Path:
    """``root/classes.json``: the class names and templates for zero-shot evaluation."""
    return write_json(
        root / "classes.json", {"classes": [caption_name(c) for c in class_names], "templates": list(TEMPLATES)}
    )
