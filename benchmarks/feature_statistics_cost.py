"""What logging the feature statistics each epoch costs: the time of one ``batch_statistics`` call
(sparsity, effective rank, mean |corr| of one batch) against the training steps of the epoch it
is logged in, measured in one run.

    python benchmarks/feature_statistics_cost.py [--steps 10] [--out benchmarks/results/feature_statistics_cost.md]

The steps are those of solo-tricl's triCL on a ResNet-18 at the Fashion-MNIST bench's size
(batch 128, two 28 px crops); the statistics are computed once an epoch, on its first batch.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch


def step_seconds(steps: int, batch: int) -> float:
    """Median seconds of one forward-backward-update of a ResNet-18 with triCL's loss."""
    import torchvision

    from solo_tricl.losses import FeatureImportance, TriCLLoss

    backbone = torchvision.models.resnet18(num_classes=512)
    projector = torch.nn.Sequential(torch.nn.Linear(512, 512), torch.nn.ReLU(), torch.nn.Linear(512, 128))
    loss_fn = TriCLLoss(FeatureImportance(128))
    params = [*backbone.parameters(), *projector.parameters(), *loss_fn.parameters()]
    optimizer = torch.optim.SGD(params, lr=0.01)
    x0, x1 = torch.randn(batch, 3, 28, 28), torch.randn(batch, 3, 28, 28)
    times = []
    for _ in range(steps + 1):
        started = time.perf_counter()
        loss = loss_fn(projector(backbone(x0)), projector(backbone(x1)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:])


def statistics_seconds(batch: int, k: int, repeats: int = 20) -> float:
    from solo_tricl.common.feature_statistics import batch_statistics

    z = torch.randn(batch, k)
    batch_statistics(z)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        batch_statistics(z)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=10, help="training steps timed (after one warm-up step)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps-per-epoch", type=int, default=47, help="6,000 images at batch 128")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "feature_statistics_cost.md")
    args = parser.parse_args()

    from solo_tricl.common.files import write_text

    step = step_seconds(args.steps, args.batch)
    rows = ["| k | statistics (ms) | one training step (ms) | share of an epoch |", "|---:|---:|---:|---:|"]
    for k in (128, 256, 2048):
        cost = statistics_seconds(args.batch, k)
        share = cost / (step * args.steps_per_epoch)
        rows.append(f"| {k} | {1000 * cost:.2f} | {1000 * step:.0f} | {100 * share:.3f}% |")
    text = "\n".join(
        [
            "# Feature statistics while training: their cost",
            "",
            f"Command: `python benchmarks/feature_statistics_cost.py {' '.join(sys.argv[1:])}` "
            f"({torch.get_num_threads()} threads, CPU). One `batch_statistics` call on a batch of {args.batch} "
            f"against the median of {args.steps} training steps of triCL on a ResNet-18 (two {args.batch} x 28 px "
            f"crops), both timed in this run; an epoch is {args.steps_per_epoch} steps and logs the statistics once.",
            "",
            *rows,
            "",
        ]
    )
    write_text(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
