"""Running ``solo-tricl clip-train`` in a subprocess, as a user would."""

import subprocess
import sys
from pathlib import Path
from typing import List, Sequence

import pytest
import torch

open_clip = pytest.importorskip("open_clip", reason="open_clip_torch is not installed (the clip extra)")


def train_args(data: Path, logs: Path, name: str, epochs: int = 1, extra: Sequence[str] = ()) -> List[str]:
    return [
        "--model",
        "solo-tricl-tiny",
        "--train-data",
        str(data / "train.csv"),
        "--csv-img-key",
        "filepath",
        "--csv-caption-key",
        "title",
        "--epochs",
        str(epochs),
        "--batch-size",
        "32",
        "--device",
        "cpu",
        "--workers",
        "0",
        "--logs",
        str(logs),
        "--name",
        name,
        "--save-most-recent",
        "--lr",
        "2e-3",
        "--warmup",
        "2",
        "--seed",
        "0",
        *extra,
    ]


def clip_train(loss_args: Sequence[str], open_clip_args: Sequence[str], env=None, check=True):
    command = [sys.executable, "-m", "solo_tricl.cli", "clip-train", *loss_args, "--", *open_clip_args]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def checkpoint(logs: Path, name: str, epoch) -> dict:
    """An OpenCLIP checkpoint, its state-dict keys without DDP's ``module.`` prefix."""
    saved = torch.load(logs / name / "checkpoints" / f"epoch_{epoch}.pt", map_location="cpu", weights_only=False)
    saved["state_dict"] = {k.removeprefix("module."): v for k, v in saved["state_dict"].items()}
    return saved
