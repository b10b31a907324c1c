"""The README's OpenCLIP training command, at a tiny size, trains: zero-shot beats chance."""

import json
import re
import shlex
from pathlib import Path

import pytest

from solo_tricl.cli import main
from tests.clip.helpers import clip_train, open_clip  # noqa: F401

README = Path(__file__).resolve().parents[2] / "README.md"
TINY = {"--epochs": "3", "--batch-size": "32", "--warmup": "2", "--lr": "2e-3"}


def readme_open_clip_args(data: Path, logs: Path):
    """The README's ``OC=...`` options with this test's data, logs and tiny sizes."""
    match = re.search(r'OC="(.*?)"', README.read_text(), re.S)
    args = shlex.split(match.group(1).replace("\\\n", " "))
    assert "--warmup" in args, "the README's OpenCLIP command must pass --warmup"
    for flag, value in {**TINY, "--train-data": str(data / "train.csv"), "--logs": str(logs)}.items():
        args[args.index(flag) + 1] = value
    return args + ["--workers", "0", "--seed", "0"]


@pytest.mark.slow
def test_the_readme_open_clip_command_beats_chance_at_zero_shot(fashion_mnist_clip_folder, tmp_path):
    logs = tmp_path / "logs"
    clip_train(
        ["--loss", "tricl", "--decorrelation", "isotropic", "--importance-init-std", "0.1"],
        readme_open_clip_args(fashion_mnist_clip_folder, logs) + ["--name", "tricl"],
    )
    out = tmp_path / "zs.json"
    assert (
        main(
            [
                "clip-zeroshot",
                str(logs / "tricl" / "checkpoints" / "epoch_3.pt"),
                "--data",
                str(fashion_mnist_clip_folder / "val.csv"),
                "--json",
                str(out),
            ]
        )
        == 0
    )
    result = json.loads(out.read_text())
    # 100 test images, chance 0.1: 18 or more right by chance has probability below 1%
    assert result["accuracy"] >= 0.18, result
