"""Labelled images as (path, label) items, and encoding them in batches with a progress bar."""

import csv
from pathlib import Path
from typing import List, Optional

import torch
from PIL import Image
from tqdm import tqdm


class LabelledImages(torch.utils.data.Dataset):
    """(transformed image, label) for a list of (path, label)."""

    def __init__(self, items, transform):
        self.items, self.transform = items, transform

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        path, label = self.items[index]
        return self.transform(Image.open(path)), label


def subset(items, limit: Optional[int], seed: int):
    if not items:
        raise ValueError("the dataset is empty: no images were found")
    if limit is not None and limit < len(items):
        keep = torch.randperm(len(items), generator=torch.Generator().manual_seed(seed))[:limit]
        items = [items[i] for i in sorted(keep.tolist())]
    return items


def folder_classes(root: Path) -> List[str]:
    """The class folders of an ImageFolder tree, sorted: label i is the i-th."""
    if not root.is_dir():
        raise ValueError(f"{root} is not a directory of class folders")
    return sorted(d.name for d in root.iterdir() if d.is_dir())


def folder_items(root: Path):
    """(path, label) of an ImageFolder tree, labels by sorted class folder."""
    classes = folder_classes(root)
    return [(p, i) for i, c in enumerate(classes) for p in sorted((root / c).iterdir()) if p.is_file()]


def csv_items(path: Path):
    """(path, label) of a tab-separated CSV with ``filepath`` and ``label`` columns."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    with path.open() as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if rows and not {"filepath", "label"} <= set(rows[0]):
        raise ValueError(f"{path} needs tab-separated columns filepath and label "
                           f"(found: {', '.join(rows[0])})")
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
