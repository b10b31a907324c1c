"""Every bad input a review found, run as a user runs it: ``solo-tricl`` in a fresh folder. Each
must print one line, ``solo-tricl <command>: error: ...``, exit with status 2, print no
traceback, and leave no file behind."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SOLO_LEARN_MISSING, solo_learn_available

pytestmark = pytest.mark.slow

OPEN_CLIP = ["--model", "solo-tricl-tiny", "--train-data", "{clip}/train.csv", "--csv-img-key", "filepath",
             "--csv-caption-key", "title", "--epochs", "1", "--batch-size", "32", "--device", "cpu",
             "--workers", "0", "--logs", "logs", "--name", "run"]


def garbage_solo_checkpoint(folder: Path, args_json: str = '{"method": "tricl"}'):
    (folder / "run").mkdir()
    (folder / "run" / "x.ckpt").write_text("not a checkpoint")
    (folder / "run" / "args.json").write_text(args_json)


def garbage_clip_checkpoint(folder: Path):
    (folder / "logs" / "run" / "checkpoints").mkdir(parents=True)
    (folder / "logs" / "run" / "checkpoints" / "epoch_1.pt").write_text("not a checkpoint")
    (folder / "logs" / "run" / "solo_tricl.json").write_text(json.dumps({"loss": "tricl", "model": "solo-tricl-tiny"}))


CASES = {
    "clip-train --resume of a missing file":
        (["clip-train", "--loss", "tricl", "--", *OPEN_CLIP, "--resume", "missing.pt"], None, "missing.pt"),
    "clip-train --resume of a garbage file":
        (["clip-train", "--loss", "tricl", "--", *OPEN_CLIP, "--resume", "garbage.pt"],
         lambda d: (d / "garbage.pt").write_text("garbage"), "garbage.pt"),
    "clip-train without --":
        (["clip-train", "--loss", "tricl", "--model", "solo-tricl-tiny"], None, "options go after --"),
    "clip-train with --siglip":
        (["clip-train", "--loss", "tricl", "--", *OPEN_CLIP, "--siglip"], None, "--siglip"),
    "clip-train with --distill-model":
        (["clip-train", "--loss", "ncl", "--", *OPEN_CLIP, "--distill-model", "RN50"], None, "--distill-model"),
    "clip-train with a CoCa model":
        (["clip-train", "--loss", "kernel", "--", "--model", "coca_ViT-B-32"], None, "CoCa"),
    "clip-train with an unknown loss":
        (["clip-train", "--loss", "simclr", "--", *OPEN_CLIP], None, "allowed: clip, kernel, ncl, tricl"),
    "evaluate a garbage checkpoint beside args.json":
        (["evaluate", "run/x.ckpt", "--data", "{solo}"], garbage_solo_checkpoint, "x.ckpt"),
    "evaluate a checkpoint beside a foreign args.json":
        (["evaluate", "run/x.ckpt", "--data", "{solo}"], lambda d: garbage_solo_checkpoint(d, "{}"), "args.json"),
    "evaluate a missing checkpoint":
        (["evaluate", "missing.ckpt", "--data", "{solo}"], None, "missing.ckpt"),
    "explain a garbage OpenCLIP checkpoint":
        (["explain", "logs/run/checkpoints/epoch_1.pt", "--images", "{solo}/val", "--corpus-text", "a shoe",
          "--foil-text", "a bag"], garbage_clip_checkpoint, "epoch_1.pt"),
    "clip-zeroshot a garbage checkpoint":
        (["clip-zeroshot", "logs/run/checkpoints/epoch_1.pt", "--data", "{clip}/val.csv"], garbage_clip_checkpoint,
         "epoch_1.pt"),
    "linear on a garbage checkpoint":
        (["linear", "--config-name", "fashion_mnist/linear", "pretrained_feature_extractor=garbage.ckpt",
          "data.train_path={solo}/train", "data.val_path={solo}/val"],
         lambda d: (d / "garbage.ckpt").write_text("garbage"), "garbage.ckpt"),
    "bench without the simclr baseline":
        (["bench", "--methods", "tricl", "--clip-losses"], None, "--methods must include the baseline simclr"),
    "bench with an empty evaluation":
        (["bench", "--eval-train", "0"], None, "--eval-train and --eval-test must be >= 1"),
}


# these read solo-learn checkpoints or configs; without solo-learn they stop earlier, at its absence
NEED_SOLO_LEARN = {"evaluate a garbage checkpoint beside args.json", "evaluate a checkpoint beside a foreign args.json",
                   "linear on a garbage checkpoint"}


def files_under(folder: Path):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_input_is_one_line_exit_2_and_leaves_nothing(case, tmp_path, fashion_mnist_folder,
                                                           fashion_mnist_clip_folder):
    if case in NEED_SOLO_LEARN and not solo_learn_available():
        pytest.skip(SOLO_LEARN_MISSING)
    argv, setup, expected = CASES[case]
    if setup:
        setup(tmp_path)
    before = files_under(tmp_path)
    argv = [a.format(solo=fashion_mnist_folder, clip=fashion_mnist_clip_folder) for a in argv]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    result = subprocess.run([sys.executable, "-m", "solo_tricl.cli", *argv], cwd=tmp_path, capture_output=True,
                            text=True, env=env)
    err = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert len(err) == 1 and err[0].startswith(f"solo-tricl {argv[0]}: error: "), result.stderr[-2000:]
    assert expected in err[0]
    assert files_under(tmp_path) == before
