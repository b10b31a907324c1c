"""Where in the importance order are two seeds of triCL identifiable?

`solo-tricl evaluate` reports identifiability over all features. This splits it by rank: for
pairs of checkpoints (two seeds of one method, one pair per row), the mean |corr| between
feature i of seed 1 and feature i of seed 2 (each in its own importance order) over the first
4, 8, 16 and all features, and, for the first 8 features of seed 1, the mean of their best
|corr| with any feature of seed 2 (is the feature learned at all, at whatever rank?).

    python benchmarks/identifiability_by_rank.py --data bench-work/data/fashion-mnist \\
        --pair "bench, 6 epochs" A.ckpt B.ckpt --pair "30 epochs" C.ckpt D.ckpt
"""

import argparse
import shlex
import sys
from pathlib import Path

from solo_tricl.evaluate.features import solo_features
from solo_tricl.evaluate.measurement import measure_pair
from solo_tricl.evaluate.orders import in_order

PREFIXES = (4, 8, 16)


def by_rank(first: str, second: str, data: Path, test_samples: int) -> dict:
    import torch

    runs = [solo_features(c, data, limit_train=100, limit_test=test_samples) for c in (first, second)]
    k = runs[0].test.features.shape[1]
    pair = measure_pair(*({"importance": in_order(run, "importance")} for run in runs), heatmap_size=k)
    correlation = torch.tensor(pair.heatmaps["importance"])
    same_rank = correlation.diagonal()
    row = {f"top {k}": same_rank[:k].mean().item() for k in PREFIXES}
    row["all"] = same_rank.mean().item()
    row["top 8, best match anywhere"] = correlation[:8].max(dim=1).values.mean().item()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="solo-learn image folders (train/, val/)")
    parser.add_argument(
        "--pair",
        nargs=3,
        action="append",
        required=True,
        metavar=("LABEL", "CKPT1", "CKPT2"),
        help="a label and two checkpoints of one method that differ in seed",
    )
    parser.add_argument("--test-samples", type=int, default=5000, help="held-out images (default 5000)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "identifiability_by_rank.md")
    args = parser.parse_args()

    rows = {label: by_rank(a, b, args.data, args.test_samples) for label, a, b in args.pair}
    columns = list(next(iter(rows.values())))
    lines = [
        "# Identifiability by importance rank (same-rank |corr| across seeds, own order)",
        "",
        f"Command: `python benchmarks/identifiability_by_rank.py {shlex.join(sys.argv[1:])}`",
        "",
        f"{args.test_samples} held-out images. 'top k': mean |corr| of feature i of seed 1 and feature i of "
        "seed 2 for the k most important (by s), no permutation search; 'best match anywhere': for the 8 most "
        "important features of seed 1, the mean of their largest |corr| with any feature of seed 2.",
        "",
        "| run | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
        *(f"| {label} | " + " | ".join(f"{row[c]:.3f}" for c in columns) + " |" for label, row in rows.items()),
        "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
