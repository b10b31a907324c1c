"""``solo-tricl evaluate``: every measure of one checkpoint, and identifiability of two."""

import argparse
from pathlib import Path

from solo_tricl.common.files import require_writable_folder, write_json
from solo_tricl.common.order import ALL_ORDERS as ORDERS
from solo_tricl.errors import CommandError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (
        "Measure what the methods promise on your checkpoints: linear probes on all, the top-k\n"
        "most important and k random features (accuracy vs k), retrieval (precision@10, mAP),\n"
        "sparsity, class consistency, orthogonality; with a second checkpoint of the same\n"
        "method (another seed), identifiability.\n\n"
        "  solo-tricl evaluate trained_models/tricl/a/x.ckpt trained_models/tricl/b/y.ckpt --data datasets/fashion-mnist\n"
        "  solo-tricl evaluate logs/tricl/checkpoints/epoch_10.pt --data datasets/fmnist-clip\n\n"
        "--data: solo-learn checkpoints read DATA/train and DATA/val image folders; OpenCLIP\n"
        "checkpoints read DATA/train.csv and DATA/val.csv (filepath and label columns).\n\n"
        "Importance: triCL's learned s, activation mass (mean |z_j|) for other methods. Accuracy vs k\n"
        "compares the k most important, the k least important and k random features (mean of 3\n"
        "draws). Identifiability: |corr| of feature i of run 1 and feature i of run 2, each in its\n"
        "own order, for the top 8, top 16 and all features, with each top feature's best match in\n"
        "the other run beside it. Runs whose features are collapsed (mean |corr| > 0.8) get a\n"
        "warning instead of an identifiability headline.\n\n"
        "--order canonical rotates each run's features into its canonical invariance basis first:\n"
        "fitted from two augmented views of --basis-images training images (solo-learn: the\n"
        "checkpoint's own pretraining augmentations; OpenCLIP: its training transform with crops of\n"
        "scale 0.5-1, colour jitter and grayscale), ordered by how much the views agree (lambda).\n"
        "Every measure then reads the canonical features; the invariance spectrum is plotted, the\n"
        "identifiable rank (features with lambda > 0.8) reported, and the basis saved beside the\n"
        "checkpoint as <checkpoint>.canonical-basis.pt (load it with\n"
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
    from solo_tricl.evaluate.gallery import draw_run_gallery
    from solo_tricl.evaluate.orders import in_order
    from solo_tricl.evaluate.report import compare_runs, correlation_for_plot, evaluate_run

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
    runs, bases = map(list, zip(*(in_order(run, args.order, args.seed) for run in runs)))
    bases = [basis for basis in bases if basis is not None]
    if len(runs) == 2:
        identifiability = compare_runs(*runs)
    galleries = [gallery_of(run, args.gallery, args.gallery_images) for run in runs] if args.gallery else []
    report = {"order": args.order, "runs": [evaluate_run(run, args.top_k, seed=args.seed) for run in runs]}
    args.out.mkdir(parents=True, exist_ok=True)
    for checkpoint, basis, result in zip(args.checkpoints, bases, report["runs"]):
        result.update(
            identifiable_rank=basis.identifiable_rank,
            identifiable_threshold=basis.threshold,
            basis_images=views,
            basis_file=str(basis.save(checkpoint.with_suffix(".canonical-basis.pt"))),
        )
    write_plots(report["runs"], args.out)
    for i, (run, rows, result) in enumerate(zip(runs, galleries, report["runs"])):
        result["gallery"] = draw_run_gallery(run, rows, args.out / f"gallery-{run.method}-{i + 1}.png")
    if len(runs) == 2:
        report["identifiability"] = identifiability
        from solo_tricl.common.plots import plot_heatmap

        plot_heatmap(
            correlation_for_plot(*runs).numpy(),
            args.out / "identifiability.png",
            f"{runs[0].method}: |corr| of features across runs, each in its own order"
            + ("" if args.order == "importance" else f" ({args.order} order)"),
            "run 2 feature rank",
            "run 1 feature rank",
        )
    write_json(args.out / "evaluation.json", report)
    print_summary(report)
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
    """The gallery rows of ``run`` (checked before anything is written)."""
    from solo_tricl.evaluate.gallery import run_gallery

    try:
        return run_gallery(run, features_per_end, images_per_feature)
    except ValueError as error:
        raise CommandError(f"--gallery: {error}") from None


def write_plots(runs, out: Path) -> None:
    from solo_tricl.common.plots import plot_curves, plot_importance, plot_importance_curves, plot_invariance_spectra

    spectra = {
        f"{run['method']}-{i + 1}": run["invariance_spectrum"]
        for i, run in enumerate(runs)
        if "invariance_spectrum" in run
    }
    if spectra:
        plot_invariance_spectra(spectra, out / "invariance-spectrum.png", runs[0]["identifiable_threshold"])
    learned = {f"{run['method']}-{i + 1}": run["importance"] for i, run in enumerate(runs) if "importance" in run}
    if len(learned) == 2:
        plot_importance_curves(learned, out / "importance-both-runs.png", "learned s of both runs, sorted")
    for i, run in enumerate(runs):
        tag = f"{run['method']}-{i + 1}"
        if "importance" in run:
            plot_importance(run["importance"], out / f"importance-{tag}.png", f"{tag}: learned s")
        for measure, label in (("accuracy_vs_k", "linear probe accuracy"), ("retrieval_vs_k", "precision@10")):
            curves = {f"top k by {run['order']}": run[measure]["important"], "k random": run[measure]["random"]}
            if "least" in run[measure]:
                curves[f"bottom k by {run['order']}"] = run[measure]["least"]
            plot_curves(
                {name: {int(k): v for k, v in c.items()} for name, c in curves.items()},
                out / f"{measure}-{tag}.png",
                "k features",
                label,
                f"{tag}: {label} vs k",
            )


def print_summary(report) -> None:
    for run in report["runs"]:
        accuracy = ", ".join(f"{k} {v:.3f}" for k, v in run["accuracy"].items())
        print(
            f"{run['host']} {run['method']}: accuracy: {accuracy}; sparsity {run['sparsity']:.3f}; "
            f"class consistency {run['class_consistency']:.3f}; mean |corr| {run['mean_abs_corr']:.3f}; "
            f"effective rank {run['effective_rank']:.1f}"
        )
        if "identifiable_rank" in run:
            head = ", ".join(f"{x:.2f}" for x in run["invariance_spectrum"][:8])
            print(
                f"canonical basis: identifiable rank {run['identifiable_rank']} (lambda > "
                f"{run['identifiable_threshold']}); lambda of the first 8: {head}; saved to {run['basis_file']}"
            )
        if "gallery" in run:
            print(
                f"gallery: mean class purity {run['gallery']['most']['mean_purity']:.2f} (most important) vs "
                f"{run['gallery']['least']['mean_purity']:.2f} (least): {run['gallery']['png']}"
            )
    if "identifiability" in report:
        from solo_tricl.evaluate.report import collapse_warning

        ident = report["identifiability"]
        warning = collapse_warning(ident)
        if warning:
            print(warning)
        else:
            heads = "".join(
                f"top-{n} {ident[f'ordered_top{n}']:.3f} (best match {ident[f'best_match_top{n}']:.3f}), "
                for n in (8, 16)
                if f"ordered_top{n}" in ident
            )
            print(
                f"identifiability, same rank in each run's own order: {heads}all {ident['ordered']:.3f} "
                f"(matched {ident['matched']:.3f})"
            )
