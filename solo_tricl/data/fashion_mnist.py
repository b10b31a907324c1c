"""Fashion-MNIST from Debian's ``dataset-fashion-mnist`` (or torchvision's download).

Xiao, Rasul and Vollgraf, "Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine
Learning Algorithms", 2017. 60,000 training and 10,000 test images, 28 x 28 gray, 10 classes.
"""

import gzip
import os
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from solo_tricl.errors import DatasetUnavailable

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def debian_files_present(directory: Path = DEBIAN_DIR) -> bool:
    return all((directory / name).exists() for pair in _FILES.values() for name in pair)


def load(split: str = "train", directory: Optional[Path] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 and labels (N,) int64 of ``split`` (``train`` or ``test``).

    Reads the Debian files (``directory``, default ``/usr/share/datasets/fashion-mnist``);
    where they are absent, downloads with torchvision into ``$SOLO_TRICL_DATA`` (default
    ``~/.cache/solo-tricl``).
    """
    if split not in _FILES:
        raise ValueError(f"split must be one of train, test; got {split!r}")
    directory = Path(directory) if directory is not None else DEBIAN_DIR
    if debian_files_present(directory):
        images_file, labels_file = _FILES[split]
        return _read_idx(directory / images_file), _read_idx(directory / labels_file).astype(np.int64)
    return _download(split)


def _download(split: str) -> Tuple[np.ndarray, np.ndarray]:
    from torchvision.datasets import FashionMNIST

    root = Path(os.environ.get("SOLO_TRICL_DATA", Path.home() / ".cache" / "solo-tricl"))
    try:
        dataset = FashionMNIST(root, train=split == "train", download=True)
    except (OSError, RuntimeError) as error:  # no network, or files that fail torchvision's check
        raise DatasetUnavailable(
            f"Fashion-MNIST is not installed and could not be downloaded ({error}); "
            "install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)"
        ) from None
    return dataset.data.numpy(), dataset.targets.numpy().astype(np.int64)


def class_folder(label: int) -> str:
    """Folder name of a class: its index first, so that ImageFolder keeps the label order."""
    slug = CLASSES[label].lower().replace("/", "_").replace(" ", "_").replace("-", "")
    return f"{label}_{slug}"
