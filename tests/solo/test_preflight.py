"""Generated cases: for every key of the shipped Fashion-MNIST configs that a run reads, a value of
the wrong type and a value out of range, each run through ``solo-tricl pretrain`` or ``linear``:
one line, exit status 2, no traceback, no new file, and no training started."""

import math
import os
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from solo_tricl.cli import main
from tests.solo.helpers import needs_solo_learn, quote

pytestmark = [*needs_solo_learn, pytest.mark.slow]

# keys whose values are names a host looks up, and a name none of them knows
NAMES = (
    "method",
    "backbone.name",
    "optimizer.name",
    "scheduler.name",
    "scheduler.interval",
    "data.dataset",
    "data.format",
    "accelerator",
    "strategy",
    "precision",
    "method_kwargs.decorrelation",
    "method_kwargs.anchors",
    "method_kwargs.variant",
    "method_kwargs.non_neg",
    "method_kwargs.mixture",
)
PATHS = ("data.train_path", "data.val_path", "pretrained_feature_extractor")
FREE_TEXT = ("name", "wandb.entity", "wandb.project", "checkpoint.dir", "devices")


def composed(kind: str, config: str):
    from solo_tricl.solo.cli import compose

    return compose(kind, None, config, [])


def reference_leaves(kind: str, config: str) -> Dict[str, object]:
    from solo_tricl.solo.preflight import leaves

    return {key: value for key, value in leaves(composed(kind, config)).items() if not key.startswith("hydra")}


def wrong_type(value):
    """A value of another kind than ``value`` (a string for a number, a number for a string...)."""
    if isinstance(value, bool):
        return "maybe"
    if isinstance(value, (int, float)):
        return "abc"
    if isinstance(value, str):
        return "true"
    if isinstance(value, list):
        return "abc"
    return None


def out_of_range(key: str, value):
    """A value of the right kind that the run cannot use, or None where every value of the kind
    is usable (free text, switches)."""
    from solo_tricl.solo.preflight import RANGES

    if isinstance(value, bool) or key.endswith(FREE_TEXT):
        return None
    if isinstance(value, (int, float)):
        if key == "data.fraction":
            return 1.5
        bounded = [p for p in RANGES if __import__("fnmatch").fnmatchcase(key, p)]
        return 1.5 if bounded and ("prob" in key or "scale" in key) else -1
    if isinstance(value, list):
        return "[-1,-1,-1]" if all(isinstance(v, (int, float)) for v in value) else None
    if key in NAMES:
        return "no-such-name"
    if key in PATHS:
        return "no/such/folder"
    return None


def cases(kind: str, config: str, only: Tuple[str, ...] = ()) -> List[Tuple[str, str, str]]:
    generated = []
    for key, value in reference_leaves(kind, config).items():
        if value is None or value == "???" or (only and not key.startswith(only)):
            continue
        for what, bad in (("wrong type", wrong_type(value)), ("out of range", out_of_range(key, value))):
            if bad is not None:
                generated.append((config, key, f"{what}: {key}={bad}"))
    return generated


PRETRAIN = "fashion_mnist/tricl"
CASES = [
    *cases("pretrain", PRETRAIN),
    *(
        case
        for method in ("ncl", "kernel", "simclr")
        for case in cases("pretrain", f"fashion_mnist/{method}", ("method_kwargs",))
    ),
]
LINEAR_CASES = cases("linear", "fashion_mnist/linear")


def overridden(case: str) -> str:
    return case.split(": ", 1)[1]


def files_under(folder: Path):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def no_training(monkeypatch):
    import warnings

    with warnings.catch_warnings():  # the hosts' imports warn of their own deprecations
        warnings.simplefilter("ignore")
        from lightning.pytorch import Trainer

    def refuse(*args, **kwargs):
        raise AssertionError("the pre-flight checks let a bad value through: training started")

    monkeypatch.setattr(Trainer, "fit", refuse)


def run_one_line(argv, tmp_path, capfd):
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        before = files_under(tmp_path)
        status = main(argv)
        err = capfd.readouterr().err.strip().splitlines()
        assert files_under(tmp_path) == before
    finally:
        os.chdir(cwd)
    assert status == 2
    assert len(err) == 1 and err[0].startswith(f"solo-tricl {argv[0]}: error: "), err
    return err[0]


def test_the_generated_cases_cover_every_key():
    keys = {key for _, key, _ in CASES}
    assert {
        "max_epochs",
        "data.fraction",
        "backbone.name",
        "optimizer.name",
        "optimizer.lr",
        "method_kwargs.temperature",
        "augmentations.0.crop_size",
        "augmentations.0.color_jitter.prob",
    } <= keys
    assert len(CASES) > 100 and len(LINEAR_CASES) > 40


@pytest.mark.parametrize("config,key,case", CASES, ids=[case for _, _, case in CASES])
def test_a_bad_pretrain_value_is_one_line_and_exit_2(
    config, key, case, fashion_mnist_folder, tmp_path, capfd, no_training
):
    data = [
        f"data.train_path={quote(str(fashion_mnist_folder / 'train'))}",
        "data.num_workers=0",
        "optimizer.batch_size=32",
        "max_epochs=1",
    ]
    data = [item for item in data if item.split("=")[0] != key]
    line = run_one_line(["pretrain", "--config-name", config, *data, overridden(case)], tmp_path, capfd)
    assert key.split(".")[-1] in line or key.split(".")[0] in line


@pytest.mark.parametrize("config,key,case", LINEAR_CASES, ids=[case for _, _, case in LINEAR_CASES])
def test_a_bad_linear_value_is_one_line_and_exit_2(
    config, key, case, fashion_mnist_folder, tricl_run, tmp_path, capfd, no_training
):
    data = [
        f"data.train_path={quote(str(fashion_mnist_folder / 'train'))}",
        f"data.val_path={quote(str(fashion_mnist_folder / 'val'))}",
        "data.num_workers=0",
        "optimizer.batch_size=32",
        f"pretrained_feature_extractor={quote(tricl_run['result'].last_checkpoint)}",
    ]
    data = [item for item in data if item.split("=")[0] != key]
    line = run_one_line(["linear", "--config-name", config, *data, overridden(case)], tmp_path, capfd)
    assert key.split(".")[-1] in line or key.split(".")[0] in line


@pytest.mark.parametrize(
    "config",
    [
        "cifar/tricl",
        "cifar/ncl",
        "cifar/kernel",
        "cifar/simclr",
        "imagenet-100/tricl",
        "imagenet-100/ncl",
        "imagenet-100/kernel",
        "imagenet-100/simclr",
        "fashion_mnist/tricl",
        "fashion_mnist/ncl",
        "fashion_mnist/kernel",
        "fashion_mnist/simclr",
    ],
)
def test_every_shipped_config_passes_the_value_checks(config):
    from solo_tricl.solo.preflight import check_devices, check_registries, check_values

    cfg = composed("pretrain", config)
    check_values(cfg)
    check_devices(cfg)
    check_registries(cfg, "pretrain")


def test_a_learning_rate_of_zero_and_finite_numbers_are_not_refused():
    from omegaconf import OmegaConf

    from solo_tricl.solo.preflight import check_values

    check_values(OmegaConf.create({"optimizer": {"lr": 0.0, "weight_decay": 0}, "data": {"fraction": -1}}))
    with pytest.raises(ValueError, match="optimizer.lr must be finite"):
        check_values(OmegaConf.create({"optimizer": {"lr": math.nan}}))


def test_devices_as_a_count_scales_the_learning_rate_by_the_count():
    from omegaconf import OmegaConf
    from solo.args.pretrain import parse_cfg

    from solo_tricl.solo.trainer import parse_cfg_with_device_count

    one = composed("pretrain", PRETRAIN)
    two = composed("pretrain", PRETRAIN)
    OmegaConf.update(one, "data.train_path", ".")
    OmegaConf.update(two, "data.train_path", ".")
    two.devices = "2"
    lr_one = parse_cfg_with_device_count(parse_cfg, one).optimizer.lr
    lr_two = parse_cfg_with_device_count(parse_cfg, two).optimizer.lr
    assert lr_two == pytest.approx(2 * lr_one)
