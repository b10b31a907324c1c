"""Zero-shot classification on any classes (OpenCLIP's built-in one only knows ImageNet).

Class embeddings come from OpenCLIP's ``build_zero_shot_classifier`` (templates averaged,
normalised). For a triCL model in eval mode every feature is already weighted by sqrt(s), so
the scores are ``u^T diag(s) w``; ``top_k`` keeps the K most important features of an order
(:mod:`solo_tricl.evaluate.orders`: s, Matryoshka's prefix, activation mass on the training
images, or random) and renormalises the class embeddings on them.
"""

import argparse
import json
from pathlib import Path
from typing import Optional, Sequence

from solo_tricl.common.files import require_writable_folder, write_json
from solo_tricl.errors import CommandError


def zero_shot_accuracy(classifier, features, labels, columns=None) -> float:
    """Top-1 accuracy of ``features (N, d) @ classifier (d, C)`` for (N,) ``labels``, on the
    ``columns`` of the embedding only if given
    (:func:`solo_tricl.evaluate.measures.zero_shot_accuracy`)."""
    import torch

    from solo_tricl.evaluate.measures import zero_shot_accuracy as accuracy

    basis = None if columns is None else torch.eye(features.shape[1])[:, columns]
    return accuracy(classifier, features, labels, basis)


def read_class_spec(path: Path, labels=None) -> dict:
    """``{"classes": [...], "templates": [...]}`` from a classes.json, checked against the labels."""
    if not path.is_file():
        raise CommandError(f"no class names: {path} does not exist (pass --classes)")
    spec = json.loads(path.read_text())
    if not isinstance(spec, dict) or not spec.get("classes") or not spec.get("templates"):
        raise CommandError(f"{path} needs non-empty 'classes' and 'templates' lists")
    if labels is not None and len(labels) and (int(max(labels)) >= len(spec["classes"]) or int(min(labels)) < 0):
        raise CommandError(
            f"labels go from {int(min(labels))} to {int(max(labels))} but {path} names {len(spec['classes'])} classes"
        )
    return spec


def build_classifier(model, tokenizer, classes: Sequence[str], templates: Sequence[str]):
    import torch
    from open_clip import build_zero_shot_classifier

    with torch.no_grad():
        return build_zero_shot_classifier(
            model, tokenizer=tokenizer, classnames=list(classes), templates=list(templates), device="cpu"
        )


def configure(parser: argparse.ArgumentParser) -> None:
    from solo_tricl.evaluate.orders import ACTIVATION_IMAGES, SELECTION_ORDERS

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
        choices=SELECTION_ORDERS,
        default="importance",
        help="which K: importance (triCL's s, Matryoshka's prefix, activation mass for other losses), "
        f"activation (mean |z| on {ACTIVATION_IMAGES:,} training images of --train-data, the same seeded "
        "sample as evaluate's), prefix (the first K) or random",
    )
    parser.add_argument(
        "--train-data",
        type=Path,
        default=None,
        help="the training CSV activation mass is measured on (default: train.csv beside --data; read only "
        "when the order is activation mass)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of --order random")
    parser.add_argument("--batch-size", type=int, default=256, help="images per forward pass")
    parser.add_argument("--json", type=Path, default=None, help="write the accuracies here")
    parser.set_defaults(
        _requires=[
            ("--order", lambda args: bool(args.top_k), "--top-k"),
            ("--train-data", lambda args: bool(args.top_k), "--top-k"),
            ("--seed", lambda args: args.order == "random", "--order random"),
        ]
    )


def evaluate_zero_shot(
    checkpoint: Path,
    data: Path,
    classes_path: Path,
    top_ks: Sequence[int] = (),
    order: str = "importance",
    batch_size: int = 256,
    train_data: Optional[Path] = None,
    seed: int = 0,
) -> dict:
    """Zero-shot top-1 of a clip-train checkpoint on a labelled CSV, and on the first k features of
    ``order`` (with ``top{k}_{order}`` and ``top{k}_{order}_columns`` for each k)."""
    from solo_tricl.clip.checkpoints import load_clip
    from solo_tricl.common.images import csv_items, encode_items, require_readable_images
    from solo_tricl.evaluate.features import reference_activation
    from solo_tricl.evaluate.orders import resolve, selection

    items = csv_items(data)
    if not items:
        raise CommandError(f"{data} holds no images")
    spec = read_class_spec(classes_path, [label for _, label in items])
    require_readable_images([path for path, _ in items], f"--data {data}")
    model, preprocess, tokenizer, options = load_clip(checkpoint)
    encode = lambda x: model.encode_image(x, normalize=True)  # noqa: E731
    importance = getattr(model, "feature_importance", None)
    s = importance().detach() if importance is not None else None
    by_activation = bool(top_ks) and resolve(order, options["loss"], s is not None) == "activation"
    if by_activation:
        train_data = train_data or data.parent / "train.csv"
        if not train_data.is_file():
            raise CommandError(
                f"--order {order} of a {options['loss']} model measures activation mass on training images: "
                f"{train_data} does not exist (pass --train-data)"
            )
        train_items = csv_items(train_data)
        require_readable_images([path for path, _ in train_items], f"--train-data {train_data}")
    features, labels = encode_items(items, preprocess, encode, batch_size, "encoding images")
    classifier = build_classifier(model, tokenizer, spec["classes"], spec["templates"])
    k = features.shape[1]
    results = {
        "checkpoint": str(checkpoint),
        "loss": options["loss"],
        "images": len(labels),
        "chance": 1 / len(spec["classes"]),
        "accuracy": zero_shot_accuracy(classifier, features, labels),
    }
    if not top_ks:
        return results
    for top_k in top_ks:
        if not 1 <= top_k <= k:
            raise CommandError(f"--top-k must be in [1, {k}] (the embedding dimension), got {top_k}")
    activation = reference_activation(train_items, preprocess, encode, batch_size) if by_activation else None
    columns = selection(order, options["loss"], k, s, activation, seed).columns
    for top_k in top_ks:
        results[f"top{top_k}_{order}"] = zero_shot_accuracy(classifier, features, labels, columns[:top_k])
        results[f"top{top_k}_{order}_columns"] = columns[:top_k].tolist()
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
        args.train_data,
        args.seed,
    )
    for key, value in results.items():
        if key.endswith("_columns"):
            continue
        print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
    if args.json:
        write_json(args.json, results)
    return 0
