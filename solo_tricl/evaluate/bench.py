"""``solo-tricl bench``: the built-in baselines and our methods under one budget, evaluated alike.

solo-learn trains the image methods (its own ``simclr`` and our ``tricl``, ``ncl``,
``kernel``) from the shipped Fashion-MNIST configs: same ResNet-18, projector, augmentations,
optimizer, batch, data and epochs, for every seed. OpenCLIP trains the CLIP variants (its own
``clip`` loss and ours) on Fashion-MNIST images with template captions. Everything is then
evaluated by :mod:`solo_tricl.evaluate.report`, and a markdown table, a JSON of every number and
plots are written to ``--out``. Every solo-learn run is measured twice: in its own features and
importance order, and in its canonical invariance basis (:mod:`solo_tricl.evaluate.canonical`),
fitted from two views of the probes' training images under the run's own augmentations. A pair of
triCL runs with the same initial weights and another data order (``++data_order_seed``) gives
the noise floor of identifiability.

The default budget fits a 2-core CPU in about 30-60 minutes; ``--budget`` multiplies the
epochs (and ``--accelerator gpu`` moves training to a GPU).
"""

import argparse
import json
import math
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import torch

from solo_tricl.common.files import require_writable_folder, write_json
from solo_tricl.errors import CommandError

# bench name -> (solo-learn method, overrides of its shipped fashion_mnist config)
SOLO_VARIANTS = {
    "simclr": ("simclr", ()),
    "tricl": ("tricl", ()),
    "tricl-reference": ("tricl", ("method_kwargs.decorrelation=reference",)),
    "tri-scl": ("tricl", ("method_kwargs.variant=spectral",)),
    "ncl": ("ncl", ()),
    "kernel": ("kernel", ()),
}
DEFAULT_VARIANTS = ("simclr", "tricl", "tricl-reference", "tri-scl", "ncl", "kernel")
NOISE_FLOOR_VARIANT = "tricl"   # its seed-0 run is paired with a run of the same init, other data order
CLIP_LOSSES = ("clip", "tricl", "ncl", "kernel")
GALLERY_VARIANTS = ("tricl", "ncl", "simclr")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = __doc__.split("\n\n", 1)[1] if __doc__ else ""
    parser.add_argument("--budget", type=float, default=1.0, help="multiplies every epoch count (default 1)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1],
                        help="seeds of the solo-learn runs (two give identifiability)")
    parser.add_argument("--methods", nargs="+", default=list(DEFAULT_VARIANTS), choices=list(SOLO_VARIANTS),
                        help="solo-learn runs; must include the baseline simclr. tricl-reference: triCL "
                             "with the authors' decorrelation; tri-scl: the spectral variant (default: "
                             f"{' '.join(DEFAULT_VARIANTS)})")
    parser.add_argument("--clip-losses", nargs="*", default=list(CLIP_LOSSES), choices=CLIP_LOSSES)
    parser.add_argument("--epochs", type=int, default=6, help="solo-learn epochs at budget 1")
    parser.add_argument("--fraction", type=float, default=0.1,
                        help="share of the 60,000 training images used for pretraining (default 0.1)")
    parser.add_argument("--eval-train", type=int, default=5000,
                        help="training images the probes are fitted on (default 5,000)")
    parser.add_argument("--eval-test", type=int, default=5000,
                        help="held-out images every measure reads (default 5,000)")
    parser.add_argument("--basis-images", type=int, default=5000,
                        help="training images whose two augmented views fit each run's canonical basis "
                             "(at most --eval-train, at least twice the projector dimension; default 5,000)")
    parser.add_argument("--no-noise-floor", action="store_true",
                        help="skip the extra triCL run with seed 0's initial weights and another data "
                             "order, which measures the identifiability that training noise alone allows")
    parser.add_argument("--clip-epochs", type=int, default=10, help="OpenCLIP epochs at budget 1")
    parser.add_argument("--accelerator", default="cpu", help="cpu or gpu (both hosts)")
    parser.add_argument("--work", type=Path, default=Path("bench-work"),
                        help="data, checkpoints and logs (reused: data is written once)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for bench.md, bench.json, the plots and galleries (default: a new "
                             "bench-results/<date-time>; the committed results are benchmarks/results)")
    parser.add_argument("--retrain", action="store_true",
                        help="train every run again, even one already finished in --work with the "
                             "same settings (by default such runs are reused, so an interrupted "
                             "bench resumes where it stopped)")


class _Throughput:
    """A Lightning callback: training images per second over the fit (both views counted)."""

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


def prepare_data(work: Path) -> dict:
    """Fashion-MNIST for solo-learn and, with captions, for OpenCLIP under ``work/data`` (once)."""
    from solo_tricl.data.writer import write_dataset

    paths = {"solo": work / "data" / "fashion-mnist", "clip": work / "data" / "fashion-mnist-clip"}
    write_dataset("fashion-mnist", paths["solo"])
    write_dataset("fashion-mnist-clip", paths["clip"], train_per_class=500, val_per_class=100)
    return paths


RUN_RECORD = "bench-run.json"


def finished_run(run_dir: Path, settings: dict) -> Optional[dict]:
    """The record of a run in ``run_dir`` that finished with exactly ``settings``, else None."""
    try:
        record = json.loads((run_dir / RUN_RECORD).read_text())
    except (OSError, ValueError):
        return None
    if record.get("settings") != settings or not Path(record.get("checkpoint") or "").is_file():
        return None
    return record


def reuse_or_clear(run_dir: Path, settings: dict, retrain: bool) -> Optional[dict]:
    """The finished run's record to reuse; otherwise ``run_dir`` is emptied for a fresh run."""
    if not retrain and (record := finished_run(run_dir, settings)):
        print(f"   reusing the finished run in {run_dir} (--retrain trains it again)", flush=True)
        return {**record, "reused": True}
    if run_dir.exists():
        shutil.rmtree(run_dir)
    return None


def save_run(run_dir: Path, record: dict) -> dict:
    write_json(run_dir / RUN_RECORD, record)
    return record


def _without_settings(record: dict) -> dict:
    return {key: value for key, value in record.items() if key != "settings"}


def train_solo(method: str, seed: int, args, data: Path, extra_overrides=(), variant: Optional[str] = None) -> dict:
    """Pretrain ``method`` from its shipped Fashion-MNIST config, or reuse the finished run.
    ``variant`` names the run (default: the method) when ``extra_overrides`` make it another one."""
    from solo_tricl.solo.cli import compose
    from solo_tricl.solo.pretrain import pretrain

    variant = variant or method
    run_dir = args.work / "solo" / f"{variant}-seed{seed}"
    epochs = max(1, math.ceil(args.epochs * args.budget))
    overrides = [f"++seed={seed}", f"max_epochs={epochs}", f"data.fraction={args.fraction}",
                 f"data.train_path='{data / 'train'}'", f"checkpoint.dir='{run_dir}'",
                 f"++default_root_dir='{run_dir}'", f"accelerator={args.accelerator}",
                 f"name={variant}-seed{seed}", "++enable_progress_bar=False", *extra_overrides]
    settings = {"method": method, "overrides": overrides}
    if reused := reuse_or_clear(run_dir, settings, args.retrain):
        return reused
    throughput = _Throughput()
    result = pretrain(compose("pretrain", None, f"fashion_mnist/{method}", overrides), [throughput])
    return save_run(run_dir, {"settings": settings, "checkpoint": result.last_checkpoint, "variant": variant,
                              "images_per_s": throughput.images / throughput.seconds,
                              "overrides": overrides})


def train_clip(loss: str, args, data: Path) -> dict:
    logs = args.work / "clip"
    epochs = max(1, math.ceil(args.clip_epochs * args.budget))
    device = "cuda" if args.accelerator == "gpu" else "cpu"
    open_clip_args = ["--model", "solo-tricl-tiny", "--train-data", str(data / "train.csv"),
                      "--csv-img-key", "filepath", "--csv-caption-key", "title", "--epochs", str(epochs),
                      "--batch-size", "64", "--lr", "1e-3", "--warmup", "20", "--device", device,
                      "--workers", "2", "--seed", "0", "--logs", str(logs), "--name", loss]
    run_dir = logs / loss
    settings = {"loss": loss, "open_clip_args": open_clip_args}
    if reused := reuse_or_clear(run_dir, settings, args.retrain):
        return reused
    command = [sys.executable, "-m", "solo_tricl.cli", "clip-train", "--loss", loss, "--", *open_clip_args]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        raise CommandError(f"clip-train --loss {loss} failed: {result.stderr.strip().splitlines()[-1]}")
    log = (run_dir / "out.log").read_text()
    rates = [float(r) for r in re.findall(r", ([0-9.]+)/s, ", log)]
    return save_run(run_dir, {
        "settings": settings, "checkpoint": str(run_dir / "checkpoints" / f"epoch_{epochs}.pt"),
        "samples_per_s": sum(rates) / len(rates) if rates else None,
        "seconds": time.perf_counter() - started,
        "command": "solo-tricl clip-train --loss " + loss + " -- " + shlex.join(open_clip_args)})


def zero_shot(checkpoint: str, data: Path) -> dict:
    from solo_tricl.clip.zero_shot import evaluate_zero_shot

    result = evaluate_zero_shot(Path(checkpoint), data / "val.csv", data / "classes.json", top_ks=[8])
    return {"zero_shot": result["accuracy"], "zero_shot_top8": result["top8_importance"]}


BENCH_KS = (1, 2, 4, 8, 16, 20, 32)
GALLERY_FEATURES, GALLERY_IMAGES = 8, 10


def projector_dimension() -> int:
    """k of the shipped Fashion-MNIST configs' projector (the same for every method)."""
    from solo_tricl.solo.cli import compose

    return int(compose("pretrain", None, "fashion_mnist/tricl", []).method_kwargs.proj_output_dim)


def measure_solo_run(trained: dict, args, data: Path):
    """(native features, canonical features, the record's measures) of one solo-learn run."""
    from solo_tricl.evaluate.features import solo_features
    from solo_tricl.evaluate.report import evaluate_run, in_canonical_basis

    run = solo_features(trained["checkpoint"], data, limit_train=args.eval_train, limit_test=args.eval_test,
                        views=min(args.basis_images, args.eval_train))
    canonical, basis = in_canonical_basis(run)
    measures = {**_without_settings(trained), **evaluate_run(run, ks=BENCH_KS),
                "canonical": {**evaluate_run(canonical, ks=BENCH_KS), "identifiable_rank": basis.identifiable_rank,
                              "identifiable_threshold": basis.threshold}}
    return run, canonical, measures


def identifiability_of(native_pair, canonical_pair) -> dict:
    from solo_tricl.evaluate.report import compare_runs, correlation_for_plot

    return {**compare_runs(*native_pair), "heatmap": correlation_for_plot(*native_pair).tolist(),
            "canonical": compare_runs(*canonical_pair),
            "canonical_heatmap": correlation_for_plot(*canonical_pair).tolist()}


def run(args: argparse.Namespace) -> int:
    from solo_tricl.evaluate.features import clip_features
    from solo_tricl.evaluate.gallery import draw_run_gallery, run_gallery
    from solo_tricl.evaluate.report import evaluate_run
    from solo_tricl.solo.registry import require_solo_learn

    if args.budget <= 0 or not 0 < args.fraction <= 1:
        raise CommandError("--budget must be > 0 and --fraction in (0, 1]")
    if args.eval_train < 1 or args.eval_test < 1:
        raise CommandError(f"--eval-train and --eval-test must be >= 1, got {args.eval_train} and {args.eval_test}")
    if args.methods and "simclr" not in args.methods:
        raise CommandError("--methods must include the baseline simclr")
    require_solo_learn()
    if args.accelerator not in ("cpu", "gpu"):
        raise CommandError(f"--accelerator must be cpu or gpu, got {args.accelerator!r}")
    if args.accelerator == "gpu" and not torch.cuda.is_available():
        raise CommandError("--accelerator gpu: no CUDA device on this machine")
    for folder, what in ((args.work, "--work"), (args.out or Path("bench-results"), "--out")):
        require_writable_folder(folder, what)
    reference, needed = min(args.basis_images, args.eval_train), 2 * projector_dimension()
    if args.methods and reference < needed:
        raise CommandError(f"--basis-images (and --eval-train) must be >= {needed}, twice the projector "
                           f"dimension, to fit the canonical basis; got {reference}")
    started = time.time()
    args.out = args.out or Path("bench-results") / time.strftime("%Y%m%d-%H%M%S")
    args.out.mkdir(parents=True, exist_ok=True)
    data = prepare_data(args.work)
    report = {"settings": {**{k: str(v) if isinstance(v, Path) else v
                              for k, v in vars(args).items() if not k.startswith("_")},
                           "command": "solo-tricl bench " + shlex.join(sys.argv[2:]),
                           "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
                           "accelerator": args.accelerator},
              "solo": {}, "clip": {}, "identifiability": {}}
    report["galleries"] = {}
    pairs = {}
    for variant in args.methods:
        method, overrides = SOLO_VARIANTS[variant]
        pair = []
        for seed in args.seeds:
            name = f"{variant}-seed{seed}"
            print(f"== training {name} with solo-learn", flush=True)
            trained = train_solo(method, seed, args, data["solo"], overrides, variant)
            run, canonical, report["solo"][name] = measure_solo_run(trained, args, data["solo"])
            report["solo"][name]["variant"] = variant
            if seed == args.seeds[0] and variant in GALLERY_VARIANTS:
                rows = run_gallery(run, GALLERY_FEATURES, GALLERY_IMAGES)
                report["galleries"][variant] = draw_run_gallery(run, rows, args.out / f"bench_gallery_{variant}.png")
            pair.append((run, canonical))
        pairs[variant] = pair
        if len(pair) >= 2:
            report["identifiability"][variant] = identifiability_of(*zip(*pair[:2]))
    if NOISE_FLOOR_VARIANT in pairs and not args.no_noise_floor:
        method, overrides = SOLO_VARIANTS[NOISE_FLOOR_VARIANT]
        variant, seed = f"{NOISE_FLOOR_VARIANT}-same-init", args.seeds[0]
        print(f"== training {variant}: seed {seed}'s initial weights, data order seed {seed + 1}", flush=True)
        trained = train_solo(method, seed, args, data["solo"], (*overrides, f"++data_order_seed={seed + 1}"), variant)
        run, canonical, measures = measure_solo_run(trained, args, data["solo"])
        report["noise_floor"] = {"variant": NOISE_FLOOR_VARIANT, "run": measures,
                                 **identifiability_of((pairs[NOISE_FLOOR_VARIANT][0][0], run),
                                                      (pairs[NOISE_FLOOR_VARIANT][0][1], canonical))}
    for loss in args.clip_losses:
        print(f"== training CLIP with --loss {loss}", flush=True)
        trained = train_clip(loss, args, data["clip"])
        run = clip_features(trained["checkpoint"], data["clip"], limit_train=args.eval_train,
                            limit_test=args.eval_test)
        report["clip"][loss] = {**_without_settings(trained), **evaluate_run(run, top_k=8, ks=(1, 2, 4, 8, 16, 32)),
                                **zero_shot(trained["checkpoint"], data["clip"])}
    report["minutes"] = (time.time() - started) / 60
    from solo_tricl.evaluate.bench_report import write_report

    write_report(report, args.out)
    return 0
