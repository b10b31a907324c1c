"""A walk through bad inputs across every subcommand, run as a user runs them: ``solo-tricl`` in a
fresh folder. Each must print one line, ``solo-tricl <command>: error: ...``, exit with status 2,
print no traceback, and leave no file behind. (Faults during training, signals, a full disk, a
diverging run, are in ``tests/test_faults.py``; every config key's wrong type and out-of-range
value in ``tests/solo/test_preflight.py``.)"""

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import pytest

from tests.conftest import SOLO_LEARN_MISSING, selected, solo_learn_available

pytestmark = pytest.mark.slow

OPEN_CLIP = [
    "--model",
    "solo-tricl-tiny",
    "--train-data",
    "{clip}/train.csv",
    "--csv-img-key",
    "filepath",
    "--csv-caption-key",
    "title",
    "--epochs",
    "1",
    "--batch-size",
    "32",
    "--device",
    "cpu",
    "--workers",
    "0",
    "--logs",
    "logs",
    "--name",
    "run",
]
PRETRAIN = [
    "pretrain",
    "--config-name",
    "fashion_mnist/tricl",
    "data.train_path={solo}/train",
    "data.num_workers=0",
    "optimizer.batch_size=32",
    "max_epochs=1",
]
LINEAR = [
    "linear",
    "--config-name",
    "fashion_mnist/linear",
    "data.train_path={solo}/train",
    "data.val_path={solo}/val",
    "data.num_workers=0",
    "optimizer.batch_size=32",
]
EVALUATE = ["evaluate", "{ckpt}", "--data", "{solo}", "--train-samples", "50", "--test-samples", "50"]
EXPLAIN = [
    "explain",
    "{ckpt}",
    "--images",
    "{solo}/val/5_sandal",
    "--corpus",
    "{solo}/train/5_sandal",
    "--foil",
    "{solo}/train",
]


def garbage_solo_checkpoint(folder: Path, args_json: str = '{"method": "tricl"}'):
    (folder / "run").mkdir()
    (folder / "run" / "x.ckpt").write_text("not a checkpoint")
    (folder / "run" / "args.json").write_text(args_json)


def garbage_clip_checkpoint(folder: Path):
    (folder / "logs" / "run" / "checkpoints").mkdir(parents=True)
    (folder / "logs" / "run" / "checkpoints" / "epoch_1.pt").write_text("not a checkpoint")
    (folder / "logs" / "run" / "solo_tricl.json").write_text(json.dumps({"loss": "tricl", "model": "solo-tricl-tiny"}))


def copy_data(folder: Path, source: Path, change=None) -> None:
    shutil.copytree(source, folder / "data")
    if change:
        change(folder / "data")


def rename_a_val_class(data: Path):
    (data / "val" / "0_tshirt_top").rename(data / "val" / "0_tee")


def corrupt_an_image(data: Path):
    image = sorted((data / "train" / "3_dress").iterdir())[0]
    image.write_bytes(image.read_bytes()[:60])


def keep_classes(count):
    def keep(data: Path):
        for split in ("train", "val"):
            for folder in sorted((data / split).iterdir())[count:]:
                shutil.rmtree(folder)

    return keep


def clip_csv(folder: Path, source: Path, edit) -> None:
    lines = (source / "train.csv").read_text().splitlines()
    (folder / "bad.csv").write_text("\n".join(edit(lines)) + "\n")


def copy_checkpoint(folder: Path, checkpoint: Path, change=None) -> None:
    (folder / "copy").mkdir()
    shutil.copy(checkpoint, folder / "copy" / checkpoint.name)
    shutil.copy(checkpoint.parent / "args.json", folder / "copy" / "args.json")
    if change:
        change(folder / "copy" / checkpoint.name)


def poison(path: Path) -> None:
    import torch

    saved = torch.load(path, weights_only=True)
    name = next(k for k, v in saved["state_dict"].items() if v.is_floating_point())
    saved["state_dict"][name].fill_(float("nan"))
    torch.save(saved, path)


def poison_a_buffer(path: Path) -> None:
    """A NaN in BatchNorm's running variance: the weights are finite, the checkpoint is not."""
    import torch

    saved = torch.load(path, weights_only=True)
    name = next(k for k in saved["state_dict"] if k.endswith("running_var"))
    saved["state_dict"][name].fill_(float("nan"))
    torch.save(saved, path)


def pickle_a_foreign_object(path: Path) -> None:
    """A checkpoint that pickles an object of a class no host writes (it could run code on load)."""
    import argparse

    import torch

    saved = torch.load(path, weights_only=True)
    saved["extra"] = argparse.Namespace(note="anything")
    torch.save(saved, path)


# case -> (argv, setup(folder, paths) or None, expected text of the one line)
CASES = {
    # the command line itself
    "an unknown subcommand": (["pretrian"], None, "invalid choice: 'pretrian'"),
    "pretrain without --config-name": (["pretrain"], None, "the following arguments are required: --config-name"),
    "explain with an unknown attribution method": (
        ["explain", "x.ckpt", "--images", "a", "--corpus", "b", "--foil", "c", "--methods", "rise", "lime"],
        None,
        "invalid choice: 'lime'",
    ),
    "evaluate with an unknown order": (
        ["evaluate", "x.ckpt", "--data", "d", "--order", "foo"],
        None,
        "invalid choice: 'foo'",
    ),
    "a number option given a word": (
        ["evaluate", "x.ckpt", "--data", "d", "--top-k", "ten"],
        None,
        "invalid int value: 'ten'",
    ),
    # data
    "data into a file": (
        ["data", "fashion-mnist", "--out", "taken"],
        lambda d, p: (d / "taken").write_text("x"),
        "taken",
    ),
    "data into a folder that holds other files": (
        ["data", "fashion-mnist", "--out", "full"],
        lambda d, p: ((d / "full").mkdir(), (d / "full" / "x").write_text("x")),
        "holds other files",
    ),
    "data with zero images per class": (
        ["data", "fashion-mnist", "--out", "x", "--train-per-class", "0"],
        None,
        "--train-per-class must be >= 1",
    ),
    # pretrain: config values (every key's wrong type and range: tests/solo/test_preflight.py)
    "pretrain max_epochs=abc": ([*PRETRAIN, "max_epochs=abc"], None, "max_epochs must be a number"),
    "pretrain data.fraction=2": ([*PRETRAIN, "data.fraction=2"], None, "data.fraction must be finite and -1"),
    "pretrain an unknown backbone": ([*PRETRAIN, "backbone.name=resnet181"], None, "backbone.name='resnet181'"),
    "pretrain an unknown optimizer": ([*PRETRAIN, "optimizer.name=foo"], None, "optimizer.name='foo'"),
    "pretrain an optimizer given another's kwargs": (
        [*PRETRAIN, "optimizer.name=sgd"],
        None,
        "optimizer.kwargs.clip_lr is not an argument of sgd",
    ),
    "pretrain on a GPU this machine lacks": ([*PRETRAIN, "accelerator=gpu"], None, "accelerator=gpu"),
    "pretrain with devices=auto": ([*PRETRAIN, "devices=auto"], None, "devices='auto'"),
    "pretrain small crops the augmentations do not make": (
        [*PRETRAIN, "+data.num_small_crops=3"],
        None,
        "data.num_small_crops=3 would be ignored",
    ),
    "pretrain a key nothing reads": ([*PRETRAIN, "+foo=1"], None, "foo is not a key"),
    "pretrain a key the config lacks, without +": ([*PRETRAIN, "seed=3"], None, "+seed=1"),
    "pretrain a negative seed": ([*PRETRAIN, "+seed=-1"], None, "seed must be finite"),
    "pretrain a negative temperature": (
        [*PRETRAIN, "method_kwargs.temperature=-1"],
        None,
        "method_kwargs.temperature must be finite and > 0",
    ),
    "pretrain a method_kwargs typo": (
        [*PRETRAIN, "+method_kwargs.temprature=0.1"],
        None,
        "method_kwargs.temprature is not an option",
    ),
    "pretrain an unknown method": ([*PRETRAIN, "method=tricll"], None, "method='tricll'"),
    "pretrain an unknown shipped config": (["pretrain", "--config-name", "fashion_mnist/foo"], None, "foo"),
    "pretrain a missing train folder": (
        [*PRETRAIN, "data.train_path=nowhere"],
        None,
        "data.train_path=nowhere does not exist",
    ),
    "pretrain fewer images than one batch": ([*PRETRAIN, "optimizer.batch_size=5000"], None, "fewer than one batch"),
    "pretrain val classes that differ from train's": (
        [*PRETRAIN, "data.train_path=data/train", "data.val_path=data/val"],
        lambda d, p: copy_data(d, p["solo"], rename_a_val_class),
        "hold different classes",
    ),
    "pretrain a corrupt image in the data": (
        [*PRETRAIN, "data.train_path=data/train"],
        lambda d, p: copy_data(d, p["solo"], corrupt_an_image),
        "cannot read image",
    ),
    "pretrain resuming a garbage file": (
        [*PRETRAIN, "+resume_from_checkpoint=garbage.ckpt"],
        lambda d, p: (d / "garbage.ckpt").write_text("x"),
        "garbage.ckpt",
    ),
    "pretrain resuming an OpenCLIP checkpoint": (
        [*PRETRAIN, "+resume_from_checkpoint='{clip_ckpt}'"],
        None,
        "is not a Lightning checkpoint",
    ),
    "pretrain resuming a run of another method": (
        ["pretrain", "--config-name", "fashion_mnist/ncl", *PRETRAIN[3:], "+resume_from_checkpoint='{ckpt}'"],
        None,
        "is a 'tricl' run",
    ),
    # linear
    "linear on a garbage checkpoint": (
        [*LINEAR, "pretrained_feature_extractor=garbage.ckpt"],
        lambda d, p: (d / "garbage.ckpt").write_text("garbage"),
        "garbage.ckpt",
    ),
    "linear without a checkpoint": (LINEAR, None, "pretrained_feature_extractor"),
    "linear --order without --top-k": (
        [*LINEAR, "pretrained_feature_extractor='{ckpt}'", "--order", "random"],
        None,
        "--order needs --top-k",
    ),
    "linear --top-k 0": ([*LINEAR, "pretrained_feature_extractor='{ckpt}'", "--top-k", "0"], None, "--top-k must be"),
    "linear with val classes that differ": (
        [*LINEAR, "pretrained_feature_extractor='{ckpt}'", "data.train_path=data/train", "data.val_path=data/val"],
        lambda d, p: copy_data(d, p["solo"], rename_a_val_class),
        "hold different classes",
    ),
    "linear on fewer than 5 classes": (
        [*LINEAR, "pretrained_feature_extractor='{ckpt}'", "data.train_path=data/train", "data.val_path=data/val"],
        lambda d, p: copy_data(d, p["solo"], keep_classes(3)),
        "needs at least 5",
    ),
    # clip-train
    "clip-train --resume of a missing file": (
        ["clip-train", "--loss", "tricl", "--", *OPEN_CLIP, "--resume", "missing.pt"],
        None,
        "missing.pt",
    ),
    "clip-train --resume of a garbage file": (
        ["clip-train", "--loss", "tricl", "--", *OPEN_CLIP, "--resume", "garbage.pt"],
        lambda d, p: (d / "garbage.pt").write_text("garbage"),
        "garbage.pt",
    ),
    "clip-train --resume of a solo-learn checkpoint": (
        ["clip-train", "--loss", "tricl", "--", *OPEN_CLIP, "--resume", "{ckpt}"],
        None,
        "is not an open_clip_train checkpoint",
    ),
    "clip-train without --": (
        ["clip-train", "--loss", "tricl", "--model", "solo-tricl-tiny"],
        None,
        "options go after --",
    ),
    "clip-train with --siglip": (["clip-train", "--loss", "tricl", "--", *OPEN_CLIP, "--siglip"], None, "--siglip"),
    "clip-train with --distill-model": (
        ["clip-train", "--loss", "ncl", "--", *OPEN_CLIP, "--distill-model", "RN50"],
        None,
        "--distill-model",
    ),
    "clip-train with a CoCa model": (
        ["clip-train", "--loss", "kernel", "--", "--model", "coca_ViT-B-32"],
        None,
        "CoCa",
    ),
    "clip-train with an unknown loss": (
        ["clip-train", "--loss", "simclr", "--", *OPEN_CLIP],
        None,
        "allowed: clip, kernel, mrl, ncl, tricl",
    ),
    "clip-train a CSV without the caption column": (
        ["clip-train", "--loss", "tricl", "--", *OPEN_CLIP, "--train-data", "bad.csv"],
        lambda d, p: clip_csv(d, p["clip"], lambda lines: [lines[0].replace("title", "caption")] + lines[1:]),
        "has no column 'title'",
    ),
    "clip-train a CSV naming a missing image": (
        ["clip-train", "--loss", "tricl", "--", *OPEN_CLIP, "--train-data", "bad.csv"],
        lambda d, p: clip_csv(d, p["clip"], lambda lines: [lines[0], "gone.png\ta shoe\t5"] + lines[1:]),
        "gone.png does not exist",
    ),
    "clip-train a CSV with an empty caption": (
        ["clip-train", "--loss", "tricl", "--", *OPEN_CLIP, "--train-data", "bad.csv"],
        lambda d, p: clip_csv(d, p["clip"], lambda lines: [lines[0], lines[1].split("\t")[0] + "\t\t5"] + lines[2:]),
        "has no caption",
    ),
    "clip-train fewer pairs than one batch": (
        ["clip-train", "--loss", "tricl", "--", *OPEN_CLIP, "--batch-size", "5000"],
        None,
        "fewer than one batch",
    ),
    "clip-train on CUDA this machine lacks": (
        ["clip-train", "--loss", "tricl", "--", *OPEN_CLIP, "--device", "cuda"],
        None,
        "CUDA is not available",
    ),
    "clip-train zero epochs": (
        ["clip-train", "--loss", "tricl", "--", *OPEN_CLIP, "--epochs", "0"],
        None,
        "--epochs must be finite and >= 1",
    ),
    "clip-train an unknown model": (
        ["clip-train", "--loss", "tricl", "--", *OPEN_CLIP, "--model", "foo"],
        None,
        "--model foo is not one of OpenCLIP's models",
    ),
    "clip-train into an existing run": (
        ["clip-train", "--loss", "tricl", "--", *OPEN_CLIP],
        lambda d, p: ((d / "logs" / "run").mkdir(parents=True), (d / "logs" / "run" / "out.log").write_text("")),
        "already holds a run",
    ),
    "clip-train a triCL option with --loss ncl": (
        ["clip-train", "--loss", "ncl", "--decorrelation-weight", "5", "--", *OPEN_CLIP],
        None,
        "--decorrelation-weight needs --loss tricl",
    ),
    # clip-zeroshot
    "clip-zeroshot a garbage checkpoint": (
        ["clip-zeroshot", "logs/run/checkpoints/epoch_1.pt", "--data", "{clip}/val.csv"],
        lambda d, p: garbage_clip_checkpoint(d),
        "epoch_1.pt",
    ),
    "clip-zeroshot --order without --top-k": (
        ["clip-zeroshot", "{clip_ckpt}", "--data", "{clip}/val.csv", "--order", "random"],
        None,
        "--order needs --top-k",
    ),
    "clip-zeroshot by activation mass without training images": (
        [
            "clip-zeroshot",
            "{clip_ckpt}",
            "--data",
            "{clip}/val.csv",
            "--top-k",
            "4",
            "--order",
            "activation",
            "--train-data",
            "none.csv",
        ],
        None,
        "none.csv does not exist (pass --train-data)",
    ),
    "clip-zeroshot without class names": (
        ["clip-zeroshot", "{clip_ckpt}", "--data", "{clip}/val.csv", "--classes", "none.json"],
        None,
        "none.json does not exist",
    ),
    # evaluate
    "evaluate a garbage checkpoint beside args.json": (
        ["evaluate", "run/x.ckpt", "--data", "{solo}"],
        lambda d, p: garbage_solo_checkpoint(d),
        "x.ckpt",
    ),
    "evaluate a checkpoint beside a foreign args.json": (
        ["evaluate", "run/x.ckpt", "--data", "{solo}"],
        lambda d, p: garbage_solo_checkpoint(d, "{}"),
        "args.json",
    ),
    "evaluate a missing checkpoint": (["evaluate", "missing.ckpt", "--data", "{solo}"], None, "missing.ckpt"),
    "evaluate one checkpoint twice": ([*EVALUATE[:2], "{ckpt}", *EVALUATE[2:]], None, "is given twice"),
    "evaluate a copy of the same checkpoint": (
        [*EVALUATE[:2], "copy/{ckpt_name}", *EVALUATE[2:]],
        lambda d, p: copy_checkpoint(d, p["ckpt"]),
        "hold the same weights",
    ),
    "evaluate a diverged checkpoint": (
        ["evaluate", "copy/{ckpt_name}", "--data", "{solo}"],
        lambda d, p: copy_checkpoint(d, p["ckpt"], poison),
        "holds NaN",
    ),
    "evaluate a checkpoint with a NaN in a BatchNorm buffer": (
        ["evaluate", "copy/{ckpt_name}", "--data", "{solo}"],
        lambda d, p: copy_checkpoint(d, p["ckpt"], poison_a_buffer),
        "running_var holds NaN",
    ),
    "evaluate a checkpoint that needs a global no host writes": (
        ["evaluate", "copy/{ckpt_name}", "--data", "{solo}"],
        lambda d, p: copy_checkpoint(d, p["ckpt"], pickle_a_foreign_object),
        "needs the global argparse.Namespace",
    ),
    "evaluate with val classes that differ": (
        ["evaluate", "{ckpt}", "--data", "data"],
        lambda d, p: copy_data(d, p["solo"], rename_a_val_class),
        "hold different classes",
    ),
    "evaluate --gallery-images without --gallery": (
        [*EVALUATE, "--gallery-images", "4"],
        None,
        "--gallery-images needs --gallery N",
    ),
    "evaluate --basis-images without --order canonical": (
        [*EVALUATE, "--basis-images", "40"],
        None,
        "--basis-images needs --order canonical",
    ),
    "evaluate into a file": ([*EVALUATE, "--out", "taken"], lambda d, p: (d / "taken").write_text("x"), "taken"),
    # explain
    "explain a garbage OpenCLIP checkpoint": (
        [
            "explain",
            "logs/run/checkpoints/epoch_1.pt",
            "--images",
            "{solo}/val",
            "--corpus-text",
            "a shoe",
            "--foil-text",
            "a bag",
        ],
        lambda d, p: garbage_clip_checkpoint(d),
        "epoch_1.pt",
    ),
    "explain --rise-masks without rise": (
        [*EXPLAIN, "--methods", "ig", "--rise-masks", "10"],
        None,
        "--rise-masks needs rise in --methods",
    ),
    "explain --corpus-size with a text corpus": (
        [
            "explain",
            "{clip_ckpt}",
            "--images",
            "{solo}/val/5_sandal",
            "--corpus-text",
            "a shoe",
            "--foil-text",
            "a bag",
            "--corpus-size",
            "5",
        ],
        None,
        "--corpus-size needs --corpus images",
    ),
    "explain a missing image": ([*EXPLAIN[:3], "gone.png", *EXPLAIN[4:]], None, "gone.png does not exist"),
    "explain an empty folder of images": (
        [*EXPLAIN[:3], "empty", *EXPLAIN[4:]],
        lambda d, p: (d / "empty").mkdir(),
        "--images empty holds no images",
    ),
    "explain a text corpus for a solo-learn checkpoint": (
        ["explain", "{ckpt}", "--images", "{solo}/val/5_sandal", "--corpus-text", "a shoe", "--foil-text", "a bag"],
        None,
        "need an OpenCLIP checkpoint",
    ),
    # bench
    "bench without the simclr baseline": (
        ["bench", "--methods", "tricl", "--clip-losses"],
        None,
        "--methods must include the baseline simclr",
    ),
    "bench with an empty evaluation": (
        ["bench", "--eval-train", "0"],
        None,
        "--eval-train and --eval-test must be >= 1",
    ),
    "bench on a GPU this machine lacks": (["bench", "--accelerator", "gpu"], None, "gpu"),
    "bench with one seed, where the spread needs two": (
        ["bench", "--seeds", "0", "--clip-losses"],
        None,
        "--seeds needs at least two seeds",
    ),
    "bench with a method without a shipped config": (
        ["bench", "--methods", "simclr", "nnclr", "--clip-losses"],
        None,
        "'nnclr' has no shipped Fashion-MNIST config",
    ),
    "bench --tune with an empty learning-rate grid": (
        ["bench", "--tune", "--lr-factors", "--clip-losses"],
        None,
        "--lr-factors needs at least one factor",
    ),
    "bench --lr-factors without --tune": (
        ["bench", "--lr-factors", "0.5", "1", "--clip-losses"],
        None,
        "--lr-factors",
    ),
}

# these read solo-learn checkpoints or configs; without solo-learn they stop earlier, at its absence
NEED_SOLO_LEARN = {
    case
    for case, (argv, _, _) in CASES.items()
    if argv[0] in ("pretrain", "linear")
    or any("{ckpt" in a for a in argv)
    or case.startswith("evaluate")
    or case.startswith("bench")
}


def needs_solo_learn_run(case: str) -> bool:
    argv = CASES[case][0]
    return any("{ckpt" in a for a in argv) or "checkpoint" in case


# these run OpenCLIP's parser and checks or read its models: CI runs them against each supported
# OpenCLIP, but for those that need a solo-learn run, whose checks read no OpenCLIP code
USE_OPEN_CLIP = {
    case
    for case, (argv, _, _) in CASES.items()
    if (argv[0].startswith("clip-") or any("{clip_ckpt}" in a for a in argv)) and not needs_solo_learn_run(case)
}


def files_under(folder: Path):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_the_walk_covers_every_subcommand_with_at_least_sixty_cases():
    from solo_tricl.cli import SUBCOMMANDS

    assert len(CASES) >= 60
    assert set(SUBCOMMANDS) <= {argv[0] for argv, _, _ in CASES.values()}


PARALLEL = 2  # cases at once: each is a fresh ``solo-tricl`` process, mostly its start-up


@dataclass
class Outcome:
    """One case run as a user runs it: its command line, its result, and the files of its folder
    before and after."""

    argv: List[str]
    result: subprocess.CompletedProcess
    before: List[str]
    after: List[str]


@pytest.fixture(scope="module")
def outcomes(request, tmp_path_factory, fashion_mnist_folder, fashion_mnist_clip_folder) -> Dict[str, Outcome]:
    """{case: its outcome} for the cases this session selects that can run here, PARALLEL at a time,
    each in a fresh folder."""
    runnable = [case for case in selected(request, "case") if case not in NEED_SOLO_LEARN or solo_learn_available()]
    prepared = {}
    for case in runnable:
        argv, setup, _ = CASES[case]
        folder = tmp_path_factory.mktemp("bad-input")
        paths = {"solo": fashion_mnist_folder, "clip": fashion_mnist_clip_folder}
        if needs_solo_learn_run(case):
            paths["ckpt"] = Path(request.getfixturevalue("tricl_run")["result"].last_checkpoint)
        if any("{clip_ckpt}" in a for a in argv):
            paths["clip_ckpt"] = request.getfixturevalue("clip_tricl_checkpoint")
        if setup:
            setup(folder, paths)
        fields = {**paths, "ckpt_name": paths["ckpt"].name if "ckpt" in paths else ""}
        prepared[case] = (folder, [a.format(**fields) for a in argv], files_under(folder))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}

    def run(case):
        folder, argv, before = prepared[case]
        result = subprocess.run(
            [sys.executable, "-m", "solo_tricl.cli", *argv],
            cwd=folder,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        return Outcome(argv, result, before, files_under(folder))

    with ThreadPoolExecutor(PARALLEL) as pool:
        return dict(zip(prepared, pool.map(run, prepared)))


@pytest.mark.parametrize(
    "case", [pytest.param(case, marks=pytest.mark.open_clip) if case in USE_OPEN_CLIP else case for case in CASES]
)
def test_a_bad_input_is_one_line_exit_2_and_leaves_nothing(case, outcomes):
    if case in NEED_SOLO_LEARN and not solo_learn_available():
        pytest.skip(SOLO_LEARN_MISSING)
    from solo_tricl.cli import SUBCOMMANDS

    outcome = outcomes[case]
    result, argv = outcome.result, outcome.argv
    err = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    prog = f"solo-tricl {argv[0]}" if argv[0] in SUBCOMMANDS else "solo-tricl"
    assert len(err) == 1 and err[0].startswith(f"{prog}: error: "), result.stderr[-2000:]
    assert result.stdout == "", result.stdout[-2000:]
    assert CASES[case][2] in err[0]
    assert outcome.after == outcome.before
