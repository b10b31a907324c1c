"""Shared fixtures: small real datasets written once per test session, and a summary line
saying whether the solo-learn tests ran."""

import importlib.util
import os
from pathlib import Path

import pytest


def solo_learn_available() -> bool:
    return importlib.util.find_spec("solo") is not None


SOLO_LEARN_MISSING = "solo-learn is not installed (install solo-learn main from git: see README, Set-up)"


def selected(request, parameter: str):
    """The values of ``parameter`` among this module's tests that this session runs."""
    return [
        item.callspec.params[parameter]
        for item in request.session.items
        if item.module is request.module and parameter in getattr(getattr(item, "callspec", None), "params", {})
    ]


@pytest.fixture(scope="session")
def fashion_mnist_folder(tmp_path_factory) -> Path:
    """Real Fashion-MNIST images in solo-learn's custom layout: 20 train and 10 val per class."""
    return fashion_mnist_image_folder(tmp_path_factory.mktemp("fashion-mnist"), train_per_class=20, val_per_class=10)


def fashion_mnist_image_folder(root: Path, train_per_class: int, val_per_class: int) -> Path:
    """``root`` with real Fashion-MNIST images in solo-learn's custom layout (train/ from the training
    images, val/ from the test images), the same images every session; skips without Debian's data."""
    from solo_tricl.data import fashion_mnist
    from solo_tricl.data.image_folder import sample_per_class, write_split

    if not fashion_mnist.debian_files_present():
        pytest.skip("Debian's dataset-fashion-mnist is not installed (scripts/setup.sh does it)")
    for split, source, per_class in (("train", "train", train_per_class), ("val", "test", val_per_class)):
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
    code = main(["data", "fashion-mnist-clip", "--out", str(root), "--train-per-class", "30", "--val-per-class", "10"])
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


@pytest.fixture(scope="session")
def tricl_run(fashion_mnist_folder, tmp_path_factory):
    """One epoch of triCL on the small real Fashion-MNIST folder, with a checkpoint."""
    if not solo_learn_available():
        pytest.skip(SOLO_LEARN_MISSING)
    from solo_tricl.solo.pretrain import pretrain
    from tests.solo.helpers import pretrain_cfg

    directory = tmp_path_factory.mktemp("tricl-run")
    result = pretrain(pretrain_cfg("tricl", fashion_mnist_folder, directory))
    return {"result": result, "dir": directory}


def solo_learn_reports(terminalreporter):
    """(reports of the tests marked solo_learn, reports of every test skipped for lack of solo-learn
    or of SOLO_LEARN_SRC, whatever its marks)."""
    marked, skipped_for_it = [], []
    for key in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(key, []):
            if report.when not in ("call", "setup"):
                continue
            if report.when == "setup" and report.outcome == "passed":
                continue
            if "solo_learn" in report.keywords:
                marked.append(report)
            if report.outcome == "skipped" and any(
                reason in str(report.longrepr) for reason in (SOLO_LEARN_MISSING, "SOLO_LEARN_SRC")
            ):
                skipped_for_it.append(report)
    return marked, skipped_for_it


# CI sets this when it installed solo-learn from the vendored archive: then a solo-learn test that
# skips (solo-learn or its source tree missing after all) fails the run instead of passing silently
REQUIRE_SOLO_LEARN = "SOLO_TRICL_REQUIRE_SOLO_LEARN"
REQUIRE_OPEN_CLIP = "SOLO_TRICL_REQUIRE_OPEN_CLIP"


def open_clip_summary(terminalreporter) -> None:
    """A line naming the OpenCLIP the tests ran against and the outcomes of the tests marked
    open_clip; with SOLO_TRICL_REQUIRE_OPEN_CLIP=1 (CI) a skipped one fails the run."""
    counts = {}
    for key in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(key, []):
            if "open_clip" in report.keywords and (report.when == "call" or report.outcome != "passed"):
                counts[report.outcome] = counts.get(report.outcome, 0) + 1
    try:
        import open_clip

        version = f"OpenCLIP {open_clip.__version__}"
    except ImportError:
        version = "OpenCLIP NOT installed"
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "none"
    terminalreporter.write_sep("=", f"{version}; OpenCLIP tests: {summary}")
    if os.environ.get(REQUIRE_OPEN_CLIP) == "1" and (counts.get("skipped") or not counts):
        terminalreporter.write_line(
            f"FAILED: {REQUIRE_OPEN_CLIP}=1 but {counts.get('skipped', 0)} OpenCLIP test(s) skipped"
            + ("" if counts else ", and none ran"),
            red=True,
        )
        terminalreporter._session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    open_clip_summary(terminalreporter)
    marked, skipped_for_it = solo_learn_reports(terminalreporter)
    counts = {}
    for report in marked:
        counts[report.outcome] = counts.get(report.outcome, 0) + 1
    state = "installed" if solo_learn_available() else "NOT installed"
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "none"
    terminalreporter.write_sep(
        "=",
        f"solo-learn {state}; solo-learn tests: {summary}; "
        f"skipped for lack of solo-learn or SOLO_LEARN_SRC: {len(skipped_for_it)}",
    )
    main_pretrain = os.environ.get("SOLO_LEARN_SRC")
    if main_pretrain:
        terminalreporter.write_line(f"SOLO_LEARN_SRC={main_pretrain}")
    # a run that selects tests by mark (CI's OpenCLIP main run: -m open_clip) may hold no solo-learn test
    selected_by_mark = bool(terminalreporter.config.option.markexpr)
    if os.environ.get(REQUIRE_SOLO_LEARN) == "1" and (skipped_for_it or not (marked or selected_by_mark)):
        terminalreporter.write_line(
            f"FAILED: {REQUIRE_SOLO_LEARN}=1 but {len(skipped_for_it)} test(s) skipped for "
            "lack of solo-learn or SOLO_LEARN_SRC" + ("" if marked else ", and none ran"),
            red=True,
        )
        # read by pytest for its exit status after the terminal summary is written
        terminalreporter._session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _seeded_global_generators():
    """Every test starts from the same global torch, numpy and random state, so a test that draws
    from them is the same test on every run (a 1-in-4 chance of a near-zero entry once made one
    flaky)."""
    import random

    import numpy as np
    import torch

    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
