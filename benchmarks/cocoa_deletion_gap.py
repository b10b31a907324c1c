"""Why do IntegratedGradients and GradientShap maps of COCOA delete the corpus class more slowly
than the label-free target's? Measured, one candidate cause at a time.

The setting of cocoa_quality.md: a solo-learn checkpoint, corpus = 100 training images of one
class, foil = 1,500 random training images outside it, explicands = validation images of that
class; insertion and deletion curves of the corpus majority probability (the online linear
head), always against the blurred image, so only the maps change between rows. Candidates:

- the attribution baseline: blur (the paper's), black (zero pixels), or the data mean;
- how channels become a pixel order: the signed mean (a signed sum orders alike) or the mean abs(a);
- the number of IG steps and GradientShap samples;
- whether the label-free target's gradient vanishes at the explicand (it is maximal there):
  the gradient norm of each target along IG's path from the blurred image to the explicand.

    python benchmarks/cocoa_deletion_gap.py CKPT --data datasets/fashion-mnist
"""

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import torch

from solo_tricl.explain.attribution import AttributionSettings, attribute
from solo_tricl.explain.baselines import gaussian_blur
from solo_tricl.explain.evaluation import corpus_majority_class, curve_aucs, perturbation_curves
from solo_tricl.explain.models import image_paths, load_encoder, load_images
from solo_tricl.explain.sampling import sample_disjoint
from solo_tricl.explain.target import ContrastiveCorpusSimilarity, LabelFreeSimilarity

# name -> (attribution baseline, pixel aggregation, IG steps, GradientShap samples)
VARIANTS = {
    "default: blur, signed mean, 50 steps/samples": ("blur", "mean", 50, 50),
    "baseline black": ("black", "mean", 50, 50),
    "baseline data mean": ("mean", "mean", 50, 50),
    "order by mean abs(a)": ("blur", "abs", 50, 50),
    "16 steps/samples": ("blur", "mean", 16, 16),
    "200 steps/samples": ("blur", "mean", 200, 200),
}


MARGIN = 0.01


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "checkpoint", type=Path, help="a solo-learn checkpoint (its online classifier scores the curves)"
    )
    parser.add_argument("--data", type=Path, required=True, help="Fashion-MNIST folder (train/, val/)")
    parser.add_argument("--corpus-class", default="5_sandal")
    parser.add_argument("--explicands", type=int, default=20)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("bench-results/cocoa-deletion-gap"))
    return parser.parse_args(argv)


def baseline_images(kind: str, images: torch.Tensor, loaded) -> torch.Tensor:
    if kind == "blur":
        return gaussian_blur(images)
    if kind == "mean":  # the normalisation's mean: zero in model space
        return torch.zeros_like(images)
    from PIL import Image

    black = loaded.preprocess(Image.new("RGB", tuple(images.shape[-2:][::-1])))
    return black.expand_as(images).clone()


@torch.no_grad()
def majority_aucs(loaded, majority, images, attributions, aggregate):
    blurred = gaussian_blur(images)
    result = {}
    for mode in ("insertion", "deletion"):
        reps = perturbation_curves(images, blurred, attributions, loaded.encoder, mode, aggregate=aggregate)
        probability = loaded.head(reps).softmax(dim=-1)[..., majority]
        result[mode] = curve_aucs({"majority_probability": probability})["majority_probability"]
    return result


def negative_share(attributions: torch.Tensor) -> float:
    """Share of the channel-averaged maps' absolute mass that is negative, mean over explicands."""
    heat = attributions.mean(dim=1).flatten(1)
    return (heat.clamp_max(0).abs().sum(1) / heat.abs().sum(1).clamp_min(1e-30)).mean().item()


def gradient_along_path(target, images, baselines, references=None, alphas=(0.0, 0.25, 0.5, 0.75, 0.9, 1.0)):
    """Mean L2 norm of d target / d input at points of IG's straight path, per alpha."""
    norms = {}
    for alpha in alphas:
        x = (baselines + alpha * (images - baselines)).requires_grad_(True)
        value = target(x) if references is None else target(x, references)
        (gradient,) = torch.autograd.grad(value.sum(), x)
        norms[alpha] = gradient.flatten(1).norm(dim=1).mean().item()
    return norms


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.time()
    loaded = load_encoder(args.checkpoint)
    if loaded.head is None:
        raise SystemExit("the checkpoint has no online classifier to score the corpus majority class")
    for parameter in loaded.encoder.parameters():
        parameter.requires_grad_(False)
    corpus_paths, foil_paths = sample_disjoint(
        [p.resolve() for p in image_paths([args.data / "train" / args.corpus_class])],
        [p.resolve() for p in image_paths([args.data / "train"])],
        100,
        1500,
        args.seed,
    )
    corpus = load_images(corpus_paths, loaded)
    target = ContrastiveCorpusSimilarity(loaded.encoder, corpus, load_images(foil_paths, loaded))
    majority = corpus_majority_class(loaded.head, loaded.encoder, corpus)
    images = load_images(sorted((args.data / "val" / args.corpus_class).glob("*.png"))[: args.explicands], loaded)
    label_free = LabelFreeSimilarity(loaded.encoder)
    references = label_free.reference(images)
    rows = {}
    for name in args.variants:
        kind, aggregate, steps, samples = VARIANTS[name]
        baselines = baseline_images(kind, images, loaded)
        settings = AttributionSettings(ig_steps=steps, gradshap_samples=samples, seed=args.seed)
        for method in ("ig", "gradshap"):
            maps = {
                "cocoa": attribute(method, target, images, baselines, settings),
                "label_free": attribute(method, label_free, images, baselines, settings, references),
            }
            rows[f"{name} | {method}"] = {
                t: {**majority_aucs(loaded, majority, images, a, aggregate), "negative_share": negative_share(a)}
                for t, a in maps.items()
            }
            print(name, method, rows[f"{name} | {method}"], flush=True)
    blurred = gaussian_blur(images)
    gradients = {
        "cocoa": gradient_along_path(target, images, blurred),
        "label_free": gradient_along_path(label_free, images, blurred, references),
    }
    report = {
        "command": "python benchmarks/cocoa_deletion_gap.py " + shlex.join(sys.argv[1:] if argv is None else argv),
        "checkpoint": str(args.checkpoint),
        "corpus_class": args.corpus_class,
        "explicands": len(images),
        "majority_class": majority,
        "rows": rows,
        "gradient_norm_along_path": gradients,
        "minutes": (time.time() - started) / 60,
    }
    write(report, args.out)
    return 0


def write(report, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "| variant | method | COCOA insertion | label-free insertion | COCOA deletion | label-free deletion "
        "| COCOA wins | negative share COCOA / label-free |",
        "|---|---|---:|---:|---:|---:|---|---:|",
    ]
    for key, row in report["rows"].items():
        cocoa, free = row["cocoa"], row["label_free"]
        wins = [
            mode
            for mode, better in (
                ("insertion", cocoa["insertion"] > free["insertion"]),
                ("deletion", cocoa["deletion"] < free["deletion"]),
            )
            if better
        ]
        lines.append(
            f"| {key} | {cocoa['insertion']:.3f} | {free['insertion']:.3f} | {cocoa['deletion']:.3f} | "
            f"{free['deletion']:.3f} | {', '.join(wins) or 'neither'} | "
            f"{cocoa['negative_share']:.2f} / {free['negative_share']:.2f} |"
        )
    default = next(iter(VARIANTS))

    def beats_default(key, row):
        base = report["rows"].get(f"{default} | {key.split(' | ')[1]}")
        return (
            base is not None
            and not key.startswith(default)
            and row["cocoa"]["insertion"] > base["cocoa"]["insertion"] + MARGIN
            and row["cocoa"]["deletion"] < base["cocoa"]["deletion"] - MARGIN
        )

    better = [key for key, row in report["rows"].items() if beats_default(key, row)]
    alphas = list(report["gradient_norm_along_path"]["cocoa"])
    gradient_rows = ["| target | " + " | ".join(f"alpha {a}" for a in alphas) + " |", "|---|" + "---:|" * len(alphas)]
    for target, norms in report["gradient_norm_along_path"].items():
        gradient_rows.append(f"| {target} | " + " | ".join(f"{norms[a]:.4f}" for a in alphas) + " |")
    text = "\n".join(
        [
            "# COCOA's gradient maps on deletion: what the gap depends on",
            "",
            f"Command: `{report['command']}` ({report['minutes']:.1f} minutes).",
            "",
            f"Checkpoint `{report['checkpoint']}`; corpus: 100 training images of `{report['corpus_class']}`; foil: "
            f"1,500 random training images outside it; explicands: the first {report['explicands']} validation images "
            f"of that class. AUCs of the mean curve of the corpus majority probability (class {report['majority_class']} "
            "of the online head), 50 steps, always perturbing towards the blurred image. Insertion: higher is better; "
            "deletion: lower is better. Negative share: the share of a map's absolute mass (channel mean) that is "
            "negative.",
            "",
            *lines,
            "",
            f"Variants whose COCOA maps beat the default on both insertion and deletion by more than {MARGIN} (about "
            "the spread between repeated GradientShap runs): " + (", ".join(better) if better else "none") + ".",
            "",
            "Gradient norm of each target along IG's path from the blurred image (alpha 0) to the explicand (alpha 1), "
            "mean over explicands:",
            "",
            *gradient_rows,
            "",
        ]
    )
    (out / "cocoa_deletion_gap.md").write_text(text)
    (out / "cocoa_deletion_gap.json").write_text(json.dumps(report, indent=1))
    print(text)


if __name__ == "__main__":
    sys.exit(main())
