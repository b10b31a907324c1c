"""Labelled images as (path, label) items, and encoding them in batches with a progress bar."""

import csv
import os
from pathlib import Path
from typing import List, Optional

import torch
from PIL import Image
from tqdm import tqdm

from solo_tricl.errors import BadInput, InputNotFound


class LabelledImages(torch.utils.data.Dataset):
    """(transformed image, label) for a list of (path, label)."""

    def __init__(self, items, transform):
        self.items, self.transform = items, transform

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        path, label = self.items[index]
        return self.transform(Image.open(path)), label


def subset(items, limit: Optional[int], seed: int, where: str = "the dataset"):
    """Up to ``limit`` of ``items``, drawn with ``seed``; :class:`BadInput` naming ``where`` when
    there are none."""
    if not items:
        raise BadInput(f"{where} holds no images")
    if limit is not None and limit < len(items):
        keep = torch.randperm(len(items), generator=torch.Generator().manual_seed(seed))[:limit]
        items = [items[i] for i in sorted(keep.tolist())]
    return items


def folder_classes(root: Path, key: str = "") -> List[str]:
    """The class folders of an ImageFolder tree, sorted: label i is the i-th."""
    root = Path(root)
    named = f"{key}={root}" if key else str(root)
    if not root.is_dir():
        raise BadInput(f"{named} is not a folder of class folders")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir())
    if not classes:
        raise BadInput(f"{named} holds no class folders (expected {root}/<class>/<image>)")
    return classes


def folder_items(root: Path, key: str = ""):
    """(path, label) of an ImageFolder tree, labels by sorted class folder, images found as
    ImageFolder finds them (sorted walk, image extensions); a class folder without images is an
    error, as in ImageFolder."""
    from torchvision.datasets.folder import IMG_EXTENSIONS

    items = []
    for label, name in enumerate(folder_classes(root, key)):
        images = [
            (Path(folder) / file, label)
            for folder, _, files in sorted(os.walk(Path(root) / name, followlinks=True))
            for file in sorted(files)
            if file.lower().endswith(IMG_EXTENSIONS)
        ]
        if not images:
            raise BadInput(f"class folder {Path(root) / name} holds no images")
        items += images
    return items


def require_same_classes(train: Path, val: Path) -> List[str]:
    """The class folders of ``train``, which ``val`` must hold too: labels are positions in the
    sorted class list, so any difference would score predictions against the wrong labels."""
    classes, val_classes = folder_classes(train), folder_classes(val)
    if classes != val_classes:
        only_train = sorted(set(classes) - set(val_classes))
        only_val = sorted(set(val_classes) - set(classes))
        raise BadInput(
            f"{train} and {val} hold different classes (only in train: {', '.join(only_train) or '-'}; "
            f"only in val: {', '.join(only_val) or '-'}): labels would not match"
        )
    return classes


def require_known_labels(train_items, val_items, what: str) -> None:
    """Every label of ``val_items`` must occur in ``train_items`` (CSV data, labels by number)."""
    unknown = sorted({label for _, label in val_items} - {label for _, label in train_items})
    if unknown:
        raise BadInput(f"{what}: labels {unknown} occur in the validation data but not in the training data")


_DECODED = set()  # (path, size, mtime) of every image this process has decoded: a bench checks its data once


def require_readable_images(paths, what: str) -> None:
    """Decode every image (once per process while it is unchanged); a ValueError names ``what``
    and the first file that cannot be read."""
    for path in paths:
        try:
            stat = os.stat(path)
            key = (str(path), stat.st_size, stat.st_mtime_ns)
            if key in _DECODED:
                continue
            with Image.open(path) as image:
                image.load()
            _DECODED.add(key)
        except (OSError, SyntaxError, ValueError) as error:
            raise BadInput(
                f"{what}: cannot read image {path} ({' '.join(str(error).split()) or type(error).__name__})"
            ) from None


def csv_items(path: Path):
    """(path, label) of a tab-separated CSV with ``filepath`` and ``label`` columns."""
    path = Path(path)
    if not path.is_file():
        raise InputNotFound(f"{path} does not exist")
    with path.open() as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if rows and not {"filepath", "label"} <= set(rows[0]):
        raise BadInput(f"{path} needs tab-separated columns filepath and label (found: {', '.join(rows[0])})")
    return [(row["filepath"], int(row["label"])) for row in rows]


@torch.no_grad()
def encode_items(items, transform, encode, batch_size, desc):
    """``encode`` applied to the transformed images of (path, label) items in batches, with a
    progress bar: ((N, ...) outputs, or a tuple of them when ``encode`` returns a tuple; (N,) labels)."""
    loader = torch.utils.data.DataLoader(LabelledImages(items, transform), batch_size=batch_size)
    outputs, labels = [], []
    for images, targets in tqdm(loader, desc=desc, unit="batch"):
        outputs.append(encode(images))
        labels.append(targets)
    labels = torch.cat(labels)
    if isinstance(outputs[0], tuple):
        return tuple(torch.cat(part) for part in zip(*outputs)), labels
    return torch.cat(outputs), labels
