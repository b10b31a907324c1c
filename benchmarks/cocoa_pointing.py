"""Does an explanation point at the right object? COCOA and the label-free target on 2 x 2
mosaics of held-out Fashion-MNIST images in which exactly one tile holds the corpus class.

For each mosaic and attribution method (RISE, IntegratedGradients, GradientShap), two maps:
COCOA's (the contrastive corpus similarity of the mosaic, corpus = the tile's class) and the
label-free target's (similarity to the mosaic's own representation, which knows no class).
Scores: pointing accuracy (the map's maximum is in the corpus tile; chance 0.25) and the share
of the map's positive mass in that tile (chance 0.25), with 95% Wilson intervals for accuracy.

- solo-learn encoder: corpus = 100 training images of the class, foil = 1,500 random training
  images outside every corpus. The ResNet takes any input size, so tiles keep the training
  size (28 px) and the mosaic is 56 px.
- OpenCLIP model: corpus = the class's prompts (the templates of classes.json), foil = every
  other class's prompts. Its ViT takes one size, so its own preprocessing resizes the 56 px
  mosaic to the model's 32 px (tiles of 16 px).

    python benchmarks/cocoa_pointing.py --solo CKPT --solo-data DIR --clip CKPT --clip-data DIR

writes cocoa_pointing.md, cocoa_pointing.json and cocoa_pointing.png to --out.
"""

import argparse
import json
import math
import random
import shlex
import sys
import time
from pathlib import Path

import torch

from solo_tricl.common.images import csv_items, folder_classes, folder_items
from solo_tricl.explain.attribution import METHODS, AttributionSettings, attribute
from solo_tricl.explain.baselines import gaussian_blur
from solo_tricl.explain.models import load_encoder, load_images
from solo_tricl.explain.target import ContrastiveCorpusSimilarity, LabelFreeSimilarity, encode_in_batches

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for benchmarks/pointing.py
from benchmarks.pointing import build_mosaics, plot_pointing, pointing_scores  # noqa: E402

TARGETS = ("cocoa", "label_free")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--solo", type=Path, help="a solo-learn checkpoint (args.json beside it)")
    parser.add_argument("--solo-data", type=Path, help="Fashion-MNIST folder with train/ and val/ class folders")
    parser.add_argument("--clip", type=Path, help="a solo-tricl clip-train checkpoint")
    parser.add_argument("--clip-data", type=Path, help="folder with val.csv and classes.json")
    parser.add_argument("--mosaics", type=int, default=200, help="mosaics per encoder (default 200)")
    parser.add_argument(
        "--solo-tile",
        type=int,
        default=None,
        metavar="PX",
        help="tile side for the solo-learn encoder (default: its training crop size)",
    )
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument(
        "--rise-masks",
        type=int,
        default=1000,
        help="RISE masks per mosaic (default 1,000, to fit 10 minutes on 2 CPU cores; the paper uses 5,000)",
    )
    parser.add_argument(
        "--ig-steps",
        type=int,
        default=50,
        help="IntegratedGradients steps (default 50, the paper's; in cocoa_deletion_gap.md 16, 50 "
        "and 200 give the same AUCs within 0.02)",
    )
    parser.add_argument("--gradshap-samples", type=int, default=50, help="GradientShap samples (default 50)")
    parser.add_argument("--corpus-size", type=int, default=100)
    parser.add_argument("--foil-size", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0, help="seed of the mosaics, corpus, foil and masks")
    parser.add_argument("--figure-mosaics", type=int, default=4, help="mosaics drawn in the figure")
    parser.add_argument("--out", type=Path, default=Path("bench-results/cocoa-pointing"))
    args = parser.parse_args(argv)
    if not (args.solo or args.clip):
        parser.error("give --solo CKPT --solo-data DIR and/or --clip CKPT --clip-data DIR")
    for model, data in (("solo", "solo_data"), ("clip", "clip_data")):
        if bool(getattr(args, model)) != bool(getattr(args, data)):
            parser.error(f"--{model} and --{data.replace('_', '-')} go together")
    if min(args.mosaics, args.rise_masks, args.ig_steps, args.gradshap_samples, args.corpus_size, args.foil_size) < 1:
        parser.error(
            "--mosaics, --rise-masks, --ig-steps, --gradshap-samples, --corpus-size and --foil-size must be >= 1"
        )
    return args


def wilson(hits: int, n: int, z: float = 1.96):
    """95% Wilson score interval of a proportion."""
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def by_class(items):
    grouped = {}
    for path, label in items:
        grouped.setdefault(int(label), []).append(path)
    return grouped


def solo_targets(loaded, data: Path, classes, args):
    """COCOA target per class: corpus = training images of the class, foil = a random training
    sample disjoint from every corpus."""
    train = folder_items(data / "train")
    rng = random.Random(args.seed)
    foil = rng.sample(train, min(args.foil_size, len(train) - 1))
    taken = {path for path, _ in foil}
    grouped = by_class((p, c) for p, c in train if p not in taken)

    def encode(paths, desc):
        return encode_in_batches(loaded.encoder, load_images(paths, loaded), 256, desc)

    foil_reps = encode([p for p, _ in foil], "encoding foil")
    return {
        c: ContrastiveCorpusSimilarity.from_representations(
            loaded.encoder,
            encode(rng.sample(grouped[c], min(args.corpus_size, len(grouped[c]))), f"corpus {c}"),
            foil_reps,
        )
        for c in classes
    }


def clip_targets(loaded, data: Path, args):
    spec = json.loads((data / "classes.json").read_text())
    prompts = {c: [template.format(name) for template in spec["templates"]] for c, name in enumerate(spec["classes"])}
    reps = {c: loaded.text_encoder(p) for c, p in prompts.items()}
    return {
        c: ContrastiveCorpusSimilarity.from_representations(
            loaded.encoder, reps[c], torch.cat([r for other, r in reps.items() if other != c])
        )
        for c in reps
    }, spec["classes"]


class EncodeOnce(torch.nn.Module):
    """The encoder, run once per batch object when no gradient is needed: RISE then scores
    COCOA and the label-free target from the same forward pass."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder, self.last = encoder, (None, None)

    def forward(self, images):
        if torch.is_grad_enabled():
            return self.encoder(images)
        if images is not self.last[0]:
            self.last = (images, self.encoder(images))
        return self.last[1]


def rise_both(cocoa, label_free, images, baselines, references, settings):
    """RISE maps of COCOA and of the label-free target from shared masked forward passes."""
    from solo_tricl.explain.rise import RISE

    maps = []
    for i in range(len(images)):
        reference = references[i : i + 1]
        both = lambda batch: torch.stack([cocoa(batch), label_free(batch, reference.expand(len(batch), -1))], 1)  # noqa: E731
        maps.append(
            RISE(both).attribute(
                images[i : i + 1],
                baselines[i : i + 1],
                n_masks=settings.rise_masks,
                grid=settings.grid_for(images),
                seed=settings.seed,
            )
        )
    maps = torch.cat(maps)
    return maps[:, 0], maps[:, 1]


@torch.no_grad()
def presence_auc(images, mosaics, targets) -> float:
    """Does the mosaic's representation know what it holds? For each mosaic, the share of
    (class in a tile, class in no tile) pairs whose contrastive corpus similarities are ordered
    present > absent (chance 0.5); the mean over mosaics. Near 0.5, no map can point right."""
    values = torch.stack([targets[c](images) for c in sorted(targets)], dim=1)  # (N, classes)
    shares = []
    for row, mosaic in zip(values, mosaics):
        present = torch.zeros(len(row), dtype=torch.bool)
        present[mosaic.tile_classes] = True
        shares.append((row[present][:, None] > row[~present][None, :]).float().mean().item())
    return sum(shares) / len(shares)


def play(name, loaded, mosaics, targets, args):
    """Attributions of every mosaic for each method and target, and their scores."""
    from tqdm import tqdm

    images = torch.stack([loaded.preprocess(m.image) for m in mosaics])
    baselines = gaussian_blur(images)
    quadrants = torch.tensor([m.quadrant for m in mosaics])
    classes = torch.tensor([m.corpus_class for m in mosaics])
    settings = AttributionSettings(
        rise_masks=args.rise_masks, ig_steps=args.ig_steps, gradshap_samples=args.gradshap_samples, seed=args.seed
    )
    label_free = LabelFreeSimilarity(loaded.encoder)
    references = label_free.reference(images)
    presence = presence_auc(images, mosaics, targets)
    print(f"{name}: presence AUC of the tiles' classes {presence:.3f} (chance 0.5)", flush=True)
    maps, scores, seconds = {}, {}, {}
    for method in args.methods:
        started = time.perf_counter()
        cocoa, free = torch.zeros_like(images), torch.zeros_like(images)
        for c in tqdm(classes.unique().tolist(), desc=f"{name} {method}", unit="class"):
            rows = (classes == c).nonzero().flatten()
            target = targets[c]
            if method == "rise":
                cocoa[rows], free[rows] = rise_both(
                    target, label_free, images[rows], baselines[rows], references[rows], settings
                )
            else:
                cocoa[rows] = attribute(method, target, images[rows], baselines[rows], settings, progress=False)
                free[rows] = attribute(
                    method, label_free, images[rows], baselines[rows], settings, references[rows], progress=False
                )
        seconds[method] = time.perf_counter() - started
        maps[method] = {"cocoa": cocoa, "label_free": free}
        scores[method] = {}
        for target, attributions in maps[method].items():
            result = pointing_scores(attributions, quadrants)
            hits = int(result["hit"].sum())
            scores[method][target] = {
                "pointing": hits / len(mosaics),
                "pointing_ci": wilson(hits, len(mosaics)),
                "mass": result["mass"].mean().item(),
                "per_mosaic_hit": result["hit"].tolist(),
                "per_mosaic_mass": result["mass"].tolist(),
            }
        print(
            f"{name} {method}: "
            + ", ".join(f"{t} pointing {s['pointing']:.3f} mass {s['mass']:.3f}" for t, s in scores[method].items()),
            flush=True,
        )
    return images, maps, scores, seconds, presence


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_grad_enabled(True)
    started = time.time()
    report = {
        "command": "python benchmarks/cocoa_pointing.py " + shlex.join(sys.argv[1:] if argv is None else argv),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "encoders": {},
    }
    figures = {}
    runs = []
    if args.solo:
        loaded = load_encoder(args.solo)
        loaded.encoder = EncodeOnce(loaded.encoder)
        classes = folder_classes(args.solo_data / "val")
        tile = args.solo_tile or loaded.input_size
        mosaics = build_mosaics(by_class(folder_items(args.solo_data / "val")), args.mosaics, tile, args.seed)
        runs.append(
            (
                "solo-learn",
                loaded,
                mosaics,
                solo_targets(loaded, args.solo_data, range(len(classes)), args),
                classes,
                f"tiles of {tile} px (training crop {loaded.input_size} px); mosaic {2 * tile} px",
                args.solo,
            )
        )
    if args.clip:
        loaded = load_encoder(args.clip)
        loaded.encoder = EncodeOnce(loaded.encoder)
        targets, classes = clip_targets(loaded, args.clip_data, args)
        mosaics = build_mosaics(by_class(csv_items(args.clip_data / "val.csv")), args.mosaics, 28, args.seed)
        size = loaded.preprocess(mosaics[0].image).shape[-1]
        runs.append(
            (
                "OpenCLIP",
                loaded,
                mosaics,
                targets,
                classes,
                f"56 px mosaic of 28 px tiles, resized by the model's preprocessing to {size} px",
                args.clip,
            )
        )
    for name, loaded, mosaics, targets, classes, sizing, checkpoint in runs:
        for parameter in loaded.encoder.parameters():
            parameter.requires_grad_(False)
        images, maps, scores, seconds, presence = play(name, loaded, mosaics, targets, args)
        report["encoders"][name] = {
            "checkpoint": str(checkpoint),
            "sizing": sizing,
            "mosaics": len(mosaics),
            "classes": list(classes),
            "scores": scores,
            "seconds": seconds,
            "presence_auc": presence,
        }
        shown = range(min(args.figure_mosaics, len(mosaics)))
        figures[name] = [
            (
                loaded.unnormalize(images[i]),
                mosaics[i].quadrant,
                classes[mosaics[i].corpus_class],
                {f"{m} {t.replace('_', '-')}": maps[m][t][i] for m in maps for t in TARGETS},
            )
            for i in shown
        ]
    report["minutes"] = (time.time() - started) / 60
    write(report, figures, args.out)
    return 0


# encoder -> the pointing accuracy COCOA with RISE should reach
TARGETS_RISE = {"solo-learn": 0.8, "OpenCLIP": 0.6}


def target_lines(report):
    lines = []
    for name, encoder in report["encoders"].items():
        if name not in TARGETS_RISE or "rise" not in encoder["scores"]:
            continue
        cocoa, free = (
            encoder["scores"]["rise"]["cocoa"]["pointing"],
            encoder["scores"]["rise"]["label_free"]["pointing"],
        )
        lines.append(
            f"- {name}: COCOA with RISE points right on {cocoa:.3f} of the mosaics (target >= "
            f"{TARGETS_RISE[name]}): {'met' if cocoa >= TARGETS_RISE[name] else 'MISSED'}; label-free "
            f"{free:.3f} (target: COCOA above it): {'met' if cocoa > free else 'MISSED'}"
        )
    return lines


def markdown(report, figure_name: str = "cocoa_pointing.png") -> str:
    rows = [
        "| encoder | method | COCOA pointing (95% CI) | label-free pointing (95% CI) | COCOA mass | "
        "label-free mass | seconds |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, encoder in report["encoders"].items():
        for method, score in encoder["scores"].items():
            cocoa, free = score["cocoa"], score["label_free"]
            ci = [f"({s['pointing_ci'][0]:.2f}-{s['pointing_ci'][1]:.2f})" for s in (cocoa, free)]
            rows.append(
                f"| {name} | {method} | {cocoa['pointing']:.3f} {ci[0]} | {free['pointing']:.3f} {ci[1]} | "
                f"{cocoa['mass']:.3f} | {free['mass']:.3f} | {encoder['seconds'][method]:.0f} |"
            )
    settings = report["settings"]
    return "\n".join(
        [
            "# COCOA pointing game: 2 x 2 mosaics with one corpus-class tile",
            "",
            f"Command: `{report['command']}` ({report['minutes']:.1f} minutes).",
            "",
            f"{settings['mosaics']} mosaics per encoder from held-out Fashion-MNIST images, seed {settings['seed']}: "
            "mosaic i has the corpus class i mod 10 in a random tile and three distinct other classes in the "
            "others. Blurred baselines; RISE "
            f"{settings['rise_masks']} masks, IG {settings['ig_steps']} steps, GradientShap {settings['gradshap_samples']} "
            "samples. Pointing: the channel-averaged "
            "map's maximum lies in the corpus tile (chance 0.25); mass: the share of the map's positive mass "
            "(after subtracting its median) in that tile (chance 0.25).",
            "",
            *[f"- {name}: `{e['checkpoint']}`; {e['sizing']}." for name, e in report["encoders"].items()],
            "",
            "- solo-learn: corpus = 100 training images of the class; foil = 1,500 random training images outside "
            "every corpus.",
            "- OpenCLIP: corpus = the class's prompts (every template of classes.json); foil = the other classes' "
            "prompts.",
            "",
            *rows,
            "",
            "Presence AUC, whether the mosaic's representation knows which classes it holds: for each mosaic, the "
            "share of (class in a tile, class in no tile) pairs whose contrastive corpus similarities are ordered "
            "present > absent (chance 0.5), mean over mosaics: "
            + "; ".join(f"{name} {e['presence_auc']:.3f}" for name, e in report["encoders"].items())
            + ".",
            "",
            "## Targets",
            "",
            *target_lines(report),
            "",
            f"Figure: `{figure_name}` (the corpus tile boxed in green).",
            "",
        ]
    )


def write(report, figures, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    figure = plot_pointing(figures, out / "cocoa_pointing.png")
    text = markdown(report, Path(figure).name)
    (out / "cocoa_pointing.md").write_text(text)
    (out / "cocoa_pointing.json").write_text(json.dumps(report, indent=1))
    print(text)


if __name__ == "__main__":
    sys.exit(main())
