"""Training the bench's runs, or reusing finished ones: solo-learn variants from the shipped
Fashion-MNIST configs, OpenCLIP losses on Fashion-MNIST with template captions."""

import json
import math
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from solo_tricl.common.files import write_json
from solo_tricl.errors import CommandError

# our variants: bench name -> (solo-learn method, overrides of its shipped fashion_mnist config)
OUR_VARIANTS = {
    "tricl": ("tricl", ()),
    "tricl-reference": ("tricl", ("method_kwargs.decorrelation=reference",)),
    "tri-scl": ("tricl", ("method_kwargs.variant=spectral",)),
    "ncl": ("ncl", ()),
    "kernel": ("kernel", ()),
    "mrl": ("mrl", ()),
}
BASELINE = "simclr"
DEFAULT_VARIANTS = ("simclr", "byol", "barlow_twins", "vicreg", "mocov3", "tricl", "tri-scl", "ncl", "kernel", "mrl")
NOISE_FLOOR_VARIANT = "tricl"  # its first seed is paired with a run of the same init, other data order
# method_kwargs a solo-learn built-in without a shipped Fashion-MNIST config may require (its
# add_and_assert_specific_cfg asserts them), with the values of solo-learn's CIFAR configs
GENERIC_METHOD_KWARGS = {
    "pred_hidden_dim": 512,
    "temperature_q": 0.1,
    "temperature_k": 0.04,
    "num_prototypes": [3000, 3000, 3000],
}

# OpenCLIP runs: bench name -> (our --loss, OpenCLIP options beyond the shared ones)
CLIP_VARIANTS = {
    "clip": ("clip", ()),
    "siglip": ("clip", ("--siglip",)),
    "tricl": ("tricl", ()),
    "ncl": ("ncl", ()),
    "kernel": ("kernel", ()),
    "mrl": ("mrl", ()),
}
RUN_RECORD = "bench-run.json"
RUN_STARTED = "bench-run-started.json"


@dataclass(frozen=True)
class BenchSettings:
    """What a bench run trains and measures (the ``solo-tricl bench`` options, as values)."""

    methods: Tuple[str, ...] = DEFAULT_VARIANTS
    seeds: Tuple[int, ...] = (0, 1)
    clip_losses: Tuple[str, ...] = tuple(CLIP_VARIANTS)
    epochs: int = 6
    clip_epochs: int = 10
    budget: float = 1.0
    fraction: float = 0.1
    eval_train: int = 5000
    eval_test: int = 5000
    basis_images: int = 5000
    noise_floor: bool = True
    accelerator: str = "cpu"
    work: Path = Path("bench-work")
    retrain: bool = False

    @property
    def solo_epochs(self) -> int:
        return max(1, math.ceil(self.epochs * self.budget))

    @property
    def open_clip_epochs(self) -> int:
        return max(1, math.ceil(self.clip_epochs * self.budget))

    def solo_run_dir(self, name: str) -> Path:
        """Where the solo-learn run ``name`` trains, and where its measurement is saved."""
        return self.work / "solo" / name


@dataclass
class Trained:
    """A finished training: where its checkpoint is, and how long it took if it ran now."""

    name: str
    checkpoint: str
    command: str
    seconds: Optional[float] = None  # None: reused from an earlier invocation
    images_per_s: Optional[float] = None


def variant_method(variant: str) -> str:
    return OUR_VARIANTS[variant][0] if variant in OUR_VARIANTS else variant


def shipped_config(method: str) -> Optional[str]:
    from solo_tricl.solo.cli import PACKAGED_CONFIGS

    return (
        f"fashion_mnist/{method}"
        if (PACKAGED_CONFIGS / "pretrain" / "fashion_mnist" / f"{method}.yaml").is_file()
        else None
    )


def variant_config(variant: str) -> Tuple[str, List[str]]:
    """(shipped config, overrides) of a variant: ours, a built-in with a shipped config, or any other
    solo-learn built-in on SimCLR's config with :data:`GENERIC_METHOD_KWARGS`."""
    if variant in OUR_VARIANTS:
        method, overrides = OUR_VARIANTS[variant]
        return f"fashion_mnist/{method}", list(overrides)
    if config := shipped_config(variant):
        return config, []
    generic = [f"method={variant}", f"name={variant}-fashion-mnist"]
    generic += [f"+method_kwargs.{key}={json.dumps(value)}" for key, value in GENERIC_METHOD_KWARGS.items()]
    return f"fashion_mnist/{BASELINE}", generic


def check_variants(variants: Sequence[str]) -> None:
    from solo.methods import METHODS

    if BASELINE not in variants:
        raise CommandError(f"--methods must include the baseline {BASELINE}")
    allowed = [*OUR_VARIANTS, *(m for m in METHODS if m not in ("base", "linear") and m not in OUR_VARIANTS)]
    for variant in variants:
        if variant not in allowed:
            raise CommandError(
                f"--methods: {variant!r} is neither one of ours nor a solo-learn method; allowed: {', '.join(allowed)}"
            )


def finished_run(run_dir: Path, settings: dict) -> Optional[dict]:
    """The record of a run in ``run_dir`` that finished with exactly ``settings``, else None."""
    try:
        record = json.loads((run_dir / RUN_RECORD).read_text())
    except (OSError, ValueError):
        return None
    if record.get("settings") != settings or not Path(record.get("checkpoint") or "").is_file():
        return None
    return record


def interrupted_checkpoint(run_dir: Path, settings: dict) -> Optional[Path]:
    """The newest checkpoint of a run in ``run_dir`` that started with exactly ``settings`` and
    did not finish (the bench was stopped), else None. Checkpoints are written atomically, so
    every ``*.ckpt`` is complete."""
    try:
        started = json.loads((run_dir / RUN_STARTED).read_text())
    except (OSError, ValueError):
        return None
    if started != settings or finished_run(run_dir, settings):
        return None
    checkpoints = sorted(run_dir.rglob("*.ckpt"), key=lambda path: path.stat().st_mtime)
    return checkpoints[-1] if checkpoints else None


def reuse_or_clear(run_dir: Path, settings: dict, retrain: bool, resumable: bool = False) -> Optional[Trained]:
    """The finished run to reuse; otherwise ``run_dir`` is emptied for a fresh run, unless
    ``resumable`` and it holds an interrupted run with the same settings
    (:func:`interrupted_checkpoint`)."""
    if not retrain and (record := finished_run(run_dir, settings)):
        print(f"   reusing the finished run in {run_dir} (--retrain trains it again)", flush=True)
        return Trained(record["name"], record["checkpoint"], record["command"])
    if resumable and not retrain and interrupted_checkpoint(run_dir, settings):
        return None
    if run_dir.exists():
        shutil.rmtree(run_dir)
    return None


def save_run(run_dir: Path, settings: dict, trained: Trained) -> Trained:
    write_json(
        run_dir / RUN_RECORD,
        {"settings": settings, "name": trained.name, "checkpoint": trained.checkpoint, "command": trained.command},
    )
    return trained


class _Throughput:
    """A Lightning callback: training images per second over the fit (every crop counted)."""

    def __new__(cls):
        from lightning.pytorch.callbacks import Callback

        class Throughput(Callback):
            images = 0
            seconds = 0.0

            def on_train_batch_start(self, trainer, module, batch, batch_idx):
                self.start = time.perf_counter()

            def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
                self.seconds += time.perf_counter() - self.start
                self.images += sum(len(x) for x in batch[1])

        return Throughput()


def train_solo(
    variant: str,
    seed: int,
    settings: BenchSettings,
    data: Path,
    extra_overrides: Sequence[str] = (),
    name: Optional[str] = None,
) -> Trained:
    """Pretrain ``variant`` with ``seed`` from its shipped Fashion-MNIST config, or reuse the finished run."""
    from solo_tricl.solo.cli import compose
    from solo_tricl.solo.pretrain import pretrain

    name = name or f"{variant}-seed{seed}"
    run_dir = settings.solo_run_dir(name)
    config, overrides = variant_config(variant)
    overrides = [
        *overrides,
        f"++seed={seed}",
        f"max_epochs={settings.solo_epochs}",
        f"data.fraction={settings.fraction}",
        f"data.train_path='{data / 'train'}'",
        f"checkpoint.dir='{run_dir}'",
        f"++default_root_dir='{run_dir}'",
        f"accelerator={settings.accelerator}",
        f"name={name}",
        "++enable_progress_bar=False",
        *extra_overrides,
    ]
    record = {"config": config, "overrides": overrides}
    command = f"solo-tricl pretrain --config-name {config} " + shlex.join(overrides)
    if reused := reuse_or_clear(run_dir, record, settings.retrain, resumable=True):
        return reused
    if resume := interrupted_checkpoint(run_dir, record):
        print(f"   resuming the interrupted run in {run_dir} from {resume.name}", flush=True)
        overrides = [*overrides, f"++resume_from_checkpoint='{resume}'"]
    else:
        write_json(run_dir / RUN_STARTED, record)
    throughput = _Throughput()
    started = time.perf_counter()
    result = pretrain(compose("pretrain", None, config, overrides), [throughput])
    # a resumed run was not timed whole in this invocation: no time or throughput for it
    seconds = None if resume else time.perf_counter() - started
    images_per_s = None if resume else throughput.images / max(throughput.seconds, 1e-9)
    return save_run(run_dir, record, Trained(name, result.last_checkpoint, command, seconds, images_per_s))


def train_clip(variant: str, settings: BenchSettings, data: Path) -> Trained:
    loss, extra = CLIP_VARIANTS[variant]
    logs = settings.work / "clip"
    device = "cuda" if settings.accelerator == "gpu" else "cpu"
    open_clip_args = [
        "--model",
        "solo-tricl-tiny",
        "--train-data",
        str(data / "train.csv"),
        "--csv-img-key",
        "filepath",
        "--csv-caption-key",
        "title",
        "--epochs",
        str(settings.open_clip_epochs),
        "--batch-size",
        "64",
        "--lr",
        "1e-3",
        "--warmup",
        "20",
        "--device",
        device,
        "--workers",
        "2",
        "--seed",
        "0",
        "--logs",
        str(logs),
        "--name",
        variant,
        *extra,
    ]
    run_dir = logs / variant
    record = {"loss": loss, "open_clip_args": open_clip_args}
    command = f"solo-tricl clip-train --loss {loss} -- " + shlex.join(open_clip_args)
    if reused := reuse_or_clear(run_dir, record, settings.retrain):
        return reused
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "solo_tricl.cli", "clip-train", "--loss", loss, "--", *open_clip_args],
        capture_output=True,
        text=True,
    )
    if result.returncode:
        lines = result.stderr.strip().splitlines() or ["(no output)"]
        raise CommandError(f"clip-train for {variant} failed: {lines[-1]}")
    rates = [float(r) for r in re.findall(r", ([0-9.]+)/s, ", (run_dir / "out.log").read_text())]
    checkpoint = str(run_dir / "checkpoints" / f"epoch_{settings.open_clip_epochs}.pt")
    return save_run(
        run_dir,
        record,
        Trained(
            variant, checkpoint, command, time.perf_counter() - started, sum(rates) / len(rates) if rates else None
        ),
    )


def prepare_data(work: Path) -> Dict[str, Path]:
    """Fashion-MNIST for solo-learn and, with captions, for OpenCLIP under ``work/data`` (once)."""
    from solo_tricl.data.writer import write_dataset

    paths = {"solo": work / "data" / "fashion-mnist", "clip": work / "data" / "fashion-mnist-clip"}
    write_dataset("fashion-mnist", paths["solo"])
    write_dataset("fashion-mnist-clip", paths["clip"], train_per_class=500, val_per_class=100)
    return paths


def config_differences(variants: Sequence[str]) -> Dict[str, List[str]]:
    """For each variant, the config keys whose values differ from the baseline's (what bench.md
    must state), read from the composed configs themselves."""
    from solo_tricl.solo.cli import compose
    from solo_tricl.solo.preflight import leaves

    def composed(variant):
        config, overrides = variant_config(variant)
        return {
            k: v
            for k, v in leaves(compose("pretrain", None, config, overrides)).items()
            if not k.startswith(("hydra", "name"))
        }

    baseline = composed(BASELINE)
    differences = {}
    for variant in variants:
        if variant == BASELINE:
            continue
        values = composed(variant)
        keys = sorted(set(values) | set(baseline))
        differences[variant] = [
            f"{key}={values.get(key, '-')}" for key in keys if values.get(key, "-") != baseline.get(key, "-")
        ]
    return differences
