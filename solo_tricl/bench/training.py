"""Training the bench's runs, or reusing finished ones: solo-learn variants from the shipped
Fashion-MNIST configs (:mod:`solo_tricl.bench.settings`), OpenCLIP losses on Fashion-MNIST with
template captions."""

import json
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from solo_tricl.bench.settings import BenchSettings
from solo_tricl.common.files import write_json
from solo_tricl.errors import CommandError

RUN_RECORD = "bench-run.json"
RUN_STARTED = "bench-run-started.json"


@dataclass
class Trained:
    """A finished training: where its checkpoint is, and how long it took if it ran now."""

    name: str
    checkpoint: str
    command: str
    seconds: Optional[float] = None  # None: reused from an earlier invocation, or resumed in this one
    # a reused training: the seconds it took when it trained (None: not recorded, or it was resumed)
    recorded_seconds: Optional[float] = None


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
        return Trained(record["name"], record["checkpoint"], record["command"], None, record.get("seconds"))
    if resumable and not retrain and interrupted_checkpoint(run_dir, settings):
        return None
    if run_dir.exists():
        shutil.rmtree(run_dir)
    return None


def save_run(run_dir: Path, settings: dict, trained: Trained) -> Trained:
    write_json(
        run_dir / RUN_RECORD,
        {
            "settings": settings,
            "name": trained.name,
            "checkpoint": trained.checkpoint,
            "command": trained.command,
            "seconds": trained.seconds,
        },
    )
    return trained


def train_solo(
    variant: str,
    seed: int,
    settings: BenchSettings,
    data: Path,
    extra_overrides: Sequence[str] = (),
    name: Optional[str] = None,
) -> Trained:
    """Pretrain ``variant`` with ``seed`` from its shipped Fashion-MNIST config, or reuse the finished run."""
    from solo_tricl.bench.settings import config_file, variant_config
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
    # the config's text too: a run trained before the shipped config changed (e.g. after tuning) is not reused
    record = {"config": config, "config_text": config_file(variant).read_text(), "overrides": overrides}
    command = f"solo-tricl pretrain --config-name {config} " + shlex.join(overrides)
    if reused := reuse_or_clear(run_dir, record, settings.retrain, resumable=True):
        return reused
    if resume := interrupted_checkpoint(run_dir, record):
        print(f"   resuming the interrupted run in {run_dir} from {resume.name}", flush=True)
        overrides = [*overrides, f"++resume_from_checkpoint='{resume}'"]
    else:
        write_json(run_dir / RUN_STARTED, record)
    started = time.perf_counter()
    result = pretrain(compose("pretrain", None, config, overrides))
    # a resumed run was not timed whole in this invocation: no time for it
    seconds = None if resume else time.perf_counter() - started
    return save_run(run_dir, record, Trained(name, result.last_checkpoint, command, seconds))


def epoch_losses(run_dir: Path) -> List[float]:
    """The per-epoch mean of the method's training objective, as Lightning's CSV logger wrote it
    under ``run_dir`` (a resumed run's later logs replace the epochs they repeat). The objective
    is the method's ``train_*_loss`` (BYOL's ``train_neg_cos_sim``), never the online classifier's."""
    import csv

    by_epoch: Dict[int, float] = {}
    logs = sorted(run_dir.glob("lightning_logs/version_*/metrics.csv"), key=lambda p: int(p.parent.name.split("_")[1]))
    for path in logs:
        with path.open() as handle:
            rows = list(csv.DictReader(handle))
        if not rows:
            continue
        columns = [c for c in rows[0] if c.endswith("_loss_epoch") and c != "train_class_loss_epoch"]
        column = columns[0] if columns else "train_neg_cos_sim_epoch"
        for row in rows:
            if row.get(column):
                by_epoch[int(row["epoch"])] = float(row[column])
    return [by_epoch[epoch] for epoch in sorted(by_epoch)]


def open_clip_args(data: Path, epochs: int, device: str = "cpu", lr: float = 1e-3, seed: int = 0) -> List[str]:
    """The bench's ``open_clip_train`` options for a CLIP run on ``data`` (without --logs and --name)."""
    return [
        *("--model", "solo-tricl-tiny", "--train-data", str(data / "train.csv")),
        *("--csv-img-key", "filepath", "--csv-caption-key", "title"),
        *("--epochs", str(epochs), "--batch-size", "64", "--lr", f"{lr:g}", "--warmup", "20"),
        *("--device", device, "--workers", "2", "--seed", str(seed)),
    ]


def train_clip(
    variant: str,
    seed: int,
    settings: BenchSettings,
    data: Path,
    lr: Optional[float] = None,
    name: Optional[str] = None,
    loss_options: Sequence[str] = (),
) -> Trained:
    """Train the CLIP ``variant`` with ``seed`` through ``solo-tricl clip-train`` (a process of its
    own, as a user runs it), or reuse the finished run. ``lr``: the variant's tuned one by default;
    ``loss_options``: clip-train options of the loss (before ``--``) beyond the variant's."""
    from solo_tricl.bench.settings import CLIP_LEARNING_RATES, CLIP_VARIANTS

    loss, extra = CLIP_VARIANTS[variant]
    name = name or f"{variant}-seed{seed}"
    logs = settings.clip_logs()
    device = "cuda" if settings.accelerator == "gpu" else "cpu"
    options = [
        *open_clip_args(data, settings.open_clip_epochs, device, lr or CLIP_LEARNING_RATES[variant], seed),
        *("--logs", str(logs), "--name", name),
        *extra,
    ]
    run_dir = logs / name
    record = {
        "loss": loss,
        "loss_defaults": loss_defaults(loss),
        "open_clip_args": options,
        **({"loss_options": list(loss_options)} if loss_options else {}),
    }
    ours = ["--loss", loss, *loss_options]
    command = f"solo-tricl clip-train {shlex.join(ours)} -- " + shlex.join(options)
    if reused := reuse_or_clear(run_dir, record, settings.retrain):
        return reused
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "solo_tricl.cli", "clip-train", *ours, "--", *options],
        capture_output=True,
        text=True,
    )
    if result.returncode:
        lines = result.stderr.strip().splitlines() or ["(no output)"]
        raise CommandError(f"clip-train for {name} failed (exit status {result.returncode}): {lines[-1]}")
    checkpoint = str(run_dir / "checkpoints" / f"epoch_{settings.open_clip_epochs}.pt")
    return save_run(run_dir, record, Trained(name, checkpoint, command, time.perf_counter() - started))


def loss_defaults(loss: str) -> dict:
    """The defaults of the options ``loss`` reads, as JSON keeps them: a run trained before a
    default changed is not reused."""
    from solo_tricl.clip.plugins import declared_options, load_plugins

    defaults = {
        name: option.default for name, (option, readers) in declared_options(load_plugins()).items() if loss in readers
    }
    return json.loads(json.dumps(defaults))


def prepare_data(work: Path) -> Dict[str, Path]:
    """Fashion-MNIST for solo-learn and, with captions, for OpenCLIP under ``work/data`` (once)."""
    from solo_tricl.data.writer import write_dataset

    paths = {"solo": work / "data" / "fashion-mnist", "clip": work / "data" / "fashion-mnist-clip"}
    write_dataset("fashion-mnist", paths["solo"])
    write_dataset("fashion-mnist-clip", paths["clip"], train_per_class=CLIP_TRAIN_PER_CLASS, val_per_class=100)
    return paths


TUNING_VALIDATION_PER_CLASS = 500  # training images per class held out as the tuning's validation split
CLIP_TRAIN_PER_CLASS = 500


def prepare_tuning_data(work: Path) -> Dict[str, Path]:
    """The tuning's data under ``work/data`` (once): the training images only, each split into a
    training part and a validation part held out of it. The test images are never read."""
    from solo_tricl.data.writer import write_dataset

    paths = {"solo": work / "data" / "fashion-mnist-tuning", "clip": work / "data" / "fashion-mnist-clip-tuning"}
    write_dataset("fashion-mnist", paths["solo"], val_per_class=TUNING_VALIDATION_PER_CLASS, validation_from_train=True)
    write_dataset(
        "fashion-mnist-clip",
        paths["clip"],
        train_per_class=CLIP_TRAIN_PER_CLASS,
        val_per_class=100,
        validation_from_train=True,
    )
    return paths


def config_differences(variants: Sequence[str]) -> Dict[str, List[str]]:
    """For each variant, the config keys whose values differ from the baseline's (what bench.md
    must state), read from the composed configs themselves."""
    from solo_tricl.bench.settings import BASELINE, variant_config
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
