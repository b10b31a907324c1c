"""``solo-tricl data``: write the offline datasets in the layouts the hosts read."""

import argparse
import json
from pathlib import Path

from solo_tricl.errors import CommandError

DATASETS = {
    "fashion-mnist": "solo-learn `custom` image folders: OUT/train/<class>/*.png, OUT/val/...",
    "fashion-mnist-clip": "OpenCLIP CSV datasets with template captions: OUT/train.csv, "
                          "OUT/val.csv (tab-separated filepath, title), OUT/classes.json",
}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = "Write an offline dataset to disk.\n\n" + "\n".join(
        f"  {name}: {text}" for name, text in DATASETS.items()
    )
    parser.add_argument("dataset", choices=sorted(DATASETS), help="which dataset to write")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--train-per-class", type=int, default=None, metavar="N",
        help="keep N random training images per class (default: all 6,000)",
    )
    parser.add_argument(
        "--val-per-class", type=int, default=None, metavar="N",
        help="keep N random test images per class for val (default: all 1,000)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the per-class sample")


MARKER = "solo-tricl-data.json"


def run(args: argparse.Namespace) -> int:
    for flag in ("train_per_class", "val_per_class"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise CommandError(f"--{flag.replace('_', '-')} must be >= 1, got {value}")
    request = {"dataset": args.dataset, "train_per_class": args.train_per_class,
               "val_per_class": args.val_per_class, "seed": args.seed}
    marker = args.out / MARKER
    if marker.exists() and json.loads(marker.read_text()) == request:
        print(f"{args.out} already holds {args.dataset} written with these options; nothing to do")
        return 0
    if args.out.exists() and any(args.out.iterdir()):
        raise CommandError(
            f"{args.out} exists and holds other files; choose a new --out (nothing was changed)"
        )
    write_fashion_mnist(args, with_captions=args.dataset == "fashion-mnist-clip")
    marker.write_text(json.dumps(request))
    return 0


def write_fashion_mnist(args: argparse.Namespace, with_captions: bool) -> None:
    from solo_tricl.data import fashion_mnist
    from solo_tricl.data.image_folder import sample_per_class, write_split

    try:
        splits = {
            "train": (fashion_mnist.load("train"), args.train_per_class),
            "val": (fashion_mnist.load("test"), args.val_per_class),
        }
    except fashion_mnist.DatasetUnavailable as error:
        raise CommandError(str(error)) from None
    for split, ((images, labels), per_class) in splits.items():
        keep = sample_per_class(labels, per_class, args.seed)
        paths = write_split(args.out, split, images[keep], labels[keep], fashion_mnist.class_folder)
        print(f"{split}: {len(paths)} images in {args.out / split}")
        if with_captions:
            from solo_tricl.data.captions import write_csv

            csv_path = write_csv(args.out, split, paths, labels[keep], fashion_mnist.CLASSES, args.seed)
            print(f"{split}: captions in {csv_path}")
    if with_captions:
        from solo_tricl.data.captions import write_classes

        print(f"classes and templates: {write_classes(args.out, fashion_mnist.CLASSES)}")
