"""Can one triCL model's own order win at every k? Ideas measured side by side, failures included.

Each setting trains the shipped `fashion_mnist/tricl` config on the bench's data and budget
(ResNet-18, projector 128, 6 epochs on 6,000 images) with one seed, changes one thing, and is
measured by solo-tricl's one measurement of a run, in its own order (s) and in the two orders any
model has after training (PCA, canonical), linear probe and kNN at k = 1 ... all. SimCLR and
Matryoshka (its shipped nesting) train beside them as the references to beat.

    python benchmarks/tricl_order_study.py     # writes results/tricl_order_study.md and .json
"""

import argparse
import json
import shlex
import sys
from pathlib import Path

PREFIXES = "[1,2,4,8,16,32,64]"
SETTINGS = {
    "SimCLR": ("simclr", ()),
    "Matryoshka": ("mrl", ()),
    "triCL (default)": ("tricl", ()),
    "triCL + nested s-prefixes, weight 1": ("tricl", (f"++method_kwargs.nesting={PREFIXES}",)),
    "triCL + nested s-prefixes, weight 0.25": (
        "tricl",
        (f"++method_kwargs.nesting={PREFIXES}", "++method_kwargs.nesting_weight=0.25"),
    ),
    "triCL + nested s-prefixes, weight 1, decorrelation 3": (
        "tricl",
        (f"++method_kwargs.nesting={PREFIXES}", "method_kwargs.decorrelation_weight=3"),
    ),
}
KS = (1, 2, 4, 8, 16, 32, 64)
ORDERS = ("importance", "pca", "canonical")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--samples", type=int, default=5000, help="training and test images for the measures")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS), help="labels of SETTINGS to run")
    parser.add_argument("--work", type=Path, default=Path("bench-work") / "tricl-order")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()

    from solo_tricl.bench.settings import BenchSettings
    from solo_tricl.bench.training import prepare_data, train_solo
    from solo_tricl.evaluate.features import solo_features
    from solo_tricl.evaluate.measurement import measure_run

    data = prepare_data(args.work)["solo"]
    raw = {}
    for index, label in enumerate(args.settings):
        variant, overrides = SETTINGS[label]
        for seed in args.seeds:
            options = BenchSettings(work=args.work / str(index), epochs=args.epochs, fraction=args.fraction)
            trained = train_solo(variant, seed, options, data, overrides)
            run = solo_features(
                trained.checkpoint, data, limit_train=args.samples, limit_test=args.samples, views=args.samples
            )
            measured, _ = measure_run(run, ORDERS, KS, bottom_orders=())
            raw.setdefault(label, []).append(
                {
                    "overrides": list(overrides),
                    "seed": seed,
                    **{
                        f"{order}_{metric}": measured.curve(order, metric)
                        for order in (*ORDERS, "random")
                        for metric in ("linear", "knn")
                    },
                    "features": measured.features,
                    "backbone_knn": measured.backbone_knn,
                }
            )
            print(label, seed, json.dumps(raw[label][-1]["importance_linear"]), flush=True)
            write_report(raw, args)


def write_report(raw: dict, args) -> None:
    import statistics

    def mean(label, key, k):
        values = [r[key].get(k, r[key].get(str(k))) for r in raw[label]]
        return statistics.mean(v for v in values if v is not None)

    columns = [*KS, "all"]

    def point(label, key, k):
        return mean(label, key, raw[label][0]["features"] if k == "all" else k)

    lines = [
        "# triCL: one order that wins at every k?",
        "",
        f"Command: `python benchmarks/tricl_order_study.py {shlex.join(sys.argv[1:])}`",
        "",
        f"solo-learn, shipped Fashion-MNIST configs, {args.epochs} epochs on a stratified {args.fraction} of the "
        f"training images, seeds {', '.join(map(str, args.seeds))} (means shown); linear probe on the first k "
        f"features, fitted on {args.samples:,} training images and scored on {args.samples:,} test images. Own: "
        "the method's order (triCL: s; Matryoshka: prefix; SimCLR: activation mass); PCA and canonical: the two "
        "rotations fitted after training, each in its own order. The probe standardises the features it is given, "
        "so its k=all differs between orders when a rotation whitens badly scaled features. Bold: the best of each "
        "column. With one seed, differences below about two points are within run-to-run noise.",
        "",
        "| setting | order | " + " | ".join(f"k={k}" for k in columns) + " |",
        "|---|---|" + "---:|" * len(columns),
    ]
    table = {}
    for label in raw:
        for order, name in (("importance", "own"), ("pca", "PCA"), ("canonical", "canonical")):
            table[(label, name)] = [point(label, f"{order}_linear", k) for k in columns]
    best = [max(row[i] for row in table.values()) for i in range(len(columns))]
    for (label, name), row in table.items():
        cells = [f"**{v:.3f}**" if v == best[i] else f"{v:.3f}" for i, v in enumerate(row)]
        lines.append(f"| {label} | {name} | " + " | ".join(cells) + " |")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tricl_order_study.json").write_text(json.dumps(raw, indent=1))
    (args.out / "tricl_order_study.md").write_text("\n".join(lines + [""]))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
