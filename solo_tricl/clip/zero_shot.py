"""Zero-shot classification on any classes (OpenCLIP's built-in one only knows ImageNet).

Class embeddings come from OpenCLIP's ``build_zero_shot_classifier`` (templates averaged,
normalised). For a triCL model in eval mode every feature is already weighted by sqrt(s), so
the scores are ``u^T diag(s) w``; ``top_k`` keeps the K most important features (by s, by
activation mass, or random) and renormalises the class embeddings on them.
"""

import argparse
import json
from pathlib import Path
from typing import Sequence

from solo_tricl.common.files import require_writable_folder, write_json
from solo_tricl.errors import CommandError


def zero_shot_accuracy(classifier, features, labels, columns=None) -> float:
    """Top-1 accuracy of ``features (N, d) @ classifier (d, C)`` for (N,) ``labels``, on the
    ``columns`` of the embedding only if given."""
    if columns is not None:
        classifier = classifier[columns]
        classifier = classifier / classifier.norm(dim=0, keepdim=True).clamp_min(1e-12)
        features = features[:, columns]
    predictions = (features @ classifier).argmax(dim=1)
    return (predictions == labels).float().mean().item()


def build_classifier(model, tokenizer, classes: Sequence[str], templates: Sequence[str]):
    import torch
    from open_clip import build_zero_shot_classifier

    with torch.no_grad():
        return build_zero_shot_classifier(
            model, tokenizer=tokenizer, classnames=list(classes), templates=list(templates), device="cpu"
        )


def configure(parser: argparse.ArgumentParser) -> None:
    from solo_tricl.common.order import ORDERS

    parser.add_argument("checkpoint", type=Path, help="<logs>/<name>/checkpoints/epoch_N.pt")
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        help="CSV with filepath and label columns, e.g. from `solo-tricl data fashion-mnist-clip`",
    )
    parser.add_argument(
        "--classes",
        type=Path,
        default=None,
        help="JSON with 'classes' and 'templates' (default: classes.json beside --data)",
    )
    parser.add_argument(
        "--top-k",
        type=int,
        nargs="*",
        default=[],
        metavar="K",
        help="also score with only the K most important features (several K allowed)",
    )
    parser.add_argument(
        "--order",
        choices=ORDERS,
        default="importance",
        help="importance: s for triCL, activation mass otherwise; or random",
    )
    parser.add_argument("--batch-size", type=int, default=256, help="images per forward pass")
    parser.add_argument("--json", type=Path, default=None, help="write the accuracies here")
    parser.set_defaults(_requires=[("--order", lambda args: bool(args.top_k), "--top-k")])


def evaluate_zero_shot(
    checkpoint: Path,
    data: Path,
    classes_path: Path,
    top_ks: Sequence[int] = (),
    order: str = "importance",
    batch_size: int = 256,
) -> dict:
    """Zero-shot top-1 of a clip-train checkpoint on a labelled CSV, and on its top-k features."""
    from solo_tricl.clip.checkpoints import load_clip
    from solo_tricl.common.images import csv_items, encode_items, require_readable_images
    from solo_tricl.common.order import feature_order

    if not classes_path.is_file():
        raise CommandError(f"no class names: {classes_path} does not exist (pass --classes)")
    spec = json.loads(classes_path.read_text())
    if not spec.get("classes") or not spec.get("templates"):
        raise CommandError(f"{classes_path} needs non-empty 'classes' and 'templates' lists")
    items = csv_items(data)
    if not items:
        raise CommandError(f"{data} holds no images")
    if max(label for _, label in items) >= len(spec["classes"]) or min(label for _, label in items) < 0:
        raise CommandError(
            f"labels in {data} go from {min(label for _, label in items)} to "
            f"{max(label for _, label in items)} but {classes_path} names {len(spec['classes'])} classes"
        )
    require_readable_images([path for path, _ in items], f"--data {data}")
    model, preprocess, tokenizer, options = load_clip(checkpoint)
    features, labels = encode_items(
        items, preprocess, lambda x: model.encode_image(x, normalize=True), batch_size, "encoding images"
    )
    classifier = build_classifier(model, tokenizer, spec["classes"], spec["templates"])
    k = features.shape[1]
    results = {
        "checkpoint": str(checkpoint),
        "loss": options["loss"],
        "images": len(labels),
        "chance": 1 / len(spec["classes"]),
        "accuracy": zero_shot_accuracy(classifier, features, labels),
    }
    importance = getattr(model, "feature_importance", None)
    s = importance().detach() if importance is not None else None
    for top_k in top_ks:
        if not 1 <= top_k <= k:
            raise CommandError(f"--top-k must be in [1, {k}] (the embedding dimension), got {top_k}")
        columns = feature_order(order, k, s, features)[:top_k]
        results[f"top{top_k}_{order}"] = zero_shot_accuracy(classifier, features, labels, columns)
    return results


def run(args: argparse.Namespace) -> int:
    if args.json is not None:
        require_writable_folder(args.json.parent, "--json's folder")
    results = evaluate_zero_shot(
        args.checkpoint,
        args.data,
        args.classes or args.data.parent / "classes.json",
        args.top_k,
        args.order,
        args.batch_size,
    )
    for key, value in results.items():
        print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
    if args.json:
        write_json(args.json, results)
    return 0
