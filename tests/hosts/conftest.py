"""Fixtures of the checkpoint tests: the fewest real images that every command reads, and one
torch thread (a 2-core machine shared with other work runs these tiny models faster on one)."""

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_fashion_mnist(tmp_path_factory) -> Path:
    """Fashion-MNIST in solo-learn's custom layout: 2 train and 1 val images per class (10 classes:
    solo-learn's linear evaluation needs 5, for its top-5 accuracy)."""
    from tests.conftest import fashion_mnist_image_folder

    return fashion_mnist_image_folder(tmp_path_factory.mktemp("tiny-fashion-mnist"), train_per_class=2, val_per_class=1)


@pytest.fixture(autouse=True)
def one_torch_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_fashion_mnist_clip(tmp_path_factory) -> Path:
    """Fashion-MNIST with template captions as OpenCLIP CSVs: 2 train and 1 val image per class."""
    from solo_tricl.cli import main
    from solo_tricl.data import fashion_mnist

    if not fashion_mnist.debian_files_present():
        pytest.skip("Debian's dataset-fashion-mnist is not installed (scripts/setup.sh does it)")
    root = tmp_path_factory.mktemp("tiny-fashion-mnist-clip") / "data"
    assert (
        main(["data", "fashion-mnist-clip", "--out", str(root), "--train-per-class", "2", "--val-per-class", "1"]) == 0
    )
    return root
