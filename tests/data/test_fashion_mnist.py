import numpy as np
import pytest

from solo_tricl.cli import main
from solo_tricl.data import fashion_mnist
from solo_tricl.data.image_folder import sample_per_class

needs_debian_files = pytest.mark.skipif(
    not fashion_mnist.debian_files_present(),
    reason="Debian's dataset-fashion-mnist is not installed (scripts/setup.sh does it)",
)


@needs_debian_files
@pytest.mark.parametrize("split,count", [("train", 60_000), ("test", 10_000)])
def test_reads_the_debian_files(split, count):
    images, labels = fashion_mnist.load(split)
    assert images.shape == (count, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [count // 10] * 10


def test_class_folders_sort_in_label_order():
    folders = [fashion_mnist.class_folder(i) for i in range(10)]
    assert sorted(folders) == folders and folders[0] == "0_tshirt_top"


def test_sample_per_class_is_balanced_and_seeded():
    labels = np.repeat(np.arange(3), 50)
    keep = sample_per_class(labels, 7, seed=1)
    assert np.bincount(labels[keep]).tolist() == [7, 7, 7]
    assert np.array_equal(keep, sample_per_class(labels, 7, seed=1))
    assert not np.array_equal(keep, sample_per_class(labels, 7, seed=2))


@needs_debian_files
def test_cli_writes_solo_custom_layout_and_a_rerun_is_a_no_op(tmp_path, capsys):
    out = tmp_path / "fm"
    args = ["data", "fashion-mnist", "--out", str(out), "--train-per-class", "3", "--val-per-class", "2"]
    assert main(args) == 0
    assert len(list((out / "train").glob("*/*.png"))) == 30
    assert len(list((out / "val").glob("*/*.png"))) == 20
    assert sorted(p.name for p in (out / "train").iterdir())[0] == "0_tshirt_top"
    assert main(args) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_cli_refuses_a_directory_with_other_files(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["data", "fashion-mnist", "--out", str(tmp_path)]) == 2
    assert "holds other files" in capsys.readouterr().err
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_cli_rejects_a_non_positive_sample_size(tmp_path, capsys):
    assert main(["data", "fashion-mnist", "--out", str(tmp_path / "x"), "--train-per-class", "0"]) == 2
    assert "--train-per-class must be >= 1, got 0" in capsys.readouterr().err
