"""``solo-tricl explain``: COCOA heatmaps and insertion/deletion AUCs for a checkpoint."""

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional

import torch
import torch.nn.functional as F

from solo_tricl.common.files import require_writable_folder, write_json
from solo_tricl.errors import CommandError
from solo_tricl.explain.attribution import METHODS


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (
        "Explain what a representation responds to with COCOA: attribute the similarity of each\n"
        "image to a corpus (minus its similarity to a foil) to its pixels.\n\n"
        "  solo-tricl explain CKPT --images img1.png dir/ --corpus data/train/5_sandal --foil data/train\n"
        "  solo-tricl explain CLIP_CKPT --images dir/ --corpus-text 'a photo of a sandal.' \\\n"
        "      --foil-text 'a photo of a bag.' 'a photo of a coat.'   # zero-shot localization\n\n"
        "Writes OUT/heatmaps/*.png and OUT/explanations.json."
    )
    parser.add_argument("checkpoint", type=Path,
                        help="a solo-learn .ckpt (args.json beside it) or a solo-tricl clip-train .pt")
    parser.add_argument("--images", type=Path, nargs="+", required=True, help="image files or folders to explain")
    corpus = parser.add_mutually_exclusive_group(required=True)
    corpus.add_argument("--corpus", type=Path, nargs="+", help="corpus image files or folders (e.g. one class)")
    corpus.add_argument("--corpus-text", nargs="+", help="corpus prompts (OpenCLIP checkpoints)")
    foil = parser.add_mutually_exclusive_group(required=True)
    foil.add_argument("--foil", type=Path, nargs="+", help="foil image files or folders (a data sample)")
    foil.add_argument("--foil-text", nargs="+", help="foil prompts (OpenCLIP checkpoints)")
    parser.add_argument("--corpus-size", type=int, default=100, help="corpus images sampled (default 100)")
    parser.add_argument("--foil-size", type=int, default=1500,
                        help="foil images sampled, none of them in the corpus (default 1500)")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=["rise"],
                        help="attribution methods (default rise); ig and gradshap come from captum")
    parser.add_argument("--target", choices=("cosine", "dot"), default="cosine")
    parser.add_argument("--rise-masks", type=int, default=5000,
                        help="random masks per image for RISE (default 5000)")
    parser.add_argument("--rise-grid", type=int, default=None, help="default: 4 for <= 32 px, else 7")
    parser.add_argument("--evaluate", action="store_true",
                        help="insertion/deletion AUCs, and the label-free target as a baseline")
    parser.add_argument("--sanity-check", action="store_true",
                        help="parameter randomization: rank correlation with a randomized encoder")
    parser.add_argument("--resize", action="store_true", help="resize images to the model's input size")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the corpus/foil sampling, the RISE masks and GradientShap's noise")
    parser.add_argument("--out", type=Path, default=Path("explanations"),
                        help="folder for heatmaps/*.png and explanations.json (default: explanations)")
    parser.set_defaults(_requires=[
        ("--rise-masks", lambda args: "rise" in args.methods, "rise in --methods"),
        ("--rise-grid", lambda args: "rise" in args.methods, "rise in --methods"),
        ("--corpus-size", lambda args: args.corpus is not None, "--corpus images (a text corpus is not sampled)"),
        ("--foil-size", lambda args: args.foil is not None, "--foil images (a text foil is not sampled)"),
    ])


@dataclass
class Corpus:
    """The corpus and foil: images (encoded by the target) or text representations (OpenCLIP)."""

    corpus_images: Optional[torch.Tensor] = None
    foil_images: Optional[torch.Tensor] = None
    corpus_text: Optional[torch.Tensor] = None
    foil_text: Optional[torch.Tensor] = None

    def target(self, encoder, mode: str):
        from solo_tricl.explain.target import ContrastiveCorpusSimilarity

        if self.corpus_text is not None:
            return ContrastiveCorpusSimilarity.from_representations(
                encoder, self.corpus_text, self.foil_text, mode)
        return ContrastiveCorpusSimilarity(encoder, self.corpus_images, self.foil_images, mode)


def read_corpus(args, loaded) -> Corpus:
    from solo_tricl.explain.models import image_paths, load_images

    if args.corpus_text or args.foil_text:
        if loaded.text_encoder is None:
            raise CommandError("--corpus-text/--foil-text need an OpenCLIP checkpoint; this is "
                               f"a {loaded.kind} checkpoint: give --corpus/--foil images")
        if not (args.corpus_text and args.foil_text):
            raise CommandError("give both --corpus-text and --foil-text (text corpus, text foil)")
        return Corpus(corpus_text=loaded.text_encoder(args.corpus_text),
                      foil_text=loaded.text_encoder(args.foil_text))
    from solo_tricl.explain.sampling import sample_disjoint

    corpus_paths, foil_paths = sample_disjoint(
        [p.resolve() for p in image_paths(args.corpus)], [p.resolve() for p in image_paths(args.foil)],
        args.corpus_size, args.foil_size, args.seed)
    return Corpus(corpus_images=load_images(corpus_paths, loaded, args.resize),
                  foil_images=load_images(foil_paths, loaded, args.resize))


def attribution_settings(args):
    from solo_tricl.explain.attribution import AttributionSettings

    return AttributionSettings(rise_masks=args.rise_masks, rise_grid=args.rise_grid, seed=args.seed)


def attribute(method: str, forward, images, baselines, args, references=None) -> torch.Tensor:
    from solo_tricl.explain import attribution

    return attribution.attribute(method, forward, images, baselines, attribution_settings(args), references)


@dataclass
class Scoring:
    """What every insertion/deletion curve is scored against, computed once per run."""

    direction: torch.Tensor                # (d,) the COCOA target's mu_C - mu_F
    reference: torch.Tensor                # (N, d) the explicands' own unit representations
    head: Optional[Callable] = None        # representations -> class logits
    majority: Optional[int] = None         # the class the head predicts most on the corpus


@torch.no_grad()
def scoring(loaded, target, images, corpus: Corpus, args) -> Scoring:
    reference = F.normalize(loaded.encoder(images), dim=1)
    if loaded.head is not None and corpus.corpus_images is not None:
        from solo_tricl.explain.evaluation import corpus_majority_class

        majority = corpus_majority_class(loaded.head, loaded.encoder, corpus.corpus_images)
        return Scoring(target.direction, reference, loaded.head, majority)
    if corpus.corpus_text is not None:
        prompts = F.normalize(torch.cat([corpus.corpus_text, corpus.foil_text]), dim=1)
        return Scoring(target.direction, reference,
                       lambda reps: 100.0 * F.normalize(reps, dim=-1) @ prompts.T, 0)
    return Scoring(target.direction, reference)


@torch.no_grad()
def evaluate(loaded, scores: Scoring, images, baselines, attributions, args) -> Dict:
    """AUCs of the mean insertion/deletion curves of each metric, and of each image's own curve
    (``per_image``)."""
    from solo_tricl.explain.evaluation import curve_aucs, per_image_aucs, perturbation_curves

    aucs = {}
    for mode in ("insertion", "deletion"):
        reps = perturbation_curves(images, baselines, attributions, loaded.encoder, mode)  # (N, S, d)
        unit = F.normalize(reps, dim=-1)
        curves = {
            "similarity": (unit if args.target == "cosine" else reps) @ scores.direction,
            "representation_shift": (unit * scores.reference[:, None, :]).sum(-1),
        }
        if scores.head is not None:
            curves["majority_probability"] = scores.head(reps).softmax(dim=-1)[..., scores.majority]
        aucs[mode] = {**curve_aucs(curves), "per_image": per_image_aucs(curves)}
    return aucs


def run(args: argparse.Namespace) -> int:
    from solo_tricl.common.plots import plot_attributions
    from solo_tricl.explain.baselines import gaussian_blur
    from solo_tricl.explain.models import image_paths, load_encoder, load_images
    from solo_tricl.explain.target import LabelFreeSimilarity

    require_writable_folder(args.out, "--out")
    loaded = load_encoder(args.checkpoint)
    for parameter in loaded.encoder.parameters():
        parameter.requires_grad_(False)
    paths = image_paths(args.images)
    if not paths:
        raise CommandError("no images to explain were found")
    images = load_images(paths, loaded, args.resize)
    baselines = gaussian_blur(images)
    corpus = read_corpus(args, loaded)
    target = corpus.target(loaded.encoder, args.target)
    report = {"checkpoint": str(args.checkpoint), "encoder": loaded.kind, "images": [str(p) for p in paths],
              "target": args.target, "settings": settings(args, images), "methods": {}}
    if args.evaluate:
        scores = scoring(loaded, target, images, corpus, args)
        label_free = LabelFreeSimilarity(loaded.encoder)
    attributions = {}
    for method in args.methods:
        attributions[method] = attribute(method, target, images, baselines, args)
        entry = report["methods"][method] = {}
        if args.evaluate:
            entry["cocoa"] = evaluate(loaded, scores, images, baselines, attributions[method], args)
            baseline_attr = attribute(method, label_free, images, baselines, args, scores.reference)
            entry["label_free"] = evaluate(loaded, scores, images, baselines, baseline_attr, args)
    if args.sanity_check:
        report["sanity_check"] = sanity_check(loaded, corpus, images, baselines, attributions, args)
    args.out.mkdir(parents=True, exist_ok=True)
    for i, path in enumerate(paths):
        plot_attributions(loaded.unnormalize(images[i]), {m: a[i] for m, a in attributions.items()},
                          args.out / "heatmaps" / f"{i:03d}_{path.stem}.png", title=path.name)
    write_json(args.out / "explanations.json", report)
    print(json.dumps(without_per_image(report), indent=1))
    print(f"heatmaps: {args.out / 'heatmaps'}; AUCs and settings: {args.out / 'explanations.json'}")
    return 0


def settings(args, images) -> Dict:
    """Everything that decides the maps and their scores, as the run used it."""
    return {
        "corpus": [str(p) for p in args.corpus] if args.corpus else None, "corpus_text": args.corpus_text,
        "foil": [str(p) for p in args.foil] if args.foil else None, "foil_text": args.foil_text,
        "corpus_size": args.corpus_size, "foil_size": args.foil_size, "methods": list(args.methods),
        **attribution_settings(args).as_dict(images), "baseline": "gaussian blur",
        "resize": args.resize, "input_size": list(images.shape[-2:]),
    }


def without_per_image(report: Dict) -> Dict:
    """The report without its image list and per-image AUCs, for the terminal."""
    def trim(value):
        if isinstance(value, dict):
            return {k: trim(v) for k, v in value.items() if k != "per_image"}
        return value

    return {k: trim(v) for k, v in report.items() if k != "images"}


def sanity_check(loaded, corpus: Corpus, images, baselines, attributions, args) -> Dict:
    """Spearman correlation between each method's attributions and those of the same target on
    a randomized image encoder (corpus images re-encoded; a text corpus is kept): values near 1
    would fail the check (Adebayo et al., 2018)."""
    from solo_tricl.explain.evaluation import randomized_copy, rank_correlation

    random_target = corpus.target(randomized_copy(loaded.encoder, args.seed), args.target)
    return {method: rank_correlation(attr, attribute(method, random_target, images, baselines, args))
            for method, attr in attributions.items()}
