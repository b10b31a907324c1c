"""Why Matryoshka (MRL) degenerated on the bench, and which nesting it ships with.

Every setting trains the shipped ``fashion_mnist/mrl`` config (ResNet-18, projector 512-128, batch
128, the bench's data, epochs and seed) and changes one thing at a time: where the nesting starts
(1, 2 or 8: Kusupati et al. nest 8, 16, ..., d), whether the per-prefix losses are summed (the
authors' weights of 1) or averaged, and LARS against SGD with momentum. It measures what went wrong
before (the scale of the first features against the rest, the effective rank) and what MRL is for
(the linear probe on its first k features against k random ones). Two OpenCLIP runs compare the
old and the new default nesting in the CLIP form (zero-shot, all features and the first 8).

    python benchmarks/mrl_nesting.py      # writes results/mrl_nesting.md and .json (about 40 minutes on 2 cores)
"""

import argparse
import json
import re
import shlex
import sys
from pathlib import Path

# every row names its optimizer, so the rows do not depend on the shipped config's (SGD since this
# study; the LARS rows and the first SGD rows ran when it was LARS, their overrides are in the .json)
LARS = (
    "optimizer.name=lars",
    "optimizer.lr=0.4",
    *(
        f"++optimizer.kwargs.{key}={value}"
        for key, value in (("clip_lr", True), ("eta", 0.02), ("exclude_bias_n_norm", True))
    ),
)
SGD = ("optimizer.name=sgd", "optimizer.lr=0.1", "++optimizer.kwargs.momentum=0.9")
SETTINGS = {
    "1, 2, 4, ..., 128; mean; LARS (the former default)": ("1", "mean", LARS),
    "1, 2, 4, ..., 128; sum; LARS": ("1", "sum", LARS),
    "2, 4, ..., 128; mean; LARS": ("2", "mean", LARS),
    "8, 16, ..., 128; mean; LARS": ("8", "mean", LARS),
    "8, 16, ..., 128; sum; LARS (the authors' nesting)": ("8", "sum", LARS),
    "1, 2, 4, ..., 128; mean; SGD": ("1", "mean", SGD),
    "8, 16, ..., 128; sum; SGD": ("8", "sum", SGD),
    "8, 16, ..., 128; mean; SGD (the shipped config)": ("8", "mean", SGD),
}
CLIP_SETTINGS = {
    "1, 2, 4, ..., 32; mean (the former default)": ("1", "mean"),
    "8, 16, ..., 32; sum (the authors' nesting)": ("8", "sum"),
}
KS = (1, 2, 4, 8, 16, 32)
CLIP_FEATURES = 32  # the embedding dimension of solo-tricl-tiny
RANDOM_DRAWS = 3


def nesting(smallest: str, k: int):
    from solo_tricl.losses.matryoshka import default_nesting

    return list(default_nesting(k, int(smallest)))


def scale_measures(features) -> dict:
    """The spread of each feature on the test images, and how much of the squared norm the first
    features hold: the degeneracy seen on the bench."""
    std = features.std(dim=0)
    squared = features.pow(2).sum(dim=0)
    return {
        "std_first2": std[:2].mean().item(),
        "std_median_rest": std[8:].median().item(),
        "scale_ratio": (std[:2].mean() / std[8:].median()).item(),
        "norm_share_first8": (squared[:8].sum() / squared.sum()).item(),
    }


def measure(run) -> dict:
    """The prefix order and k random features, linear and kNN, with solo-tricl's one measurement of a
    run (:func:`solo_tricl.evaluate.measurement.measure_run`), and the scale of the features."""
    from solo_tricl.evaluate.measurement import measure_run

    measured, _ = measure_run(run, ("prefix",), KS, bottom_orders=())
    result = {
        "prefix_linear": measured.curve("prefix", "linear"),
        "prefix_knn": measured.curve("prefix", "knn"),
        "random_linear": measured.curve("random", "linear"),
        "zero_shot_prefix": measured.curve("prefix", "zero_shot"),
        "effective_rank": measured.effective_rank,
        "mean_abs_corr": measured.mean_abs_corr,
        **scale_measures(run.test.features),
    }
    if measured.backbone_knn is not None:
        result["backbone_knn"] = measured.backbone_knn
    return result


def run_clip(smallest, reduction, work: Path, data: Path, epochs: int, seed: int) -> dict:
    import subprocess

    from solo_tricl.bench.training import open_clip_args
    from solo_tricl.evaluate.features import clip_features

    name = f"mrl-from{smallest}-{reduction}-epochs{epochs}-seed{seed}"
    checkpoint = work / "clip" / name / "checkpoints" / f"epoch_{epochs}.pt"
    if not checkpoint.is_file():
        oc = [*open_clip_args(data, epochs, seed=seed), "--logs", str(work / "clip"), "--name", name]
        command = [sys.executable, "-m", "solo_tricl.cli", "clip-train", "--loss", "mrl"]
        command += ["--nesting", ",".join(map(str, nesting(smallest, CLIP_FEATURES))), "--reduction", reduction]
        subprocess.run([*command, "--", *oc], check=True, capture_output=True)
    return measure(clip_features(checkpoint, data, limit_train=5000, limit_test=1000))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--epochs", type=int, default=6, help="solo-learn epochs (default 6, the bench's)")
    parser.add_argument("--clip-epochs", type=int, default=10, help="OpenCLIP epochs (default 10, the bench's)")
    parser.add_argument("--fraction", type=float, default=0.1, help="share of the training images (default 0.1)")
    parser.add_argument("--samples", type=int, default=5000, help="training and test images for the probes")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds of every setting run (default 0)")
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS), help="labels of SETTINGS to run")
    parser.add_argument("--clip-settings", nargs="*", default=list(CLIP_SETTINGS), help="labels of CLIP_SETTINGS")
    parser.add_argument("--work", type=Path, default=Path("bench-work") / "mrl-nesting")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()

    from solo_tricl.bench.settings import BenchSettings
    from solo_tricl.bench.training import prepare_data, train_solo
    from solo_tricl.evaluate.features import solo_features

    data = prepare_data(args.work)
    raw = saved_results(args.out)  # rows of earlier invocations stay; a setting and seed run now replaces its own
    for label in args.settings:
        smallest, reduction, optimizer = SETTINGS[label]
        extra = [f"method_kwargs.nesting={nesting(smallest, 128)}", f"method_kwargs.reduction={reduction}", *optimizer]
        for seed in args.seeds:
            options = BenchSettings(work=args.work / slug(label), epochs=args.epochs, fraction=args.fraction)
            trained = train_solo("mrl", seed, options, data["solo"], extra)
            run = solo_features(trained.checkpoint, data["solo"], limit_train=args.samples, limit_test=args.samples)
            record_seed(raw["solo"], label, {"overrides": extra, "seed": seed, **measure(run)})
            print(label, seed, json.dumps(raw["solo"][label][-1]), flush=True)
            write_report(raw, args)
    for label in args.clip_settings:
        smallest, reduction = CLIP_SETTINGS[label]
        for seed in args.seeds:
            result = run_clip(smallest, reduction, args.work, data["clip"], args.clip_epochs, seed)
            record_seed(raw["clip"], label, {"seed": seed, **result})
            print(label, seed, json.dumps(result), flush=True)
            write_report(raw, args)


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def saved_results(out: Path) -> dict:
    """The results saved by earlier invocations: {"solo"|"clip": {setting: [one result per seed]}}."""
    path = out / "mrl_nesting.json"
    return json.loads(path.read_text()) if path.is_file() else {"solo": {}, "clip": {}}


def record_seed(results: dict, label: str, result: dict) -> None:
    rows = [r for r in results.get(label, []) if r["seed"] != result["seed"]]
    results[label] = sorted([*rows, result], key=lambda r: r["seed"])


def write_report(raw: dict, args) -> None:
    from solo_tricl.bench.verdicts import estimate

    def values(runs, name, k=None):
        return [r[name] if k is None else r[name].get(str(k), r[name].get(k)) for r in runs]

    def cell(runs, name, k=None, digits=3):
        return estimate(values(runs, name, k)).text(digits)

    def scale(runs, digits):
        return (
            f"{cell(runs, 'std_first2', digits=digits)} / {cell(runs, 'std_median_rest', digits=digits)} "
            f"({cell(runs, 'scale_ratio', digits=1)}x)"
        )

    def row(label, runs):
        prefix_random = [f"{cell(runs, 'prefix_linear', k)} / {cell(runs, 'random_linear', k)}" for k in KS]
        return (
            f"| {label} | {len(runs)} | {scale(runs, 2)} | {cell(runs, 'norm_share_first8', digits=2)} | "
            f"{cell(runs, 'effective_rank', digits=1)} | " + " | ".join(prefix_random) + f" | "
            f"{cell(runs, 'prefix_linear', 128)} |"
        )

    def clip_row(label, runs):
        return (
            f"| {label} | {len(runs)} | {cell(runs, 'zero_shot_prefix', CLIP_FEATURES)} / "
            f"{cell(runs, 'zero_shot_prefix', 8)} | {scale(runs, 3)} | {cell(runs, 'effective_rank', digits=1)} | "
            f"{cell(runs, 'prefix_linear', 8)} / {cell(runs, 'random_linear', 8)} | "
            f"{cell(runs, 'prefix_linear', CLIP_FEATURES)} |"
        )

    command = f"python benchmarks/mrl_nesting.py {shlex.join(sys.argv[1:])}".strip()
    raw["commands"] = [*(c for c in raw.get("commands", []) if c != command), command]
    header = (
        "| setting | seeds | std of features 1-2 / median std of 9+ | share of squared norm in the first 8 | "
        "effective rank | " + " | ".join(f"k={k}: prefix / random" for k in KS) + " | all |"
    )
    lines = [
        "# Matryoshka: why it degenerated, and the nesting it ships with",
        "",
        "Commands (each adds or replaces its own settings and seeds; the rest are kept from earlier ones):",
        "",
        *(f"- `{c}`" for c in raw["commands"]),
        "",
        f"solo-learn, the shipped `fashion_mnist/mrl` config (ResNet-18, projector 512-128, batch 128, temperature "
        f"0.2), {args.epochs} epochs on a stratified {args.fraction} of the training images, CPU; one thing "
        "changed per row. LARS: lr 0.4 x batch/256, eta 0.02, clipped, biases and norms excluded. SGD: momentum "
        "0.9, lr 0.1 x batch/256. Weight decay 1e-4 for both. Summing the per-prefix losses instead of averaging "
        "them multiplies the gradient by the number of prefixes; LARS normalises that away, SGD does not. "
        f"Measured on the projector output: logistic-regression probes fitted on {args.samples:,} training images "
        f"and scored on {args.samples:,} test images, on the first k features (prefix) and on k random ones (mean "
        f"of {RANDOM_DRAWS} draws); per-feature standard deviation and effective rank on the test images. A cell is "
        "the mean over the row's seeds ± their standard deviation (the bench's spread); a row of one seed has no spread, and differences "
        "below about one point there are within run-to-run noise.",
        "",
        header,
        "|---|---:|---:|---:|---:|" + "---:|" * (len(KS) + 1),
        *(row(label, runs) for label, runs in raw["solo"].items()),
        "",
    ]
    if raw["clip"]:
        lines += [
            f"OpenCLIP (`solo-tricl-tiny`, 32-d embeddings, the bench's CLIP setting, {args.clip_epochs} epochs): "
            "zero-shot on 1,000 test images with every feature and with the first 8, and the same measures of the "
            "image embedding.",
            "",
            "| setting | seeds | zero-shot: all / first 8 | std 1-2 / median std 9+ | effective rank | linear: first 8 "
            "/ 8 random | linear, all |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *(clip_row(label, runs) for label, runs in raw["clip"].items()),
            "",
        ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "mrl_nesting.json").write_text(json.dumps(raw, indent=1))
    (args.out / "mrl_nesting.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
