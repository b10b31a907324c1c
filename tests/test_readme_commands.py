"""Every ``solo-tricl`` command and ``python benchmarks/...`` script in the README runs, at a tiny size, in the order a reader meets
them, in one working directory (so relative paths mean what the README says).

Each command is read from the README; the table below only names its placeholders and adds
the options that make it tiny. A README command without an entry, or an entry whose command left
the README, fails ``test_every_readme_command_has_a_tiny_run``.
"""

import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest

from solo_tricl.cli import main
from tests.bench.test_bench_small import assert_every_table_and_picture, assert_the_cost_table
from tests.conftest import SOLO_LEARN_MISSING, solo_learn_available
from tests.readme import README, readme_commands

REPO = README.parent
TINY_PRETRAIN = ["max_epochs=1", "optimizer.batch_size=32", "data.num_workers=0"]
TINY_LINEAR = ["max_epochs=1", "optimizer.batch_size=64", "data.num_workers=0"]
TINY_CLIP = {"--epochs": "2", "--batch-size": "32", "--warmup": "2"}
TINY_BENCH = [
    "--epochs",
    "1",
    "--fraction",
    "0.003",
    "--eval-train",
    "300",
    "--eval-test",
    "200",
    "--work",
    "bench-work",
]
CLIP_CHECKPOINT = f"logs/tricl/checkpoints/epoch_{TINY_CLIP['--epochs']}.pt"


@dataclass
class Tiny:
    """How this test runs one README command: tokens replaced (a token -> its replacement
    tokens; ``{name}`` fields come from earlier steps), values of flags replaced, options
    appended, a step before and a step after it, and a path that must exist afterwards."""

    replace: Dict[str, List[str]] = field(default_factory=dict)
    values: Dict[str, str] = field(default_factory=dict)
    append: List[str] = field(default_factory=list)
    setup: Optional[Callable[[dict], None]] = None
    after: Optional[Callable[[dict], None]] = None
    creates: Optional[str] = None
    needs_gpu: bool = False


def main_job_checkpoint(state):
    """The main job's checkpoint, for the commands that read it; and its importance plot."""
    state["ckpt"] = str(next(Path("trained_models/tricl").glob("*/*.ckpt")))
    assert list(Path("trained_models/tricl").glob("*/importance.png"))


def copy_configs(state):
    shutil.copytree(REPO / "configs" / "pretrain" / "fashion_mnist", "my/configs")


def some_images(state):
    Path("my_images").mkdir()
    for path in sorted(Path("datasets/fashion-mnist/val/5_sandal").iterdir())[:2]:
        shutil.copy(path, "my_images")


def second_seed(state):
    assert (
        main(["pretrain", "--config-name", "fashion_mnist/tricl", "+seed=1", "checkpoint.dir=seed1", *TINY_PRETRAIN])
        == 0
    )
    state["ckpt_seed1"] = str(next(Path("seed1").rglob("*.ckpt")))


def clip_tiny(name):
    return Tiny(
        values=TINY_CLIP,
        append=["--workers", "0", "--seed", "0"],
        creates=f"logs/{name}/checkpoints/epoch_{TINY_CLIP['--epochs']}.pt",
    )


LINEAR_ARGS = ["--config-name", "fashion_mnist/linear", "pretrained_feature_extractor='{ckpt}'"]
OC = (
    "--model solo-tricl-tiny --train-data datasets/fmnist-clip/train.csv --csv-img-key filepath "
    "--csv-caption-key title --epochs 10 --batch-size 64 --lr 1e-3 --warmup 20 --device cpu --logs logs"
)

TINY = {
    "data fashion-mnist --out datasets/fashion-mnist": Tiny(
        append=["--train-per-class", "30", "--val-per-class", "10"], creates="datasets/fashion-mnist/val"
    ),
    "pretrain --config-name fashion_mnist/tricl max_epochs=5 data.fraction=0.1": Tiny(
        replace={"max_epochs=5": [], "data.fraction=0.1": []}, append=TINY_PRETRAIN, after=main_job_checkpoint
    ),
    "pretrain --config-name fashion_mnist/ncl max_epochs=20": Tiny(
        replace={"max_epochs=20": []}, append=TINY_PRETRAIN, creates="trained_models/ncl"
    ),
    "pretrain --config-path my/configs --config-name tricl.yaml data.train_path=...": Tiny(
        replace={"data.train_path=...": ["data.train_path=datasets/fashion-mnist/train"]},
        append=TINY_PRETRAIN,
        setup=copy_configs,
    ),
    "linear --config-name fashion_mnist/linear pretrained_feature_extractor='trained_models/tricl/<run>/<name>-ep=4.ckpt'": Tiny(
        replace={
            "pretrained_feature_extractor='trained_models/tricl/<run>/<name>-ep=4.ckpt'": [
                "pretrained_feature_extractor='{ckpt}'"
            ]
        },
        append=TINY_LINEAR,
    ),
    "linear --config-name fashion_mnist/linear --top-k 20 --order importance pretrained_feature_extractor=...": Tiny(
        replace={"pretrained_feature_extractor=...": ["pretrained_feature_extractor='{ckpt}'"]}, append=TINY_LINEAR
    ),
    "linear ... --top-k 20 --order random": Tiny(replace={"...": LINEAR_ARGS}, append=TINY_LINEAR),
    "data fashion-mnist-clip --out datasets/fmnist-clip --train-per-class 500 --val-per-class 100": Tiny(
        values={"--train-per-class": "30", "--val-per-class": "10"}, creates="datasets/fmnist-clip/train.csv"
    ),
    f"clip-train --loss clip -- {OC} --name clip": clip_tiny("clip"),
    f"clip-train --loss tricl --decorrelation isotropic --importance-init-std 0.1 -- {OC} --name tricl": clip_tiny(
        "tricl"
    ),
    f"clip-train --loss ncl --non-neg rep_relu -- {OC} --name ncl": clip_tiny("ncl"),
    f"clip-train --loss kernel --gamma 1.0 -- {OC} --name kernel": clip_tiny("kernel"),
    f"clip-train --loss mrl -- {OC} --name mrl": clip_tiny("mrl"),
    f"clip-train --loss clip -- {OC} --siglip --name siglip": clip_tiny("siglip"),
    "clip-zeroshot logs/tricl/checkpoints/epoch_10.pt --data datasets/fmnist-clip/val.csv --top-k 4 8 16": Tiny(
        replace={"logs/tricl/checkpoints/epoch_10.pt": [CLIP_CHECKPOINT]}
    ),
    "explain trained_models/tricl/<run>/<name>-ep=4.ckpt --images datasets/fashion-mnist/val/5_sandal "
    "--corpus datasets/fashion-mnist/train/5_sandal --foil datasets/fashion-mnist/train --methods rise ig "
    "gradshap --evaluate --sanity-check --out explanations": Tiny(
        replace={"trained_models/tricl/<run>/<name>-ep=4.ckpt": ["{ckpt}"]},
        append=["--corpus-size", "10", "--foil-size", "40", "--rise-masks", "200"],
        creates="explanations/explanations.json",
    ),
    "explain logs/tricl/checkpoints/epoch_10.pt --images my_images/ --corpus-text a photo of a sandal. "
    "--foil-text a photo of a bag. a photo of a coat. --out explanations": Tiny(
        replace={"logs/tricl/checkpoints/epoch_10.pt": [CLIP_CHECKPOINT]},
        append=["--rise-masks", "200"],
        setup=some_images,
        creates="explanations/explanations.json",
    ),
    "evaluate trained_models/tricl/<seed0>/x.ckpt trained_models/tricl/<seed1>/y.ckpt --data datasets/fashion-mnist "
    "--gallery 8": Tiny(
        replace={
            "trained_models/tricl/<seed0>/x.ckpt": ["{ckpt}"],
            "trained_models/tricl/<seed1>/y.ckpt": ["{ckpt_seed1}"],
        },
        append=["--train-samples", "200", "--test-samples", "100"],
        setup=second_seed,
        creates="evaluation/identifiability.png",
    ),
    "evaluate trained_models/tricl/<seed0>/x.ckpt trained_models/tricl/<seed1>/y.ckpt --data datasets/fashion-mnist "
    "--order canonical": Tiny(
        replace={
            "trained_models/tricl/<seed0>/x.ckpt": ["{ckpt}"],
            "trained_models/tricl/<seed1>/y.ckpt": ["{ckpt_seed1}"],
        },
        append=[
            "--train-samples",
            "300",
            "--test-samples",
            "100",
            "--basis-images",
            "300",
            "--out",
            "evaluation-canonical",
        ],
        creates="evaluation-canonical/invariance-spectrum.png",
    ),
    "evaluate trained_models/tricl/<seed0>/x.ckpt --data datasets/fashion-mnist --order pca": Tiny(
        replace={"trained_models/tricl/<seed0>/x.ckpt": ["{ckpt}"]},
        append=["--train-samples", "200", "--test-samples", "100", "--out", "evaluation-pca"],
        creates="evaluation-pca/evaluation.json",
    ),
    "benchmarks/cocoa_pointing.py --solo bench-work/solo/tricl-seed0/tricl/0/tricl-seed0-0-ep=5.ckpt --solo-data "
    "bench-work/data/fashion-mnist --clip bench-work/clip/tricl/checkpoints/epoch_10.pt --clip-data "
    "bench-work/data/fashion-mnist-clip --out benchmarks/results": Tiny(
        replace={
            "bench-work/solo/tricl-seed0/tricl/0/tricl-seed0-0-ep=5.ckpt": ["{ckpt}"],
            "bench-work/data/fashion-mnist": ["datasets/fashion-mnist"],
            "bench-work/clip/tricl/checkpoints/epoch_10.pt": [CLIP_CHECKPOINT],
            "bench-work/data/fashion-mnist-clip": ["datasets/fmnist-clip"],
            "benchmarks/results": ["pointing"],
        },
        append=[
            "--mosaics",
            "4",
            "--rise-masks",
            "40",
            "--ig-steps",
            "4",
            "--gradshap-samples",
            "4",
            "--corpus-size",
            "5",
            "--foil-size",
            "20",
        ],
        creates="pointing/cocoa_pointing.md",
    ),
    "benchmarks/cocoa_deletion_gap.py bench-work/solo/tricl-seed0/tricl/0/tricl-seed0-0-ep=5.ckpt --data "
    "bench-work/data/fashion-mnist --out benchmarks/results": Tiny(
        replace={
            "bench-work/solo/tricl-seed0/tricl/0/tricl-seed0-0-ep=5.ckpt": ["{ckpt}"],
            "bench-work/data/fashion-mnist": ["datasets/fashion-mnist"],
            "benchmarks/results": ["deletion-gap"],
        },
        append=["--explicands", "2", "--variants", "16 steps/samples"],
        creates="deletion-gap/cocoa_deletion_gap.md",
    ),
    "bench --tune --out benchmarks/results": Tiny(
        replace={"benchmarks/results": ["tuning"]},
        append=[
            "--methods",
            "simclr",
            "tricl",
            "--clip-losses",
            "clip",
            "--clip-epochs",
            "1",
            "--lr-factors",
            "1",
            *TINY_BENCH,
        ],
        creates="tuning/tuning.md",
    ),
    "bench --out benchmarks/results": Tiny(
        replace={"benchmarks/results": ["bench-full"]},
        append=[
            "--methods",
            "simclr",
            "tricl",
            "--seeds",
            "0",
            "1",
            "--clip-losses",
            "clip",
            "--clip-epochs",
            "1",
            "--no-noise-floor",
            "--cost-repeats",
            "1",
            *TINY_BENCH,
        ],
        creates="bench-full/bench.md",
        after=lambda state: assert_the_cost_table(Path("bench-full"), ["simclr", "tricl"]),
    ),
    "bench --methods simclr byol tricl mrl --clip-losses siglip mrl --epochs 1 --fraction 0.01 --eval-train 600 "
    "--eval-test 500 --seeds 0 1": Tiny(
        values={"--fraction": "0.003", "--eval-test": "200"},
        append=["--clip-epochs", "1", "--cost-repeats", "0", "--out", "bench-smoke", "--work", "bench-work"],
        creates="bench-smoke/bench.md",
        after=lambda state: assert_every_table_and_picture(Path("bench-smoke")),
    ),
    "bench --budget 20 --accelerator gpu": Tiny(needs_gpu=True),
    "benchmarks/gpu_check.py --out benchmarks/results": Tiny(
        replace={"benchmarks/results": ["gpu-check"]},
        append=["--device", "cpu", "--tiny"],
        creates="gpu-check/gpu_check.md",
    ),
}

COMMANDS = readme_commands()


def tiny_argv(command: List[str], tiny: Tiny, state: dict) -> List[str]:
    argv = []
    for token in command:
        argv += tiny.replace.get(token, [token])
    for flag, value in tiny.values.items():
        argv[argv.index(flag) + 1] = value
    return [token.format(**state) if "{" in token else token for token in argv + tiny.append]


def test_every_readme_command_has_a_tiny_run():
    seen = [" ".join(command) for command in COMMANDS]
    assert [c for c in seen if c not in TINY] == [], "README commands without a tiny run in this test"
    assert [c for c in TINY if c not in seen] == [], "tiny runs of commands no longer in the README"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from solo_tricl.data import fashion_mnist

    if not fashion_mnist.debian_files_present():
        pytest.skip("Debian's dataset-fashion-mnist is not installed (scripts/setup.sh does it)")
    if not solo_learn_available():
        pytest.skip(SOLO_LEARN_MISSING)
    return {"dir": tmp_path_factory.mktemp("readme"), "state": {}, "failed": []}


@pytest.mark.slow
@pytest.mark.solo_learn
@pytest.mark.parametrize("index", range(len(COMMANDS)), ids=[" ".join(c[:2]) for c in COMMANDS])
def test_the_readme_command_runs_at_a_tiny_size(index, workspace, monkeypatch):
    import torch

    command = COMMANDS[index]
    tiny = TINY[" ".join(command)]
    if tiny.needs_gpu and not torch.cuda.is_available():
        pytest.skip("needs a GPU: " + " ".join(command))
    if workspace["failed"]:
        pytest.skip(f"an earlier README command failed: {workspace['failed'][0]}")
    monkeypatch.chdir(workspace["dir"])
    try:
        if tiny.setup:
            tiny.setup(workspace["state"])
        argv = tiny_argv(command, tiny, workspace["state"])
        if argv[0].startswith("benchmarks/"):
            result = subprocess.run([sys.executable, str(REPO / argv[0]), *argv[1:]], capture_output=True, text=True)
            assert result.returncode == 0, f"python {' '.join(argv)} failed: {result.stderr[-3000:]}"
        else:
            assert main(argv) == 0, f"solo-tricl {' '.join(argv)} failed"
        if tiny.creates:
            assert Path(tiny.creates).exists(), f"solo-tricl {' '.join(argv)} did not write {tiny.creates}"
        if tiny.after:
            tiny.after(workspace["state"])
    except BaseException:
        workspace["failed"].append(" ".join(command))
        raise
