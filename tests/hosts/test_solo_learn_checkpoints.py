"""solo-learn's own checkpoints load, generated from its registry: every method in
``solo.methods.METHODS`` (solo-tricl's own aside) trains one step with solo-learn's unmodified
``main_pretrain.py`` and its own CIFAR config, then ``evaluate``, ``linear --top-k`` and
``explain`` read the checkpoint, each on the representation the method's authors evaluate."""

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import selected, solo_learn_available
from tests.hosts.tiny import evaluate, explain, linear_top_k
from tests.solo.helpers import needs_solo_learn

pytestmark = [*needs_solo_learn, pytest.mark.slow]

SOLO_LEARN_SRC = Path(os.environ.get("SOLO_LEARN_SRC", "/nonexistent"))
OURS = {e.name for e in importlib.metadata.entry_points(group="solo.methods")}


def host_methods():
    """solo-learn's pretraining methods: its METHODS less its base classes and the plugins'."""
    if not solo_learn_available():
        return []
    from solo.methods import METHODS

    return sorted(m for m in METHODS if m not in ("base", "linear") and m not in OURS)


METHODS = host_methods()
# what each method is measured on: DINO's projection is its head; MAE has neither a projector nor a head
REPRESENTATION = {"dino": "DINO head", "mae": "backbone"}


WORKERS = 2  # training processes, each taking every WORKERS-th method


@pytest.fixture(scope="module")
def trained(request, tiny_fashion_mnist, tmp_path_factory):
    """({method: its checkpoint or error}, the trainings' log), every method trained by
    train_with_solo_learn.py in WORKERS processes."""
    if not (SOLO_LEARN_SRC / "main_pretrain.py").exists():
        pytest.skip("set SOLO_LEARN_SRC to a solo-learn checkout: main_pretrain.py and scripts/ are not installed")
    methods = selected(request, "method")
    out = tmp_path_factory.mktemp("solo-learn-runs")
    script = Path(__file__).with_name("train_with_solo_learn.py")
    workers = []
    for i in range(WORKERS):
        (out / str(i)).mkdir()
        command = [sys.executable, str(script), str(SOLO_LEARN_SRC), str(tiny_fashion_mnist), str(out / str(i))]
        workers.append(
            subprocess.Popen(
                command + methods[i::WORKERS],
                cwd=out / str(i),
                env={**os.environ, "OMP_NUM_THREADS": "1"},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    written, log = {}, ""
    for worker in workers:
        stdout, stderr = worker.communicate()
        assert worker.returncode == 0, stderr[-3000:]
        written.update(json.loads(stdout.strip().splitlines()[-1]))
        log += stderr
    return written, log


def test_every_method_of_the_registry_is_covered():
    assert len(METHODS) >= 19 and {"simclr", "dino", "mae", "simsiam", "swav", "wmse"} <= set(METHODS)


@pytest.mark.parametrize("method", METHODS)
def test_a_solo_learn_checkpoint_loads_everywhere(method, trained, tiny_fashion_mnist, tmp_path, capfd):
    from solo_tricl.common.torch_files import globals_needed

    written, log = trained
    assert "checkpoint" in written[method], f"{written[method]}\n{log[-3000:]}"
    checkpoint = Path(written[method]["checkpoint"])
    data = tiny_fashion_mnist
    if method in ("simsiam", "nnsiam"):
        # a fixed-lr predictor: the checkpoint pickles its scheduler's functools.partial
        assert "functools.partial" in globals_needed(checkpoint)

    report = evaluate(checkpoint, data, tmp_path / "evaluation", capfd)
    assert report["method"] == method
    assert report["representation"] == REPRESENTATION.get(method, "projector output")
    assert 0 <= report["orders"]["importance"]["curves"]["linear"][str(report["features"])] <= 1

    printed = linear_top_k("cifar", checkpoint, data, tmp_path / "linear", capfd)
    assert f"probed 2 features of its {report['representation']}" in printed

    sandal = sorted((data / "val" / "5_sandal").iterdir())[0]
    explained = explain(checkpoint, sandal, data / "train" / "5_sandal", data / "train", tmp_path / "explain", capfd)
    assert len(explained["images"]) == 1
