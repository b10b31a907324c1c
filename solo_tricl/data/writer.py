"""Write the offline datasets in the layouts the hosts read (the library side of ``solo-tricl data``)."""

import json
from pathlib import Path
from typing import Optional

from solo_tricl.common.files import atomic_folder, write_json
from solo_tricl.data import fashion_mnist
from solo_tricl.data.image_folder import sample_per_class, write_split
from solo_tricl.errors import BadInput

DATASETS = {
    "fashion-mnist": "solo-learn `custom` image folders: OUT/train/<class>/*.png, OUT/val/...",
    "fashion-mnist-clip": "OpenCLIP CSV datasets with template captions: OUT/train.csv, "
    "OUT/val.csv (tab-separated filepath, title), OUT/classes.json",
}
MARKER = "solo-tricl-data.json"


def write_dataset(
    dataset: str,
    out: Path,
    train_per_class: Optional[int] = None,
    val_per_class: Optional[int] = None,
    seed: int = 0,
    validation_from_train: bool = False,
) -> bool:
    """Write ``dataset`` to ``out``; False when ``out`` already holds it with these options.

    ``val`` holds the test images, or with ``validation_from_train`` ``val_per_class`` training
    images per class held out of ``train`` (for tuning: the test images are never read).

    Raises:
        ValueError: an unknown dataset or a per-class count below 1.
        FileExistsError: ``out`` holds other files (nothing is changed).
        OutputNotWritten: ``out`` cannot be written. The dataset is written to a temporary folder
            beside ``out`` and renamed when complete, so ``out`` never holds half a dataset.
        fashion_mnist.DatasetUnavailable: the Fashion-MNIST files cannot be found or downloaded.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {dataset!r}")
    for name, value in (("train_per_class", train_per_class), ("val_per_class", val_per_class)):
        if value is not None and value < 1:
            raise BadInput(f"{name} must be >= 1, got {value}")
    if validation_from_train and val_per_class is None:
        raise BadInput("a validation split held out of the training images needs val_per_class")
    out = Path(out)
    request = {"dataset": dataset, "train_per_class": train_per_class, "val_per_class": val_per_class, "seed": seed}
    if validation_from_train:
        request["validation_from_train"] = True
    marker = out / MARKER
    if marker.exists() and json.loads(marker.read_text()) == request:
        return False
    if out.exists() and any(out.iterdir()):
        raise BadInput(f"{out} exists and holds other files; choose a new output folder (nothing was changed)")
    splits = (held_out_splits if validation_from_train else test_splits)(train_per_class, val_per_class, seed)
    with_captions = dataset == "fashion-mnist-clip"
    with atomic_folder(out) as folder:
        for split, (images, labels, keep) in splits.items():
            paths = write_split(folder, split, images[keep], labels[keep], fashion_mnist.class_folder)
            print(f"{split}: {len(paths)} images in {out / split}")
            if with_captions:
                from solo_tricl.data.captions import write_csv

                final_paths = [out / path.relative_to(folder) for path in paths]
                write_csv(folder, split, final_paths, labels[keep], fashion_mnist.CLASSES, seed)
                print(f"{split}: captions in {out / f'{split}.csv'}")
        if with_captions:
            from solo_tricl.data.captions import write_classes

            write_classes(folder, fashion_mnist.CLASSES)
            print(f"classes and templates: {out / 'classes.json'}")
        write_json(folder / MARKER, request)
    return True


def test_splits(train_per_class: Optional[int], val_per_class: Optional[int], seed: int):
    """{split: (images, labels, kept indices)}: ``train`` from the training images, ``val`` from the
    test images, at most the given number per class of each (all with None)."""
    splits = {}
    for split, source, per_class in (("train", "train", train_per_class), ("val", "test", val_per_class)):
        images, labels = fashion_mnist.load(source)
        splits[split] = (images, labels, sample_per_class(labels, per_class, seed))
    return splits


def held_out_splits(train_per_class: Optional[int], val_per_class: int, seed: int):
    """{split: (images, labels, kept indices)}: ``val_per_class`` training images per class for
    ``val``, and from the rest ``train_per_class`` per class (all with None) for ``train``."""
    import numpy as np

    images, labels = fashion_mnist.load("train")
    val = sample_per_class(labels, val_per_class, seed)
    rest = np.setdiff1d(np.arange(len(labels)), val)
    train = rest[sample_per_class(labels[rest], train_per_class, seed)]
    return {"train": (images, labels, train), "val": (images, labels, val)}
