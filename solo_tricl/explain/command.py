"""The steps of ``solo-tricl explain``: load the encoder and images, build the COCOA target,
attribute, score the maps, draw them, and write explanations.json."""

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional

import torch
import torch.nn.functional as F

from solo_tricl.common.files import require_writable_folder, write_json
from solo_tricl.errors import CommandError


@dataclass(frozen=True)
class ExplainRequest:
    """What to explain and how (the command's options, as values)."""

    checkpoint: Path
    images: List[Path]
    corpus: Optional[List[Path]] = None
    corpus_text: Optional[List[str]] = None
    foil: Optional[List[Path]] = None
    foil_text: Optional[List[str]] = None
    corpus_size: int = 100
    foil_size: int = 1500
    methods: List[str] = ("rise",)
    target: str = "cosine"
    rise_masks: int = 5000
    rise_grid: Optional[int] = None
    evaluate: bool = False
    sanity_check: bool = False
    resize: bool = False
    seed: int = 0
    out: Path = Path("explanations")


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
            return ContrastiveCorpusSimilarity.from_representations(encoder, self.corpus_text, self.foil_text, mode)
        return ContrastiveCorpusSimilarity(encoder, self.corpus_images, self.foil_images, mode)


def read_corpus(args, loaded) -> Corpus:
    from solo_tricl.explain.models import image_paths, load_images

    if args.corpus_text or args.foil_text:
        if loaded.text_encoder is None:
            raise CommandError(
                "--corpus-text/--foil-text need an OpenCLIP checkpoint; this is "
                f"a {loaded.kind} checkpoint: give --corpus/--foil images"
            )
        if not (args.corpus_text and args.foil_text):
            raise CommandError("give both --corpus-text and --foil-text (text corpus, text foil)")
        return Corpus(corpus_text=loaded.text_encoder(args.corpus_text), foil_text=loaded.text_encoder(args.foil_text))
    from solo_tricl.explain.sampling import sample_disjoint

    corpus_paths, foil_paths = sample_disjoint(
        [p.resolve() for p in image_paths(args.corpus, "--corpus")],
        [p.resolve() for p in image_paths(args.foil, "--foil")],
        args.corpus_size,
        args.foil_size,
        args.seed,
    )
    return Corpus(
        corpus_images=load_images(corpus_paths, loaded, args.resize),
        foil_images=load_images(foil_paths, loaded, args.resize),
    )


def attribution_settings(args):
    from solo_tricl.explain.attribution import AttributionSettings

    return AttributionSettings(rise_masks=args.rise_masks, rise_grid=args.rise_grid, seed=args.seed)


def attribute(method: str, forward, images, baselines, args, references=None) -> torch.Tensor:
    from solo_tricl.explain import attribution

    return attribution.attribute(method, forward, images, baselines, attribution_settings(args), references)


@dataclass
class Scoring:
    """What every insertion/deletion curve is scored against, computed once per run."""

    direction: torch.Tensor  # (d,) the COCOA target's mu_C - mu_F
    reference: torch.Tensor  # (N, d) the explicands' own unit representations
    head: Optional[Callable] = None  # representations -> class logits
    majority: Optional[int] = None  # the class the head predicts most on the corpus


@torch.no_grad()
def scoring(loaded, target, images, corpus: Corpus) -> Scoring:
    from solo_tricl.explain.target import LabelFreeSimilarity

    reference = LabelFreeSimilarity(loaded.encoder).reference(images)
    if loaded.head is not None and corpus.corpus_images is not None:
        from solo_tricl.explain.evaluation import corpus_majority_class

        majority = corpus_majority_class(loaded.head, loaded.encoder, corpus.corpus_images)
        return Scoring(target.direction, reference, loaded.head, majority)
    if corpus.corpus_text is not None:
        prompts = F.normalize(torch.cat([corpus.corpus_text, corpus.foil_text]), dim=1)
        return Scoring(target.direction, reference, lambda reps: 100.0 * F.normalize(reps, dim=-1) @ prompts.T, 0)
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


def explain(args: ExplainRequest) -> Dict:
    """Explain ``args.images``; writes the heatmaps and explanations.json to ``args.out`` and
    returns the report."""
    from solo_tricl.common.plots import plot_attributions
    from solo_tricl.explain.baselines import gaussian_blur
    from solo_tricl.explain.models import image_paths, load_encoder, load_images
    from solo_tricl.explain.target import LabelFreeSimilarity

    require_writable_folder(args.out, "--out")
    paths = image_paths(args.images, "--images")
    loaded = load_encoder(args.checkpoint)
    for parameter in loaded.encoder.parameters():
        parameter.requires_grad_(False)
    images = load_images(paths, loaded, args.resize)
    baselines = gaussian_blur(images)
    corpus = read_corpus(args, loaded)
    target = corpus.target(loaded.encoder, args.target)
    report = {
        "checkpoint": str(args.checkpoint),
        "encoder": loaded.kind,
        "images": [str(p) for p in paths],
        "target": args.target,
        "settings": settings(args, images),
        "methods": {},
    }
    if args.evaluate:
        scores = scoring(loaded, target, images, corpus)
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
        plot_attributions(
            loaded.unnormalize(images[i]),
            {m: a[i] for m, a in attributions.items()},
            args.out / "heatmaps" / f"{i:03d}_{path.stem}.png",
            title=path.name,
        )
    write_json(args.out / "explanations.json", report)
    print_summary(report)
    print(f"heatmaps: {args.out / 'heatmaps'}; every AUC and setting: {args.out / 'explanations.json'}")
    return report


def settings(args, images) -> Dict:
    """Everything that decides the maps and their scores, as the run used it."""
    return {
        "corpus": [str(p) for p in args.corpus] if args.corpus else None,
        "corpus_text": args.corpus_text,
        "foil": [str(p) for p in args.foil] if args.foil else None,
        "foil_text": args.foil_text,
        "corpus_size": args.corpus_size,
        "foil_size": args.foil_size,
        "methods": list(args.methods),
        **attribution_settings(args).as_dict(images),
        "baseline": "gaussian blur",
        "resize": args.resize,
        "input_size": list(images.shape[-2:]),
    }


def print_summary(report: Dict) -> None:
    """What a person reads: per method, the AUCs of COCOA's maps against the label-free target's,
    and the sanity check."""
    print(
        f"explained {len(report['images'])} images with {', '.join(report['methods'])} "
        f"({report['encoder']} encoder, {report['target']} target)"
    )
    for method, entry in report["methods"].items():
        if "cocoa" not in entry:
            continue
        for metric in entry["cocoa"]["insertion"]:
            if metric == "per_image":
                continue
            ours, free = (
                tuple(entry[target][mode][metric] for mode in ("insertion", "deletion"))
                for target in ("cocoa", "label_free")
            )
            print(
                f"  {method} {metric}: insertion {ours[0]:.3f} (label-free {free[0]:.3f}, higher is better), "
                f"deletion {ours[1]:.3f} (label-free {free[1]:.3f}, lower is better)"
            )
    for method, rho in report.get("sanity_check", {}).items():
        print(f"  {method} sanity check: rank correlation with a randomized encoder {rho:.3f} (near 1 would fail)")


def sanity_check(loaded, corpus: Corpus, images, baselines, attributions, args) -> Dict:
    """Spearman correlation between each method's attributions and those of the same target on
    a randomized image encoder (corpus images re-encoded; a text corpus is kept): values near 1
    would fail the check (Adebayo et al., 2018)."""
    from solo_tricl.explain.evaluation import randomized_copy, rank_correlation

    random_target = corpus.target(randomized_copy(loaded.encoder, args.seed), args.target)
    return {
        method: rank_correlation(attr, attribute(method, random_target, images, baselines, args))
        for method, attr in attributions.items()
    }
