"""``solo-tricl evaluate``: every measure of one checkpoint, and identifiability of two."""

import argparse
from dataclasses import asdict
from pathlib import Path

from solo_tricl.common.files import require_writable_folder, write_json
from solo_tricl.common.thresholds import (
    COLLAPSED_MEAN_ABS_CORR,
    IDENTIFIABLE_LAMBDA,
    KNN_MIN_FEATURES,
    KNN_NEIGHBOURS,
    KNN_TEMPERATURE,
    RANDOM_DRAWS,
)
from solo_tricl.errors import BadInput, CommandError
from solo_tricl.evaluate.orders import ACTIVATION_IMAGES, ORDERS


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (
        "Measure what the methods promise on your checkpoints: linear probes and kNN on the first k\n"
        "features of an order against k random and the k last ones (accuracy vs k), zero-shot for\n"
        "OpenCLIP runs with class names, retrieval (precision@10, mAP), sparsity, class\n"
        "consistency, orthogonality, effective rank; with a second checkpoint of the same method\n"
        "(another seed), identifiability.\n\n"
        "  solo-tricl evaluate trained_models/tricl/a/x.ckpt trained_models/tricl/b/y.ckpt --data datasets/fashion-mnist\n"
        "  solo-tricl evaluate logs/tricl/checkpoints/epoch_10.pt --data datasets/fmnist-clip\n\n"
        "--data: solo-learn checkpoints read DATA/train and DATA/val image folders; OpenCLIP\n"
        "checkpoints read DATA/train.csv and DATA/val.csv (filepath and label columns), and\n"
        "DATA/classes.json (class names and templates) for zero-shot where it exists.\n\n"
        "Importance: triCL's learned s, Matryoshka's prefix, and for other methods activation mass\n"
        f"(mean |z_j| over {ACTIVATION_IMAGES:,} unaugmented training images, the same seeded sample in\n"
        "every command). Accuracy vs k compares the k most important, the k least important and k\n"
        f"random features (mean of {RANDOM_DRAWS} draws); kNN (solo-learn's: {KNN_NEIGHBOURS} neighbours, "
        f"T = {KNN_TEMPERATURE})\nstarts at k = {KNN_MIN_FEATURES}: on one feature every cosine "
        "similarity is +-1. Identifiability: |corr| of\n"
        "feature i of run 1 and feature i of run 2, each in its own order, for the top 8, top 16\n"
        "and all features, with each top feature's best match in the other run beside it. Runs\n"
        f"whose features are collapsed (mean |corr| > {COLLAPSED_MEAN_ABS_CORR}) get a warning "
        "instead of an identifiability\nheadline.\n\n"
        "--order canonical rotates each run's features into its canonical invariance basis first:\n"
        "fitted from two augmented views of --basis-images training images (solo-learn: the\n"
        "checkpoint's own pretraining augmentations; OpenCLIP: its training transform with crops of\n"
        "scale 0.5-1, colour jitter and grayscale), ordered by how much the views agree (lambda).\n"
        "Every measure then reads the canonical features; the invariance spectrum is plotted, the\n"
        f"identifiable rank (features with lambda > {IDENTIFIABLE_LAMBDA}) reported, and the basis "
        "saved beside the\ncheckpoint as <checkpoint>.canonical-basis.pt (load it with\n"
        "solo_tricl.evaluate.canonical.CanonicalBasis.load)."
    )
    parser.add_argument("checkpoints", type=Path, nargs="+", metavar="CKPT", help="one or two checkpoints")
    parser.add_argument(
        "--data", type=Path, required=True, help="the labelled images the measures read (layout: see above)"
    )
    parser.add_argument(
        "--train-samples", type=int, default=10000, help="training images for the probes and kNN (default 10,000)"
    )
    parser.add_argument(
        "--test-samples", type=int, default=10000, help="held-out images for every measure (default 10,000)"
    )
    parser.add_argument(
        "--top-k", type=int, default=20, help="k of the headline top-k probe and retrieval (default 20)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random features and samples")
    parser.add_argument(
        "--gallery",
        type=int,
        default=0,
        metavar="N",
        help="also draw a feature gallery per run: the N most and N least important "
        "features, each with the held-out images that activate it most and their "
        "class purity (default 0: none)",
    )
    parser.add_argument("--gallery-images", type=int, default=8, metavar="M", help="images per gallery row (default 8)")
    parser.add_argument(
        "--order",
        choices=ORDERS,
        default="importance",
        help="which features count as the k most important: importance (triCL's s, "
        "Matryoshka's prefix, activation mass for other methods; default), activation, "
        "prefix, random, or a rotation fitted after training without labels: pca "
        "(principal components) or canonical (the canonical invariance basis, see above)",
    )
    parser.add_argument(
        "--basis-images",
        type=int,
        default=5000,
        metavar="N",
        help="training images whose two augmented views fit the canonical basis "
        "(at most --train-samples; default 5,000)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("evaluation"),
        help="folder for evaluation.json and the plots (default: evaluation)",
    )
    parser.set_defaults(
        _requires=[
            ("--gallery-images", lambda args: args.gallery > 0, "--gallery N"),
            ("--basis-images", lambda args: args.order == "canonical", "--order canonical"),
        ]
    )


def run(args: argparse.Namespace) -> int:
    import torch

    from solo_tricl.evaluate.features import load_features
    from solo_tricl.evaluate.measurement import measure_pair, measure_run

    if len(args.checkpoints) > 2:
        raise CommandError("give one checkpoint, or two runs of one method for identifiability")
    if args.gallery < 0 or args.gallery_images < 1:
        raise CommandError(
            f"--gallery must be >= 0 and --gallery-images >= 1, got {args.gallery} and {args.gallery_images}"
        )
    for flag in ("train_samples", "test_samples", "top_k", "basis_images"):
        if getattr(args, flag) < 1:
            raise CommandError(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    if len(args.checkpoints) == 2 and args.checkpoints[0].resolve() == args.checkpoints[1].resolve():
        raise CommandError(f"{args.checkpoints[0]} is given twice: identifiability compares two runs")
    if len(args.checkpoints) == 2 and same_weights(*args.checkpoints):
        raise CommandError(
            f"{args.checkpoints[0]} and {args.checkpoints[1]} hold the same weights: identifiability compares two runs"
        )
    require_writable_folder(args.out, "--out")
    if args.order == "canonical":
        for checkpoint in args.checkpoints:
            require_writable_folder(checkpoint.parent, "the canonical basis's folder (beside the checkpoint)")
    views = min(args.basis_images, args.train_samples) if args.order == "canonical" else 0
    runs = [
        load_features(
            c, args.data, limit_train=args.train_samples, limit_test=args.test_samples, seed=args.seed, views=views
        )
        for c in args.checkpoints
    ]
    if len(runs) == 2 and torch.equal(runs[0].test.features, runs[1].test.features):
        raise CommandError(
            f"{args.checkpoints[0]} and {args.checkpoints[1]} give identical features: "
            "identifiability compares two runs"
        )
    k = runs[0].train.features.shape[1]
    if not 1 <= args.top_k <= k:
        raise BadInput(f"--top-k must be in [1, {k}] (the feature dimension), got {args.top_k}")
    measured = [
        measure_run(run, (args.order,), also=(args.top_k,), seed=args.seed, bottom_orders=(args.order,), retrieval=True)
        for run in runs
    ]
    ordered = [{args.order: by_order[args.order]} for _, by_order in measured]
    galleries = (
        [gallery_of(o[args.order][0], args.gallery, args.gallery_images) for o in ordered] if args.gallery else []
    )
    pair = measure_pair(*ordered) if len(runs) == 2 else None
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"order": args.order, "top_k": args.top_k, "runs": [asdict(measurement) for measurement, _ in measured]}
    for checkpoint, by_order, result in zip(args.checkpoints, ordered, report["runs"]):
        basis = by_order[args.order][1].basis
        if basis is not None:
            result.update(
                identifiable_threshold=basis.threshold,
                basis_images=views,
                basis_file=str(basis.save(checkpoint.with_suffix(".canonical-basis.pt"))),
            )
    write_plots([m for m, _ in measured], args.order, args.out)
    for i, (by_order, rows, result) in enumerate(zip(ordered, galleries, report["runs"])):
        run, fitted = by_order[args.order]
        result["gallery"] = draw_run_gallery(run, fitted, rows, args.out / f"gallery-{run.method}-{i + 1}.png")
    if pair is not None:
        from solo_tricl.common.plots import plot_heatmap

        report["identifiability"] = asdict(pair)
        plot_heatmap(
            torch.tensor(pair.heatmaps[args.order]).numpy(),
            args.out / "identifiability.png",
            f"{runs[0].method}: |corr| of features across runs, each in its own order"
            + ("" if args.order == "importance" else f" ({args.order} order)"),
            "run 2 feature rank",
            "run 1 feature rank",
        )
    write_json(args.out / "evaluation.json", report)
    print_summary(report, [m for m, _ in measured], pair)
    print(f"measures: {args.out / 'evaluation.json'}; plots: {args.out}/*.png")
    return 0


def same_weights(first: Path, second: Path) -> bool:
    """Whether two checkpoint files hold equal state dicts (a copy of one run, say)."""
    import torch

    from solo_tricl.common.torch_files import load_torch_file, state_dict_of

    a, b = (state_dict_of(load_torch_file(path), path) for path in (first, second))
    return a.keys() == b.keys() and all(
        torch.equal(a[k], b[k]) if torch.is_tensor(a[k]) and torch.is_tensor(b[k]) else a[k] == b[k] for k in a
    )


def gallery_of(run, features_per_end: int, images_per_feature: int):
    """The gallery rows of an ordered ``run`` (checked before anything is written)."""
    from solo_tricl.evaluate.gallery import run_gallery

    try:
        return run_gallery(run, features_per_end, images_per_feature)
    except BadInput as error:
        raise CommandError(f"--gallery: {error}") from None


def draw_run_gallery(run, fitted, rows, path):
    from solo_tricl.evaluate.gallery import draw_run_gallery as draw

    return draw(run, fitted, rows, path)


def write_plots(measurements, order: str, out: Path) -> None:
    from solo_tricl.common.plots import plot_curves, plot_importance, plot_importance_curves, plot_invariance_spectra
    from solo_tricl.common.thresholds import IDENTIFIABLE_LAMBDA

    tags = [f"{m.method}-{i + 1}" for i, m in enumerate(measurements)]
    spectra = {tag: m.invariance_spectrum for tag, m in zip(tags, measurements) if m.invariance_spectrum}
    if spectra:
        plot_invariance_spectra(spectra, out / "invariance-spectrum.png", IDENTIFIABLE_LAMBDA)
    learned = {tag: m.importance for tag, m in zip(tags, measurements) if m.importance is not None}
    if len(learned) == 2:
        plot_importance_curves(learned, out / "importance-both-runs.png", "learned s of both runs, sorted")
    for tag, m in zip(tags, measurements):
        if m.importance is not None:
            plot_importance(m.importance, out / f"importance-{tag}.png", f"{tag}: learned s")
        measured = m.orders[order]
        for metric, name, label in (
            ("linear", "accuracy_vs_k", "linear probe accuracy"),
            ("retrieval", "retrieval_vs_k", "precision@10"),
            ("zero_shot", "zero_shot_vs_k", "zero-shot accuracy"),
        ):
            curves = {f"top k by {measured.label}": m.curve(order, metric), "k random": m.curve("random", metric)}
            if metric == "linear" and measured.bottom:
                curves[f"bottom k by {measured.label}"] = measured.bottom
            if not curves[f"top k by {measured.label}"]:
                continue
            plot_curves(curves, out / f"{name}-{tag}.png", "k features", label, f"{tag}: {label} vs k")


def print_summary(report, measurements, pair) -> None:
    from solo_tricl.evaluate.measurement import collapse_warning

    order, top_k = report["order"], report["top_k"]
    for m, result in zip(measurements, report["runs"]):
        measured = m.orders[order]
        accuracy = (
            f"linear: all {m.at(order, 'linear', 'all'):.3f}, top-{top_k} by {measured.label} "
            f"{m.at(order, 'linear', top_k):.3f}, {top_k} random {m.at('random', 'linear', top_k):.3f}, "
            f"bottom {top_k} {measured.bottom[top_k]:.3f}; kNN all {m.at(order, 'knn', 'all'):.3f}"
        )
        if m.orders[order].curves.zero_shot:
            accuracy += (
                f"; zero-shot: all {m.at(order, 'zero_shot', 'all'):.3f}, top-{top_k} "
                f"{m.at(order, 'zero_shot', top_k):.3f}, {top_k} random {m.at('random', 'zero_shot', top_k):.3f}"
            )
        if m.backbone_linear is not None:
            accuracy += f"; backbone: linear {m.backbone_linear:.3f}, kNN {m.backbone_knn:.3f}"
        print(
            f"{m.host} {m.method}, measured on its {m.representation} ({m.features} features): {accuracy}; "
            f"sparsity {m.sparsity:.3f}; "
            f"class consistency {m.class_consistency:.3f}; mean |corr| {m.mean_abs_corr:.3f}; "
            f"effective rank {m.effective_rank:.1f}"
        )
        if m.identifiable_rank is not None:
            head = ", ".join(f"{x:.2f}" for x in m.invariance_spectrum[:8])
            print(
                f"canonical basis: identifiable rank {m.identifiable_rank} (lambda > "
                f"{result['identifiable_threshold']}); lambda of the first 8: {head}; saved to {result['basis_file']}"
            )
        if "gallery" in result:
            print(
                f"gallery: mean class purity {result['gallery']['most']['mean_purity']:.2f} (most important) vs "
                f"{result['gallery']['least']['mean_purity']:.2f} (least): {result['gallery']['png']}"
            )
    if pair is not None:
        warning = collapse_warning(pair)
        if warning:
            print(warning)
        else:
            ident = pair.by_order[order]
            heads = "".join(
                f"top-{n} {ident[f'ordered_top{n}']:.3f} (best match {ident[f'best_match_top{n}']:.3f}), "
                for n in (8, 16)
                if f"ordered_top{n}" in ident
            )
            print(
                f"identifiability, same rank in each run's own order: {heads}all {ident['ordered']:.3f} "
                f"(matched {ident['matched']:.3f})"
            )
