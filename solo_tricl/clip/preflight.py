"""Pre-flight checks of an ``open_clip_train`` run, made on OpenCLIP's own parsed options before
``open_clip_train.main`` runs, so that a bad input is one line before OpenCLIP logs anything,
creates ``logs/<name>``, or builds a model.

* the optimizer: open_clip_train's AdamW, built on one stand-in parameter with the options'
  learning rate, betas, eps and weight decay, so that torch checks them now (:func:`check_optimizer`);
* numbers OpenCLIP takes without a check: finite, and in range (:data:`RANGES`, else >= 0);
* ``--model``: a name in OpenCLIP's model registry (with solo-tricl's configs added), or one of
  its ``local-dir:``/``hf-hub:`` forms;
* ``--device``: available (torch's own check);
* ``--logs``/``--name``: writable, and not an existing run unless ``--resume latest``;
* CSV data (``--train-data``, ``--val-data``): read as OpenCLIP reads it (pandas, the
  ``--csv-separator``), with its image and caption columns, every image readable, no empty
  caption, and at least one batch per process (OpenCLIP drops the last incomplete one).
"""

import argparse
import math
import os
from pathlib import Path
from typing import Callable, Dict, Tuple

from solo_tricl.common.options import flag
from solo_tricl.errors import BadInput, CommandError

# Ranges OpenCLIP does not check before it builds a model (its parser takes any number; zero
# epochs train nothing and end with status 0, a zero logging interval divides by zero mid-run). The
# optimizer's own options are torch's to check: check_optimizer.
RANGES: Dict[str, Tuple[Callable[[float], bool], str]] = {
    "epochs": (lambda value: value >= 1, ">= 1"),
    "batch_size": (lambda value: value >= 1, ">= 1"),
    "accum_freq": (lambda value: value >= 1, ">= 1"),
    "log_every_n_steps": (lambda value: value >= 1, ">= 1"),
    "val_frequency": (lambda value: value >= 1, ">= 1"),
    "zeroshot_frequency": (lambda value: value >= 1, ">= 1"),
    "force_patch_dropout": (lambda value: 0 <= value < 1, "in [0, 1)"),
}


OPTIMIZER_OPTIONS = ("lr", "beta1", "beta2", "eps", "wd")


def check_optimizer(args: argparse.Namespace) -> None:
    """open_clip_train's AdamW (its default ``--opt``), built with the run's options on one
    stand-in parameter: torch's own checks of the learning rate, betas, eps and weight decay."""
    import torch

    if getattr(args, "opt", "adamw").lower() != "adamw":
        return
    try:
        torch.optim.AdamW(
            [torch.nn.Parameter(torch.zeros(1))],
            lr=args.lr,
            betas=(args.beta1, args.beta2),
            eps=args.eps,
            weight_decay=args.wd,
        )
    except (ValueError, TypeError) as error:
        options = ", ".join(f"{flag(name)} {getattr(args, name)}" for name in OPTIMIZER_OPTIONS)
        raise CommandError(f"torch's AdamW refuses {options}: {' '.join(str(error).split())}") from None


def check_numbers(args: argparse.Namespace) -> None:
    """Every number finite; in range where no host checks it (the optimizer's are torch's)."""
    for name, value in sorted(vars(args).items()):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        test, allowed = (
            (lambda v: True, "") if name in OPTIMIZER_OPTIONS else RANGES.get(name, (lambda v: v >= 0, ">= 0"))
        )
        allowed = f" and {allowed}" if allowed else ""
        if not (math.isfinite(value) and test(value)):
            raise CommandError(f"{flag(name)} must be finite{allowed}, got {value!r}")


def check_model(args: argparse.Namespace) -> None:
    import open_clip

    from solo_tricl.clip.checkpoints import MODEL_CONFIGS

    open_clip.add_model_config(MODEL_CONFIGS)
    if args.model.startswith(("hf-hub:", "local-dir:")):
        if (
            args.model.startswith("local-dir:")
            and not (Path(args.model[len("local-dir:") :]) / "open_clip_config.json").is_file()
        ):
            raise CommandError(f"--model {args.model}: no open_clip_config.json in that folder")
        return
    if args.model not in open_clip.list_models():
        raise CommandError(
            f"--model {args.model} is not one of OpenCLIP's models (open_clip.list_models(); "
            "solo-tricl adds solo-tricl-tiny)"
        )


def check_device(args: argparse.Namespace) -> None:
    import torch

    try:
        device = torch.device(args.device)
    except (RuntimeError, ValueError) as error:
        raise CommandError(f"--device {args.device}: {error}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise CommandError(f"--device {args.device}: CUDA is not available on this machine (use --device cpu)")


def check_logs(args: argparse.Namespace) -> None:
    """OpenCLIP refuses an existing run (``<logs>/<name>/out.log``) unless resuming the latest, with
    a message and exit status 0 after creating folders: refuse it here first."""
    from solo_tricl.common.files import require_writable_folder

    if args.logs is None or str(args.logs).lower() == "none":
        return
    require_writable_folder(args.logs, "--logs")
    if args.name is not None and (Path(args.logs) / args.name / "out.log").exists() and args.resume != "latest":
        raise CommandError(
            f"--name {args.name}: {Path(args.logs) / args.name} already holds a run; choose "
            "another --name, or continue it with --resume latest"
        )


def is_csv(args: argparse.Namespace, path: str) -> bool:
    kind = getattr(args, "dataset_type", "auto")
    return kind == "csv" or (kind == "auto" and path.split("::")[0].endswith(".csv"))


def check_csv(path: str, args: argparse.Namespace, option: str, training: bool) -> None:
    """The CSV as OpenCLIP's CsvDataset reads it: pandas with ``--csv-separator``."""
    import pandas as pd

    from solo_tricl.common.images import require_readable_images

    if not Path(path).is_file():
        raise CommandError(f"{option} {path} does not exist (relative paths are read from {os.getcwd()})")
    try:
        table = pd.read_csv(path, sep=args.csv_separator)
    except (ValueError, pd.errors.ParserError) as error:
        raise CommandError(
            f"{option} {path} cannot be read as a CSV with separator "
            f"{args.csv_separator!r}: {' '.join(str(error).split())}"
        ) from None
    for key, column in (("--csv-img-key", args.csv_img_key), ("--csv-caption-key", args.csv_caption_key)):
        if column not in table.columns:
            raise CommandError(
                f"{option} {path} has no column {column!r} ({key}); its columns: "
                f"{', '.join(map(str, table.columns))} (separator {args.csv_separator!r}, --csv-separator)"
            )
    captions = table[args.csv_caption_key]
    empty = captions.isna() | (captions.astype(str).str.strip() == "")
    if empty.any():
        row = int(empty.idxmax())
        raise CommandError(f"{option} {path}: row {row + 2} has no caption in column {args.csv_caption_key!r}")
    paths = table[args.csv_img_key].astype(str).tolist()
    missing = next((p for p in paths if not Path(p).is_file()), None)
    if missing is not None:
        raise CommandError(
            f"{option} {path}: image {missing} does not exist (relative paths are read from {os.getcwd()})"
        )
    try:
        require_readable_images(paths, f"{option} {path}")
    except BadInput as error:
        raise CommandError(str(error)) from None
    processes = int(os.environ.get("WORLD_SIZE", "1"))
    if training and len(paths) // processes < args.batch_size:
        raise CommandError(
            f"{option} {path} holds {len(paths)} pairs, {len(paths) // processes} per process: "
            f"fewer than one batch (--batch-size {args.batch_size}), so nothing would train"
        )


def check_data(args: argparse.Namespace) -> None:
    if not args.train_data and args.dataset_type != "synthetic":
        raise CommandError("--train-data is required (OpenCLIP would only evaluate)")
    for option, value, training in (("--train-data", args.train_data, True), ("--val-data", args.val_data, False)):
        if value and is_csv(args, value):
            check_csv(value, args, option, training)
        elif value and is_local_file(value) and not Path(value).exists():
            raise CommandError(f"{option} {value} does not exist (relative paths are read from {os.getcwd()})")


def is_local_file(value: str) -> bool:
    """Whether a data option names one local file: not a URL, a pipe, a brace pattern of webdataset
    shards or several sources joined with ``::``."""
    return not any(mark in value for mark in ("://", "pipe:", "{", "::"))


def check_open_clip_args(args: argparse.Namespace) -> None:
    """Every check above, in the order a user would fix them."""
    check_optimizer(args)
    check_numbers(args)
    check_model(args)
    check_device(args)
    check_logs(args)
    check_data(args)
