"""``solo-tricl data``: write the offline datasets in the layouts the hosts read."""

import argparse
from pathlib import Path

from solo_tricl.data.writer import DATASETS
from solo_tricl.errors import BadInput, CommandError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = "Write an offline dataset to disk.\n\n" + "\n".join(
        f"  {name}: {text}" for name, text in DATASETS.items()
    )
    parser.add_argument("dataset", choices=sorted(DATASETS), help="which dataset to write")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--train-per-class",
        type=int,
        default=None,
        metavar="N",
        help="keep N random training images per class (default: all 6,000)",
    )
    parser.add_argument(
        "--val-per-class",
        type=int,
        default=None,
        metavar="N",
        help="keep N random test images per class for val (default: all 1,000)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the per-class sample")


def run(args: argparse.Namespace) -> int:
    from solo_tricl.data.writer import write_dataset

    try:
        written = write_dataset(args.dataset, args.out, args.train_per_class, args.val_per_class, args.seed)
    except BadInput as error:
        raise CommandError(
            str(error).replace("train_per_class", "--train-per-class").replace("val_per_class", "--val-per-class")
        ) from None
    if not written:
        print(f"{args.out} already holds {args.dataset} written with these options; nothing to do")
    return 0
