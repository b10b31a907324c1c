"""Training throughput and peak memory of the plugin methods against solo-learn's SimCLR.

Every method is trained from the shipped Fashion-MNIST config (same ResNet-18 backbone,
projector 512-128, batch, data, optimizer) by solo-learn's own Trainer set-up, each run in a
fresh process so that peak memory is its own, interleaved (simclr, tricl, ncl, kernel, simclr,
...) so that drift of a shared machine hits every method alike: the bench's own cost pass
(:mod:`solo_tricl.bench.cost`, which defines what is timed and how memory is read). The table
reports medians and ratios to simclr from the same invocation.

    python benchmarks/solo_throughput.py                       # CPU, writes results/solo_throughput.md
    python benchmarks/solo_throughput.py --accelerator gpu --batch-size 256 --out results/solo_throughput_gpu.md
"""

import argparse
import json
import platform
import statistics
import tempfile
from pathlib import Path
from types import SimpleNamespace

METHODS = ("simclr", "tricl", "ncl", "kernel")
TARGET_THROUGHPUT, TARGET_MEMORY = 0.97, 1.03


def write_data(directory: Path, per_class: int) -> Path:
    from solo_tricl.data import fashion_mnist
    from solo_tricl.data.image_folder import sample_per_class, write_split

    images, labels = fashion_mnist.load("train")
    keep = sample_per_class(labels, per_class)
    write_split(directory, "train", images[keep], labels[keep], fashion_mnist.class_folder)
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20, help="timed batches per run")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--accelerator", default="cpu")
    parser.add_argument("--precision", default="32")
    parser.add_argument("--data", type=Path, default=None, help="Fashion-MNIST folder (default: write one)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "solo_throughput.md"))
    args = parser.parse_args()

    from solo_tricl.bench.cost import cost_pass

    with tempfile.TemporaryDirectory() as tmp:
        per_class = -(-(args.warmup + args.steps) * args.batch_size // 10)
        data = args.data or write_data(Path(tmp), per_class)
        settings = SimpleNamespace(cost_repeats=args.repeats, accelerator=args.accelerator)
        costs = cost_pass(METHODS, settings, data, args.batch_size, args.precision, args.warmup, args.steps)
    runs = {
        cost.variant: [{"images_per_s": a, "peak_bytes": b} for a, b in zip(cost.images_per_s, cost.peak_bytes)]
        for cost in costs
    }

    base_speed = statistics.median(r["images_per_s"] for r in runs["simclr"])
    base_memory = statistics.median(r["peak_bytes"] for r in runs["simclr"])
    rows = []
    for method, results in runs.items():
        speed = statistics.median(r["images_per_s"] for r in results)
        memory = statistics.median(r["peak_bytes"] for r in results)
        speed_ratio, memory_ratio = speed / base_speed, memory / base_memory
        verdict = (
            ""
            if method == "simclr"
            else (
                f"throughput {'met' if speed_ratio >= TARGET_THROUGHPUT else 'MISSED'}, "
                f"memory {'met' if memory_ratio <= TARGET_MEMORY else 'MISSED'}"
            )
        )
        rows.append(
            f"| {method} | {speed:.1f} | {speed_ratio:.3f} | {memory / 2**20:.0f} | {memory_ratio:.3f} | {verdict} |"
        )
    device = args.accelerator if args.accelerator != "cpu" else f"CPU ({platform.machine()})"
    memory_kind = "max CUDA memory allocated" if args.accelerator == "gpu" else "peak RSS growth during fit"
    text = "\n".join(
        [
            "# solo-learn training throughput: plugin methods against built-in SimCLR",
            "",
            f"Command: `python benchmarks/solo_throughput.py --repeats {args.repeats} --steps {args.steps} "
            f"--batch-size {args.batch_size} --accelerator {args.accelerator} --precision {args.precision}`",
            "",
            f"Device: {device}. Shipped Fashion-MNIST configs (ResNet-18, projector 512-128, LARS), "
            f"batch {args.batch_size} x 2 views, {args.steps} timed batches after {args.warmup} warm-up "
            f"batches, median of {args.repeats} interleaved runs per method, each in a fresh process. "
            f"Memory is the {memory_kind}.",
            "",
            f"Targets: throughput >= {TARGET_THROUGHPUT}x and peak memory <= {TARGET_MEMORY}x of simclr.",
            "",
            "| method | images/s | ratio | peak MiB | ratio | target |",
            "|---|---:|---:|---:|---:|---|",
            *rows,
            "",
            "Raw runs: " + json.dumps(runs),
            "",
        ]
    )
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
