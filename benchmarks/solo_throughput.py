"""Training throughput and peak memory of the plugin methods against solo-learn's SimCLR.

Every method is trained from the shipped Fashion-MNIST config (same ResNet-18 backbone,
projector 512-128, batch, data, optimizer) by solo-learn's own Trainer set-up, each run in a
fresh process so that peak memory is its own. Runs are interleaved (simclr, tricl, ncl, kernel,
simclr, ...) so that drift of a shared machine hits every method alike; the table reports
medians and ratios to simclr from the same invocation.

* images/s counts both views' images of a batch over the time from ``on_train_batch_start``
  to ``on_train_batch_end`` (forward, loss, backward, optimizer step; data loading excluded),
  after warm-up batches.
* peak memory: on CUDA ``torch.cuda.max_memory_allocated``; on the CPU the growth of the
  process's peak RSS over its RSS just before ``fit`` (the training allocations).

    python benchmarks/solo_throughput.py                       # CPU, writes results/solo_throughput.md
    python benchmarks/solo_throughput.py --accelerator gpu --batch-size 256 --out results/solo_throughput_gpu.md
"""

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

METHODS = ("simclr", "tricl", "ncl", "kernel")
TARGET_THROUGHPUT, TARGET_MEMORY = 0.97, 1.03


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def worker(args) -> None:
    import torch
    from lightning.pytorch.callbacks import Callback

    from solo_tricl.solo.cli import compose
    from solo_tricl.solo.pretrain import pretrain

    class Timer(Callback):
        def __init__(self):
            self.times, self.rss_before = [], None

        def on_train_start(self, trainer, module):
            self.rss_before = rss_bytes()
            if torch.cuda.is_available():
                torch.cuda.reset_peak_memory_stats()

        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.start = time.perf_counter()

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.times.append(time.perf_counter() - self.start)

    timer = Timer()
    overrides = [
        f"data.train_path='{args.data}/train'",
        f"optimizer.batch_size={args.batch_size}",
        "max_epochs=1",
        f"++limit_train_batches={args.warmup + args.steps}",
        "checkpoint.enabled=False",
        f"data.num_workers={args.num_workers}",
        f"accelerator={args.accelerator}",
        f"precision={args.precision}",
    ]
    cfg = compose("pretrain", None, f"fashion_mnist/{args.worker}", overrides)
    pretrain(cfg, extra_callbacks=[timer])
    timed = timer.times[args.warmup :]
    images = 2 * args.batch_size * len(timed)
    if torch.cuda.is_available() and args.accelerator == "gpu":
        memory = torch.cuda.max_memory_allocated()
    else:
        memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - timer.rss_before
    print("RESULT " + json.dumps({"method": args.worker, "images_per_s": images / sum(timed), "peak_bytes": memory}))


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
    parser.add_argument("--num-workers", type=int, default=2)
    parser.add_argument("--data", type=Path, default=None, help="Fashion-MNIST folder (default: write one)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "solo_throughput.md"))
    parser.add_argument("--worker", choices=METHODS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    with tempfile.TemporaryDirectory() as tmp:
        per_class = -(-(args.warmup + args.steps) * args.batch_size // 10)
        data = args.data or write_data(Path(tmp), per_class)
        runs = {m: [] for m in METHODS}
        for repeat in range(args.repeats):
            for method in METHODS:
                command = [
                    sys.executable,
                    __file__,
                    "--worker",
                    method,
                    "--data",
                    str(data),
                    "--steps",
                    str(args.steps),
                    "--warmup",
                    str(args.warmup),
                    "--batch-size",
                    str(args.batch_size),
                    "--accelerator",
                    args.accelerator,
                    "--precision",
                    args.precision,
                    "--num-workers",
                    str(args.num_workers),
                ]
                out = subprocess.run(command, capture_output=True, text=True)
                lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
                if out.returncode or not lines:
                    raise SystemExit(f"{method} failed:\n{out.stderr[-3000:]}")
                runs[method].append(json.loads(lines[-1][7:]))
                print(f"repeat {repeat + 1}/{args.repeats} {method}: {runs[method][-1]}", flush=True)

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
