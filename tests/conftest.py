"""Shared fixtures: small real datasets written once per test session, and a summary line
saying whether the solo-learn tests ran."""

import importlib.util
import os
from pathlib import Path

import pytest


def solo_learn_available() -> bool:
    return importlib.util.find_spec("solo") is not None


SOLO_LEARN_MISSING = (
    "solo-learn is not installed (install solo-learn main from git: see README, Set-up)"
)


@pytest.fixture(scope="session")
def fashion_mnist_folder(tmp_path_factory) -> Path:
    """Real Fashion-MNIST images in solo-learn's custom layout: 20 train and 10 val per class."""
    from solo_tricl.data import fashion_mnist
    from solo_tricl.data.image_folder import sample_per_class, write_split

    if not fashion_mnist.debian_files_present():
        pytest.skip("Debian's dataset-fashion-mnist is not installed (scripts/setup.sh does it)")
    root = tmp_path_factory.mktemp("fashion-mnist")
    for split, source, per_class in (("train", "train", 20), ("val", "test", 10)):
        images, labels = fashion_mnist.load(source)
        keep = sample_per_class(labels, per_class, seed=0)
        write_split(root, split, images[keep], labels[keep], fashion_mnist.class_folder)
    return root


@pytest.fixture(scope="session")
def fashion_mnist_clip_folder(tmp_path_factory) -> Path:
    """Real Fashion-MNIST images with template captions as OpenCLIP CSVs: 30 train, 10 val per class."""
    from solo_tricl.cli import main

    from solo_tricl.data import fashion_mnist

    if not fashion_mnist.debian_files_present():
        pytest.skip("Debian's dataset-fashion-mnist is not installed (scripts/setup.sh does it)")
    root = tmp_path_factory.mktemp("fashion-mnist-clip") / "data"
    code = main(["data", "fashion-mnist-clip", "--out", str(root), "--train-per-class", "30",
                 "--val-per-class", "10"])
    assert code == 0
    return root


@pytest.fixture(scope="session")
def clip_tricl_checkpoint(fashion_mnist_clip_folder, tmp_path_factory) -> Path:
    """A solo-tricl-tiny CLIP trained with triCL for 2 epochs by ``solo-tricl clip-train``."""
    pytest.importorskip("open_clip", reason="open_clip_torch is not installed (the clip extra)")
    from tests.clip.helpers import clip_train, train_args

    logs = tmp_path_factory.mktemp("clip-logs")
    clip_train(["--loss", "tricl"], train_args(fashion_mnist_clip_folder, logs, "tricl", epochs=2))
    return logs / "tricl" / "checkpoints" / "epoch_2.pt"


def pytest_terminal_summary(terminalreporter):
    reports = [
        report
        for key in ("passed", "failed", "skipped", "error")
        for report in terminalreporter.stats.get(key, [])
        if report.when in ("call", "setup") and "solo_learn" in report.keywords
    ]
    counts = {}
    for report in reports:
        if report.when == "setup" and report.outcome == "passed":
            continue
        counts[report.outcome] = counts.get(report.outcome, 0) + 1
    state = "installed" if solo_learn_available() else "NOT installed"
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "none"
    terminalreporter.write_sep("=", f"solo-learn {state}; solo-learn tests: {summary}")
    main_pretrain = os.environ.get("SOLO_LEARN_SRC")
    if main_pretrain:
        terminalreporter.write_line(f"SOLO_LEARN_SRC={main_pretrain}")
