"""OpenCLIP training with each loss against OpenCLIP's own ClipLoss: speed, memory, zero-shot.

Same tiny model (``solo-tricl-tiny``), data (Fashion-MNIST images with template captions),
batch, epochs and seed for every loss; runs interleaved (clip, tricl, ncl, kernel, clip, ...),
each in a fresh process. Reported, as medians over repeats:

* samples/s: batch size over OpenCLIP's own per-step time (``Batch (t)`` in its log, logged
  every step), after warm-up steps;
* peak memory: the process's peak RSS (CPU) or max CUDA memory allocated;
* zero-shot top-1 on the validation images with the class-name templates, after training.

    python benchmarks/clip_losses.py                  # CPU; writes results/clip_losses.md
"""

import argparse
import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

LOSSES = ("clip", "tricl", "ncl", "kernel")
TARGET = 0.97


def worker(args) -> None:
    import torch

    from solo_tricl.cli import main

    logs = Path(args.logs)
    code = main(
        [
            "clip-train",
            "--loss",
            args.worker,
            "--",
            "--model",
            "solo-tricl-tiny",
            "--train-data",
            f"{args.data}/train.csv",
            "--csv-img-key",
            "filepath",
            "--csv-caption-key",
            "title",
            "--epochs",
            str(args.epochs),
            "--batch-size",
            str(args.batch_size),
            "--device",
            args.device,
            "--workers",
            "2",
            "--logs",
            str(logs),
            "--name",
            args.worker,
            "--lr",
            "1e-3",
            "--warmup",
            "20",
            "--seed",
            "0",
            "--log-every-n-steps",
            "1",
        ]
    )
    assert code == 0
    times = [float(t) for t in re.findall(r"Batch \(t\): ([0-9.]+)", (logs / args.worker / "out.log").read_text())]
    steps = times[args.warmup :]
    peak = (
        torch.cuda.max_memory_allocated()
        if args.device == "cuda"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )
    zero_shot = logs / "zs.json"
    main(
        [
            "clip-zeroshot",
            str(logs / args.worker / "checkpoints" / f"epoch_{args.epochs}.pt"),
            "--data",
            f"{args.data}/val.csv",
            "--top-k",
            "8",
            "--json",
            str(zero_shot),
        ]
    )
    result = json.loads(zero_shot.read_text())
    print(
        "RESULT "
        + json.dumps(
            {
                "loss": args.worker,
                "samples_per_s": args.batch_size / statistics.median(steps),
                "peak_bytes": peak,
                "zero_shot": result["accuracy"],
                "zero_shot_top8": result["top8_importance"],
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--train-per-class", type=int, default=100)
    parser.add_argument("--val-per-class", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5, help="logged steps skipped for speed")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "clip_losses.md"))
    parser.add_argument("--worker", choices=LOSSES, help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--logs", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    runs = {loss: [] for loss in LOSSES}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "solo_tricl.cli",
                "data",
                "fashion-mnist-clip",
                "--out",
                str(data),
                "--train-per-class",
                str(args.train_per_class),
                "--val-per-class",
                str(args.val_per_class),
            ],
            check=True,
            capture_output=True,
        )
        for repeat in range(args.repeats):
            for loss in LOSSES:
                logs = Path(tmp) / f"logs-{repeat}-{loss}"
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--worker",
                        loss,
                        "--data",
                        str(data),
                        "--logs",
                        str(logs),
                        "--epochs",
                        str(args.epochs),
                        "--batch-size",
                        str(args.batch_size),
                        "--warmup",
                        str(args.warmup),
                        "--device",
                        args.device,
                    ],
                    capture_output=True,
                    text=True,
                )
                lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
                if out.returncode or not lines:
                    raise SystemExit(f"{loss} failed:\n{out.stderr[-3000:]}")
                runs[loss].append(json.loads(lines[-1][7:]))
                print(f"repeat {repeat + 1}/{args.repeats}: {runs[loss][-1]}", flush=True)

    def median(loss, key):
        return statistics.median(r[key] for r in runs[loss])

    rows = []
    for loss in LOSSES:
        speed = median(loss, "samples_per_s") / median("clip", "samples_per_s")
        memory = median(loss, "peak_bytes") / median("clip", "peak_bytes")
        verdict = "" if loss == "clip" else f"{'met' if speed >= TARGET else 'MISSED'}"
        top8 = f"{median(loss, 'zero_shot_top8'):.3f}"
        rows.append(
            f"| {loss} | {median(loss, 'samples_per_s'):.0f} | {speed:.3f} | {verdict} | "
            f"{median(loss, 'peak_bytes') / 2**20:.0f} | {memory:.3f} | "
            f"{median(loss, 'zero_shot'):.3f} | {top8} |"
        )
    text = "\n".join(
        [
            "# OpenCLIP: each loss against OpenCLIP's ClipLoss",
            "",
            f"Command: `python benchmarks/clip_losses.py --repeats {args.repeats} --epochs {args.epochs} "
            f"--batch-size {args.batch_size} --device {args.device}`",
            "",
            f"Model `solo-tricl-tiny` (ViT 2x64 at 32 px, text 2x64, embedding 32, random init), "
            f"{10 * args.train_per_class} Fashion-MNIST training images with template captions, "
            f"{args.epochs} epochs at batch {args.batch_size}, AdamW lr 1e-3, seed 0, device "
            f"{args.device}; medians of {args.repeats} interleaved runs, each a fresh process. "
            f"Zero-shot: top-1 on {10 * args.val_per_class} test images against the 10 class names "
            "with 6 templates (chance 0.100); top-8: only the 8 most important features (triCL: by s; "
            "others: by activation mass).",
            "",
            f"Target: throughput >= {TARGET}x of clip.",
            "",
            "| loss | samples/s | ratio | target | peak MiB | ratio | zero-shot top-1 | top-8 features |",
            "|---|---:|---:|---|---:|---:|---:|---:|",
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
