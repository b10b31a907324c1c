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
import shlex
import sys
from pathlib import Path

SGD = (
    "optimizer.name=sgd",
    "optimizer.lr=0.1",
    *(f"~optimizer.kwargs.{key}" for key in ("clip_lr", "eta", "exclude_bias_n_norm")),
)
SETTINGS = {
    "1, 2, 4, ..., 128; mean; LARS (the former default)": ("1", "mean", ()),
    "1, 2, 4, ..., 128; sum; LARS": ("1", "sum", ()),
    "2, 4, ..., 128; mean; LARS": ("2", "mean", ()),
    "8, 16, ..., 128; mean; LARS": ("8", "mean", ()),
    "8, 16, ..., 128; sum; LARS (the authors' nesting)": ("8", "sum", ()),
    "1, 2, 4, ..., 128; mean; SGD": ("1", "mean", SGD),
    "8, 16, ..., 128; sum; SGD": ("8", "sum", SGD),
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


def run_clip(smallest, reduction, work: Path, data: Path, epochs: int) -> dict:
    import subprocess

    from solo_tricl.bench.training import open_clip_args
    from solo_tricl.evaluate.features import clip_features

    name = f"mrl-from{smallest}-{reduction}"
    checkpoint = work / "clip" / name / "checkpoints" / f"epoch_{epochs}.pt"
    if not checkpoint.is_file():
        oc = [*open_clip_args(data, epochs), "--logs", str(work / "clip"), "--name", name]
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
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS), help="labels of SETTINGS to run")
    parser.add_argument("--clip-settings", nargs="*", default=list(CLIP_SETTINGS), help="labels of CLIP_SETTINGS")
    parser.add_argument("--work", type=Path, default=Path("bench-work") / "mrl-nesting")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()

    from solo_tricl.bench.settings import BenchSettings
    from solo_tricl.bench.training import prepare_data, train_solo
    from solo_tricl.evaluate.features import solo_features

    data = prepare_data(args.work)
    raw = {"solo": {}, "clip": {}}
    for index, label in enumerate(args.settings):
        smallest, reduction, optimizer = SETTINGS[label]
        extra = [f"method_kwargs.nesting={nesting(smallest, 128)}", f"method_kwargs.reduction={reduction}", *optimizer]
        options = BenchSettings(work=args.work / str(index), epochs=args.epochs, fraction=args.fraction)
        trained = train_solo("mrl", 0, options, data["solo"], extra)
        run = solo_features(trained.checkpoint, data["solo"], limit_train=args.samples, limit_test=args.samples)
        raw["solo"][label] = {"overrides": extra, **measure(run)}
        print(label, json.dumps(raw["solo"][label]), flush=True)
    for label in args.clip_settings:
        smallest, reduction = CLIP_SETTINGS[label]
        raw["clip"][label] = run_clip(smallest, reduction, args.work, data["clip"], args.clip_epochs)
        print(label, json.dumps(raw["clip"][label]), flush=True)
    write_report(raw, args)


def write_report(raw: dict, args) -> None:
    def curve(r, name, k):
        return r[name].get(k, r[name].get(str(k)))

    def row(label, r, k_all):
        cells = [f"{curve(r, 'prefix_linear', k):.3f} / {curve(r, 'random_linear', k):.3f}" for k in KS]
        return (
            f"| {label} | {r['std_first2']:.2f} / {r['std_median_rest']:.2f} ({r['scale_ratio']:.1f}x) | "
            f"{r['norm_share_first8']:.2f} | {r['effective_rank']:.1f} | " + " | ".join(cells) + f" | "
            f"{curve(r, 'prefix_linear', k_all):.3f} |"
        )

    header = (
        "| setting | std of features 1-2 / median std of 9+ | share of squared norm in the first 8 | effective rank | "
        + " | ".join(f"k={k}: prefix / random" for k in KS)
        + " | all |"
    )
    lines = [
        "# Matryoshka: why it degenerated, and the nesting it ships with",
        "",
        f"Command: `python benchmarks/mrl_nesting.py {shlex.join(sys.argv[1:])}`",
        "",
        f"solo-learn, the shipped `fashion_mnist/mrl` config (ResNet-18, projector 512-128, batch 128, temperature "
        f"0.2), {args.epochs} epochs on a stratified {args.fraction} of the training images, seed 0, CPU; one thing "
        "changed per row. SGD: momentum 0.9, lr 0.1 x batch/256, weight decay 1e-4 (LARS's other settings off). "
        f"Measured on the projector output: logistic-regression probes fitted on {args.samples:,} training images "
        f"and scored on {args.samples:,} test images, on the first k features (prefix) and on k random ones (mean "
        f"of {RANDOM_DRAWS} draws); per-feature standard deviation and effective rank on the test images. One seed "
        "per setting: differences below about one point are within run-to-run noise.",
        "",
        header,
        "|---|---:|---:|---:|" + "---:|" * (len(KS) + 1),
        *(row(label, r, 128) for label, r in raw["solo"].items()),
        "",
    ]
    if raw["clip"]:
        lines += [
            f"OpenCLIP (`solo-tricl-tiny`, 32-d embeddings, the bench's CLIP setting, {args.clip_epochs} epochs): "
            "zero-shot on 1,000 test images with every feature and with the first 8, and the same measures of the "
            "image embedding.",
            "",
            "| setting | zero-shot: all / first 8 | std 1-2 / median std 9+ | effective rank | linear: first 8 / 8 "
            "random | linear, all |",
            "|---|---:|---:|---:|---:|---:|",
            *(
                f"| {label} | {curve(r, 'zero_shot_prefix', CLIP_FEATURES):.3f} / {curve(r, 'zero_shot_prefix', 8):.3f} | "
                f"{r['std_first2']:.3f} / "
                f"{r['std_median_rest']:.3f} ({r['scale_ratio']:.1f}x) | {r['effective_rank']:.1f} | "
                f"{curve(r, 'prefix_linear', 8):.3f} / {curve(r, 'random_linear', 8):.3f} | "
                f"{curve(r, 'prefix_linear', CLIP_FEATURES):.3f} |"
                for label, r in raw["clip"].items()
            ),
            "",
        ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "mrl_nesting.json").write_text(json.dumps(raw, indent=1))
    (args.out / "mrl_nesting.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
