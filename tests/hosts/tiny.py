"""Tiny runs for the checkpoint tests: a config's CPU and size overrides, and the commands that
read a checkpoint back (evaluate, linear --top-k, explain), run in this process as a user runs them."""

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List

from omegaconf import DictConfig, OmegaConf

# the settings of a GPU config that a CPU-only machine needs changed, and the least a run reads
CPU = [
    "accelerator=cpu",
    "devices='1'",
    "strategy=auto",
    "sync_batchnorm=False",
    "precision=32",
    "data.num_workers=0",
    "wandb.enabled=False",
    "auto_resume.enabled=False",
    "optimizer.batch_size=8",
    "max_epochs=1",
    "+limit_train_batches=1",
    "+limit_val_batches=1",
    "++performance.disable_channel_last=True",  # channels-last is slower on a CPU
]
CROP = 32  # every run sees 32 px crops: ImageNet-100's 224 px would only cost time
SMALL = 16  # a method_kwargs size above 32 (a projector's width, a queue, prototypes) shrinks to this


def quote(value) -> str:
    """Paths can hold '=' (solo-learn's checkpoint names do): quote them for hydra."""
    return f"'{value}'"


def shrunk(cfg: DictConfig) -> List[str]:
    """Overrides that make a config's run tiny without changing what it is: every crop 32 px, and
    every ``method_kwargs`` size above 32 (widths, queues, prototypes; a list of them) 16."""
    overrides = [f"augmentations.{i}.crop_size={CROP}" for i in range(len(cfg.augmentations))]
    for key, value in cfg.method_kwargs.items():
        if isinstance(value, int) and not isinstance(value, bool) and value > 32:
            overrides.append(f"method_kwargs.{key}={SMALL}")
        if OmegaConf.is_list(value) and value and all(isinstance(v, int) and v > 32 for v in value):
            overrides.append(f"method_kwargs.{key}=[{','.join(str(SMALL) for _ in value)}]")
    return overrides


@contextmanager
def working_directory(folder: Path) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def run_command(argv: List[str], capfd) -> str:
    """``solo-tricl ARGV`` in this process; its exit status must be 0. Returns its stdout."""
    from solo_tricl.cli import main

    status = main([str(a) for a in argv])
    out, err = capfd.readouterr()
    assert status == 0, f"solo-tricl {' '.join(map(str, argv))} ended with {status}:\n{err[-3000:]}"
    return out


def evaluate(checkpoint: Path, data: Path, out: Path, capfd) -> dict:
    """``solo-tricl evaluate`` of one checkpoint on a few images; its evaluation.json."""
    argv = ["evaluate", checkpoint, "--data", data, "--train-samples", 20, "--test-samples", 10, "--top-k", 2]
    printed = run_command([*argv, "--out", out], capfd)
    report = json.loads((out / "evaluation.json").read_text())["runs"][0]
    assert f"measured on its {report['representation']}" in printed
    return report


def explain(checkpoint: Path, images: Path, corpus: Path, foil: Path, out: Path, capfd) -> dict:
    """``solo-tricl explain`` of one image with RISE and a few masks; its explanations.json."""
    argv = ["explain", checkpoint, "--images", images, "--corpus", corpus, "--foil", foil, "--resize"]
    argv += ["--rise-masks", 8, "--corpus-size", 4, "--foil-size", 8, "--out", out]
    run_command(argv, capfd)
    return json.loads((out / "explanations.json").read_text())


def linear_top_k(family: str, checkpoint: Path, data: Path, out: Path, capfd, k: int = 2) -> str:
    """``solo-tricl linear --top-k K`` on the shipped linear config of ``family``, one step, on
    ``data`` as image folders (solo-learn's ``custom`` dataset)."""
    argv = ["linear", "--config-name", f"{family}/linear", "--top-k", k, *CPU]
    argv += [
        "data.dataset=custom",
        f"data.train_path={quote(data / 'train')}",
        f"data.val_path={quote(data / 'val')}",
        f"++data.augmentations.crop_size={CROP}",
        f"pretrained_feature_extractor={quote(checkpoint)}",
        f"checkpoint.dir={quote(out)}",
        f"++default_root_dir={quote(out)}",
    ]
    return run_command(argv, capfd)
