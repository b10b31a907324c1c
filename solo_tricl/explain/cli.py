"""``solo-tricl explain``: COCOA heatmaps and insertion/deletion AUCs for a checkpoint (the
options; the work is in :mod:`solo_tricl.explain.command`)."""

import argparse
from pathlib import Path

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
    parser.add_argument(
        "checkpoint", type=Path, help="a solo-learn .ckpt (args.json beside it) or a solo-tricl clip-train .pt"
    )
    parser.add_argument("--images", type=Path, nargs="+", required=True, help="image files or folders to explain")
    corpus = parser.add_mutually_exclusive_group(required=True)
    corpus.add_argument("--corpus", type=Path, nargs="+", help="corpus image files or folders (e.g. one class)")
    corpus.add_argument("--corpus-text", nargs="+", help="corpus prompts (OpenCLIP checkpoints)")
    foil = parser.add_mutually_exclusive_group(required=True)
    foil.add_argument("--foil", type=Path, nargs="+", help="foil image files or folders (a data sample)")
    foil.add_argument("--foil-text", nargs="+", help="foil prompts (OpenCLIP checkpoints)")
    parser.add_argument("--corpus-size", type=int, default=100, help="corpus images sampled (default 100)")
    parser.add_argument(
        "--foil-size", type=int, default=1500, help="foil images sampled, none of them in the corpus (default 1500)"
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS,
        default=["rise"],
        help="attribution methods (default rise); ig and gradshap come from captum",
    )
    parser.add_argument("--target", choices=("cosine", "dot"), default="cosine")
    parser.add_argument("--rise-masks", type=int, default=5000, help="random masks per image for RISE (default 5000)")
    parser.add_argument("--rise-grid", type=int, default=None, help="default: 4 for <= 32 px, else 7")
    parser.add_argument(
        "--evaluate", action="store_true", help="insertion/deletion AUCs, and the label-free target as a baseline"
    )
    parser.add_argument(
        "--sanity-check",
        action="store_true",
        help="parameter randomization: rank correlation with a randomized encoder",
    )
    parser.add_argument("--resize", action="store_true", help="resize images to the model's input size")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the corpus/foil sampling, the RISE masks and GradientShap's noise"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("explanations"),
        help="folder for heatmaps/*.png and explanations.json (default: explanations)",
    )
    parser.set_defaults(
        _requires=[
            ("--rise-masks", lambda args: "rise" in args.methods, "rise in --methods"),
            ("--rise-grid", lambda args: "rise" in args.methods, "rise in --methods"),
            ("--corpus-size", lambda args: args.corpus is not None, "--corpus images (a text corpus is not sampled)"),
            ("--foil-size", lambda args: args.foil is not None, "--foil images (a text foil is not sampled)"),
        ]
    )


def run(args: argparse.Namespace) -> int:
    from dataclasses import fields

    from solo_tricl.explain.command import ExplainRequest, explain

    explain(ExplainRequest(**{f.name: getattr(args, f.name) for f in fields(ExplainRequest)}))
    return 0
