"""What COCOA costs on top of the attribution itself, and RISE's throughput.

1. Cost per explicand of attributing the contrastive corpus similarity (corpus and foil encoded
   once, beforehand) against the same attribution method on a plain encoder output (a fixed
   linear read-out of the representation): IntegratedGradients (50 steps), GradientShap (50
   samples) and RISE (masks in batches). Target: <= 1.05x.
2. RISE throughput (masked images scored per second) against the encoder's plain batch
   inference throughput at the same batch size. Target: >= 0.9x.

The encoder is torchvision's ResNet-18 (random weights) on 3 x 32 x 32 inputs; one CPU thread,
CPU time of that thread, median of interleaved repeats.

    python benchmarks/cocoa_cost.py            # writes results/cocoa_cost.md
"""

import argparse
import statistics
import time
from pathlib import Path

import torch
import torchvision
from captum.attr import GradientShap, IntegratedGradients

from solo_tricl.explain import RISE, ContrastiveCorpusSimilarity, gaussian_blur


def timed(fn, clock=time.thread_time):
    start = clock()
    fn()
    return clock() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rise-masks", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=250)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "cocoa_cost.md"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)

    encoder = torchvision.models.resnet18(num_classes=128).eval()
    for p in encoder.parameters():
        p.requires_grad_(False)
    corpus, foil = torch.randn(100, 3, 32, 32), torch.randn(300, 3, 32, 32)
    encode_seconds = timed(lambda: ContrastiveCorpusSimilarity(encoder, corpus, foil, progress=False))
    cocoa = ContrastiveCorpusSimilarity(encoder, corpus, foil, progress=False)
    readout = torch.randn(128)
    plain = lambda x: encoder(x) @ readout  # noqa: E731
    x = torch.randn(1, 3, 32, 32)
    baseline = gaussian_blur(x)

    methods = {
        "IntegratedGradients (50 steps)": lambda f: IntegratedGradients(f).attribute(
            x, baselines=baseline, n_steps=50, internal_batch_size=50
        ),
        "GradientShap (50 samples)": lambda f: GradientShap(f).attribute(
            x, baselines=baseline, n_samples=50, stdevs=0.2
        ),
        f"RISE ({args.rise_masks} masks)": lambda f: RISE(f).attribute(
            x, baseline, n_masks=args.rise_masks, grid=4, batch_size=args.batch_size
        ),
    }
    rows = []
    for name, attribute in methods.items():
        attribute(cocoa), attribute(plain)  # warm-up
        cocoa_times, plain_times = [], []
        for _ in range(args.repeats):
            cocoa_times.append(timed(lambda: attribute(cocoa)))
            plain_times.append(timed(lambda: attribute(plain)))
        a, b = statistics.median(cocoa_times), statistics.median(plain_times)
        rows.append(
            f"| {name} | {a * 1e3:.0f} | {b * 1e3:.0f} | {a / b:.3f} | {'met' if a / b <= 1.05 else 'MISSED'} |"
        )

    batch = torch.randn(args.batch_size, 3, 32, 32)
    with torch.no_grad():
        encoder(batch)
        inference = statistics.median(timed(lambda: encoder(batch)) for _ in range(args.repeats))
    rise_seconds = statistics.median(
        timed(lambda: RISE(cocoa).attribute(x, baseline, n_masks=args.rise_masks, grid=4, batch_size=args.batch_size))
        for _ in range(args.repeats)
    )
    inference_rate = args.batch_size / inference
    rise_rate = args.rise_masks / rise_seconds
    ratio = rise_rate / inference_rate
    text = "\n".join(
        [
            "# COCOA: cost of the target, and RISE throughput",
            "",
            f"Command: `python benchmarks/cocoa_cost.py --repeats {args.repeats} --rise-masks {args.rise_masks} "
            f"--batch-size {args.batch_size}`",
            "",
            "Encoder: torchvision ResNet-18 (random weights, 128-d output) on 3 x 32 x 32 inputs; 1 CPU thread, "
            f"CPU time of that thread, median of {args.repeats} interleaved repeats. Corpus 100 and foil 300 images, "
            f"encoded once beforehand ({encode_seconds:.1f} s), not per explicand.",
            "",
            "## Cost per explicand: contrastive corpus similarity vs a plain encoder read-out",
            "",
            "| attribution | COCOA target ms | plain output ms | ratio | target <= 1.05x |",
            "|---|---:|---:|---:|---|",
            *rows,
            "",
            "## RISE throughput",
            "",
            "| measure | images/s |",
            "|---|---:|",
            f"| encoder batch inference (batch {args.batch_size}) | {inference_rate:.0f} |",
            f"| RISE: masked images scored (batch {args.batch_size}) | {rise_rate:.0f} |",
            f"| ratio | {ratio:.3f} ({'met' if ratio >= 0.9 else 'MISSED'}; target >= 0.9) |",
            "",
        ]
    )
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
