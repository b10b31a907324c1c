"""``solo-tricl bench``: the hosts' built-in baselines, the methods built for ordered features and
ours, tuned alike, trained alike, evaluated alike, over several seeds.

solo-learn trains the image methods (its own SimCLR, BYOL, Barlow Twins, VICReg, MoCo v3, and our
triCL, tri-SCL, NCL, kernel and Matryoshka), each from its shipped Fashion-MNIST config: the same
ResNet-18, augmentations, batch, data and epochs for every seed; each config's learning rate and
key hyperparameter come from `bench --tune` (bench.md lists every difference). OpenCLIP trains
the CLIP variants (its ClipLoss and SigLIP, and ours) on Fashion-MNIST images with template
captions. Every run is measured once, by solo-tricl's one measurement of a run (the same as
`evaluate`), in its own importance order, in two orders any model has after training (PCA, the
canonical invariance basis) and against k random features: linear probe, kNN (and zero-shot for
CLIP) on the first k features, k = 1 to all. Every table shows the mean and spread over the
seeds; a winner is named only outside the spread. Pairs of seeds give identifiability; a triCL
run with the first seed's initial weights and another data order gives its noise floor. A last
pass times every method's training steps, interleaved, with peak memory. Writes bench.md,
bench.json and plots to --out.

--tune instead gives every method the same tuning budget on a validation split held out of the
training images (one seed): the learning rate at the shipped value times each --lr-factors, then
the method's key hyperparameter at two values around the shipped one; CLIP losses the same
learning rates. Writes tuning.md and tuning.json; put the chosen values into the shipped configs.

An interrupted bench resumes: finished runs with the same settings are reused, and an interrupted
solo-learn training continues from its last checkpoint. --budget multiplies the epochs.
"""

import argparse
import platform
import shlex
import sys
import time
from pathlib import Path

from solo_tricl.bench.settings import CLIP_VARIANTS, DEFAULT_VARIANTS, BenchSettings
from solo_tricl.bench.tuning import LR_FACTORS
from solo_tricl.errors import CommandError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = __doc__.split("\n\n", 1)[1] if __doc__ else ""
    defaults = BenchSettings()
    parser.add_argument(
        "--methods",
        nargs="+",
        default=list(DEFAULT_VARIANTS),
        metavar="METHOD",
        help="solo-learn runs: ours (tricl, tricl-reference: the authors' decorrelation, tri-scl, "
        "ncl, kernel, mrl) and solo-learn's methods with a shipped Fashion-MNIST config; must include "
        f"the baseline simclr (default: {' '.join(DEFAULT_VARIANTS)})",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=list(defaults.seeds),
        help="seeds of every run: at least two, for the spread and identifiability; --tune uses the first "
        f"(default: {' '.join(map(str, defaults.seeds))})",
    )
    parser.add_argument(
        "--clip-losses",
        nargs="*",
        default=list(CLIP_VARIANTS),
        choices=list(CLIP_VARIANTS),
        metavar="LOSS",
        help="OpenCLIP runs: clip (ClipLoss) and siglip (SigLIP's sigmoid loss), "
        f"OpenCLIP's own, and ours; none: skip CLIP (default: {' '.join(CLIP_VARIANTS)})",
    )
    parser.add_argument(
        "--epochs", type=int, default=defaults.epochs, help=f"solo-learn epochs at budget 1 (default {defaults.epochs})"
    )
    parser.add_argument(
        "--clip-epochs",
        type=int,
        default=defaults.clip_epochs,
        help=f"OpenCLIP epochs at budget 1 (default {defaults.clip_epochs})",
    )
    parser.add_argument(
        "--budget", type=float, default=defaults.budget, help="multiplies every epoch count (default 1)"
    )
    parser.add_argument(
        "--fraction",
        type=float,
        default=defaults.fraction,
        help="share of the 60,000 training images used for pretraining (default 0.1)",
    )
    parser.add_argument(
        "--eval-train",
        type=int,
        default=defaults.eval_train,
        help="training images the probes and kNN are fitted on (default 5,000)",
    )
    parser.add_argument(
        "--eval-test", type=int, default=defaults.eval_test, help="held-out images every measure reads (default 5,000)"
    )
    parser.add_argument(
        "--basis-images",
        type=int,
        default=defaults.basis_images,
        help="training images whose two augmented views fit each run's canonical basis "
        "(at most --eval-train, at least twice the projector dimension; default 5,000)",
    )
    parser.add_argument(
        "--no-noise-floor",
        action="store_true",
        help="skip the extra triCL run with the first seed's initial weights and another data "
        "order, which measures the identifiability that training noise alone allows",
    )
    parser.add_argument(
        "--cost-repeats",
        type=int,
        default=defaults.cost_repeats,
        help="rounds of the last pass that times every method's training steps, interleaved, with peak "
        f"memory (default {defaults.cost_repeats}; 0 skips it)",
    )
    parser.add_argument(
        "--tune",
        action="store_true",
        help="tune instead of benchmarking: every method gets the same settings, scored on a validation "
        "split held out of the training images (see above)",
    )
    parser.add_argument(
        "--lr-factors",
        type=float,
        nargs="*",
        default=list(LR_FACTORS),
        metavar="F",
        help=f"--tune: the learning rates tried, as factors of each config's (default: {' '.join(f'{f:g}' for f in LR_FACTORS)})",
    )
    parser.add_argument(
        "--accelerator",
        choices=("cpu", "gpu"),
        default=defaults.accelerator,
        help="where both hosts train (default cpu)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=defaults.work,
        help="data, checkpoints and logs (reused: data is written once; default bench-work)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for bench.md, bench.json, the plots and galleries (default: a new "
        "bench-results/<date-time>; the committed results are benchmarks/results)",
    )
    parser.add_argument(
        "--retrain",
        action="store_true",
        help="train every run again, even one already finished in --work with the "
        "same settings (by default such runs are reused and an interrupted "
        "training continues from its last checkpoint, so a bench resumes where it stopped)",
    )
    parser.set_defaults(
        _requires=[
            ("--clip-epochs", lambda args: bool(args.clip_losses), "--clip-losses"),
            ("--no-noise-floor", lambda args: "tricl" in args.methods and not args.tune, "tricl in --methods"),
            ("--lr-factors", lambda args: args.tune, "--tune"),
            ("--cost-repeats", lambda args: not args.tune, "a bench (not --tune)"),
        ]
    )


def settings_of(args: argparse.Namespace) -> BenchSettings:
    """The checked settings of a command line."""
    import torch

    from solo_tricl.bench.settings import check_variants
    from solo_tricl.solo.registry import require_solo_learn

    if args.budget <= 0 or not 0 < args.fraction <= 1:
        raise CommandError("--budget must be > 0 and --fraction in (0, 1]")
    if args.eval_train < 1 or args.eval_test < 1:
        raise CommandError(f"--eval-train and --eval-test must be >= 1, got {args.eval_train} and {args.eval_test}")
    if args.epochs < 1 or args.clip_epochs < 1:
        raise CommandError(f"--epochs and --clip-epochs must be >= 1, got {args.epochs} and {args.clip_epochs}")
    if not args.seeds or len(set(args.seeds)) != len(args.seeds) or min(args.seeds) < 0:
        raise CommandError(f"--seeds must be distinct and >= 0, got {args.seeds}")
    if len(args.seeds) < 2 and not args.tune:
        raise CommandError(
            f"--seeds needs at least two seeds: every number is reported with its spread over seeds, got {args.seeds}"
        )
    if args.tune and (not args.lr_factors or min(args.lr_factors) <= 0):
        raise CommandError(f"--lr-factors needs at least one factor, each > 0; got {args.lr_factors or 'none'}")
    if args.cost_repeats < 0:
        raise CommandError(f"--cost-repeats must be >= 0, got {args.cost_repeats}")
    require_solo_learn()
    check_variants(args.methods)
    if args.accelerator == "gpu" and not torch.cuda.is_available():
        raise CommandError("--accelerator gpu: no CUDA device on this machine")
    return BenchSettings(
        methods=tuple(dict.fromkeys(args.methods)),
        seeds=tuple(args.seeds),
        clip_losses=tuple(dict.fromkeys(args.clip_losses)),
        epochs=args.epochs,
        clip_epochs=args.clip_epochs,
        budget=args.budget,
        fraction=args.fraction,
        eval_train=args.eval_train,
        eval_test=args.eval_test,
        basis_images=args.basis_images,
        noise_floor=not args.no_noise_floor,
        cost_repeats=args.cost_repeats,
        accelerator=args.accelerator,
        work=args.work,
        retrain=args.retrain,
    )


def run(args: argparse.Namespace) -> int:
    from solo_tricl.bench.pipeline import widest_projector
    from solo_tricl.common.files import require_writable_folder

    settings = settings_of(args)
    needed = 2 * widest_projector(settings.methods)
    if not args.tune and min(settings.basis_images, settings.eval_train) < needed:
        raise CommandError(
            f"--basis-images (and --eval-train) must be >= {needed}, twice the widest projector of "
            f"--methods, to fit the canonical basis; got {min(settings.basis_images, settings.eval_train)}"
        )
    out = args.out or Path("bench-results") / time.strftime("%Y%m%d-%H%M%S")
    require_writable_folder(settings.work, "--work")
    require_writable_folder(out, "--out")
    import torch

    context = {
        "command": "solo-tricl bench " + shlex.join(sys.argv[2:]),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
    }
    if args.tune:
        from solo_tricl.bench.tuning import run_tuning

        run_tuning(settings, args.lr_factors, out, context)
        return 0
    from solo_tricl.bench.markdown import write_report
    from solo_tricl.bench.pipeline import run_bench

    write_report(run_bench(settings, out, context), out)
    return 0
