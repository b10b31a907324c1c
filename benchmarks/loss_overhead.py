"""Forward+backward time of each loss relative to plain SimCLR InfoNCE, measured in one run.

Every repetition times a block of back-to-back calls of every loss, in shuffled order, on the
same inputs; the table reports the median time per call and its ratio to ``simclr`` from the
same run.

    python benchmarks/loss_overhead.py                    # CPU, writes results/loss_overhead.md
    python benchmarks/loss_overhead.py --device cuda --out results/loss_overhead_cuda.md
"""

import argparse
import platform
import random
import statistics
import time
from pathlib import Path
from unittest import mock

import torch

import solo_tricl.losses.tricl as tricl_module
from solo_tricl.losses import (
    FeatureImportance,
    InfoNCELoss,
    KernelInfoNCELoss,
    KernelMixtureLoss,
    MatryoshkaInfoNCELoss,
    NCLLoss,
    SpectralTriCLLoss,
    TriCLLoss,
)

SIZES = [(256, 256), (512, 2048)]
# name -> {k: target ratio to simclr} (None: every k)
TARGETS = {
    "ncl": {None: 1.05},
    "tricl": {256: 1.3, 2048: 1.7},
    "spectral_tricl": {2048: 1.7},
    "kernel": {None: 1.2},
    "mixture_sum": {None: 2.1},
    "mixture_concat": {None: 2.1},
}


class AutogradLogits(torch.nn.Module):
    """A triCL loss whose logits are differentiated by autograd (two matmuls), as before the
    symmetric backward of :mod:`solo_tricl.losses.weighted_gram`: the same values, timed beside it."""

    def __init__(self, loss: torch.nn.Module):
        super().__init__()
        self.loss = loss

    def forward(self, *views):
        def autograd_logits(batch, s, anchors, scale=1.0):
            return tricl_module.scaled_anchors(batch, s, anchors, scale) @ batch.all.T

        with mock.patch.object(tricl_module, "importance_logits", autograd_logits):
            return self.loss(*views)


def make_losses(k: int, device: str):
    importance = FeatureImportance(k).to(device)
    return {
        "simclr": InfoNCELoss(0.2),
        "ncl": NCLLoss(0.2, "rep_relu"),
        "ncl_relu": NCLLoss(0.2, "relu"),
        "tricl": TriCLLoss(importance, 0.2),
        "tricl_autograd_logits": AutogradLogits(TriCLLoss(importance, 0.2)),
        "tricl_view1": TriCLLoss(importance, 0.2, anchors="view1"),
        "spectral_tricl": SpectralTriCLLoss(importance),
        "kernel": KernelInfoNCELoss(1.0, 0.5),
        "mixture_sum": KernelMixtureLoss(1.0, 0.5, 0.5, 0.4, "sum"),
        "mixture_concat": KernelMixtureLoss(1.0, 0.5, 0.5, 0.4, "concat"),
        "mrl": MatryoshkaInfoNCELoss(temperature=0.2),
    }


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_block(loss_fn, z0, z1, device, calls: int, clock) -> float:
    """Mean seconds of one forward+backward over ``calls`` back-to-back calls."""
    sync(device)
    start = clock()
    for _ in range(calls):
        z0.grad = z1.grad = None
        loss_fn(z0, z1).backward()
    sync(device)
    return (clock() - start) / calls


def measure(b: int, k: int, device: str, repeats: int, warmup: int, calls: int, clock):
    generator = torch.Generator().manual_seed(0)
    z0 = torch.randn(b, k, generator=generator).to(device).requires_grad_()
    z1 = torch.randn(b, k, generator=generator).to(device).requires_grad_()
    losses = make_losses(k, device)
    times = {name: [] for name in losses}
    order = list(losses)
    for rep in range(warmup + repeats):
        random.shuffle(order)
        for name in order:
            elapsed = time_block(losses[name], z0, z1, device, calls, clock)
            if rep >= warmup:
                times[name].append(elapsed)
    return {name: statistics.median(t) for name, t in times.items()}


NOTES = """\
## Where the time goes

- **ncl** (default `rep_relu`) is SimCLR plus one elementwise map forward and the gelu
  gradient backward, which costs `erf` and `exp` per entry of the (2B, k) projector output.
  `ncl_relu` shows the same loss with a plain relu gradient. Both are a few percent of a
  step that the (2B, 2B, k) Gram matmuls dominate, so a run-to-run spread of a few percent on
  a shared 2-core machine decides whether `ncl` lands just under or just over 1.05x (runs
  while developing gave 1.01x to 1.07x).
- **tricl**'s logits zhat diag(s/tau) zhat^T are symmetric when every row is an anchor and a
  candidate (one process, the default `anchors="all"`), so their backward takes one (N, N, k)
  matmul, (G + G^T) zhat, where autograd (and SimCLR's InfoNCE here) takes two
  (`solo_tricl/losses/weighted_gram.py`). `tricl_autograd_logits` is the same loss with
  autograd's backward, as it was computed before, timed in the same run; under DDP, with
  view-1 anchors or under autocast the loss takes that path.
- **tricl** adds the importance scaling of the anchors and the decorrelation term
  mean((C - I)^2), C = (k/N) zhat^T zhat over the N = 2B rows. It is computed on the cheaper
  side: with N >= k from the k x k matrix (one (k, N, k) matmul forward and one backward, the
  closed-form gradient 4/(N k) zhat (C - I)); with N < k from the N x N Gram matrix zhat zhat^T,
  since ||zhat^T zhat||_F = ||zhat zhat^T||_F and tr(zhat^T zhat) is the sum of the squared rows
  (two (N, k, N) matmuls, gradient 4/(N k) (k/N G zhat - zhat)). At k = 256, B = 256 (N = 512)
  the k x k side is the cheaper, about a third of the InfoNCE Gram's flops; at k = 2048, B = 512
  (N = 1024) the Gram side halves what the k x k side cost.
- **kernel** computes D^2 from the same Gram matmul (with a hand-written backward) and one
  fractional power; **mixture_sum** shares D^2 between its two terms, **mixture_concat**
  computes it on each half.
"""


CUDA_NOTE = """\
## On a GPU

At these sizes one SimCLR step takes about a millisecond on an H100: the time is set by the
number of kernels launched, not by flops, so every extra elementwise op (the map, the
importance scaling, the power of the kernel) shows in full and the ratios are larger than on
the CPU. The verdicts on the targets are those of the CPU table (`loss_overhead.md`); this
table is measured for information and was not tuned.
"""


def batch_and_features(text: str):
    """``"512x2048"`` -> (512, 2048)."""
    try:
        b, k = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected BxK with two positive integers, e.g. 512x2048; got {text!r}")
    if b < 2 or k < 1:
        raise argparse.ArgumentTypeError(f"expected B >= 2 and K >= 1; got {text!r}")
    return b, k


def verdict(name: str, k: int, ratio: float) -> str:
    targets = TARGETS.get(name, {})
    target = targets.get(k, targets.get(None))
    if target is None:
        return ""
    return f"<= {target}x: {'met' if ratio <= target else 'MISSED'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--calls", type=int, default=5, help="back-to-back calls per timed block")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: with one thread the CPU time of this thread is "
        "measured, which other processes on a shared machine barely disturb)",
    )
    parser.add_argument(
        "--sizes",
        nargs="+",
        type=batch_and_features,
        default=SIZES,
        metavar="BxK",
        help="batch per view x features (default: " + " ".join(f"{b}x{k}" for b, k in SIZES) + ")",
    )
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "loss_overhead.md"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    on_cpu = args.device == "cpu"
    clock = time.thread_time if on_cpu and args.threads == 1 else time.perf_counter
    clock_name = "CPU time of the timing thread" if clock is time.thread_time else "wall time"
    random.seed(0)

    lines = [
        "# Loss overhead: forward + backward time relative to SimCLR InfoNCE",
        "",
        f"Command: `python benchmarks/loss_overhead.py --device {args.device} "
        f"--repeats {args.repeats} --calls {args.calls} --threads {args.threads}"
        + ("" if args.sizes == SIZES else " --sizes " + " ".join(f"{b}x{k}" for b, k in args.sizes))
        + "`",
        "",
        f"Device: {device_name(args.device)}; torch {torch.__version__}; "
        f"{torch.get_num_threads()} CPU thread(s), {clock_name}; fp32. Each repetition times a block of "
        f"{args.calls} back-to-back calls of every loss, in shuffled order; the table gives the "
        f"median over {args.repeats} repetitions (after {args.warmup} warm-up rounds) of the "
        "time per call. B is the batch per view (2B rows).",
        "",
    ]
    for b, k in args.sizes:
        medians = measure(b, k, args.device, args.repeats, args.warmup, args.calls, clock)
        base = medians["simclr"]
        lines += [f"## B = {b}, k = {k}", "", "| loss | ms | ratio to simclr | target |", "|---|---:|---:|---|"]
        for name, seconds in medians.items():
            ratio = seconds / base
            lines.append(f"| {name} | {seconds * 1e3:.2f} | {ratio:.2f} | {verdict(name, k, ratio)} |")
        lines.append("")
        print("\n".join(lines[-len(medians) - 5 :]), flush=True)
    lines.append(NOTES)
    if args.device.startswith("cuda"):
        lines.append(CUDA_NOTE)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines))
    print(f"wrote {args.out}")


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.processor() or platform.machine()})"


if __name__ == "__main__":
    main()
