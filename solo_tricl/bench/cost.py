"""What each method costs to train: images per second and peak memory, measured in one pass
that interleaves the methods (simclr, byol, ..., simclr, byol, ...) so that drift of a shared
machine hits every method alike, each run in a fresh process so that its peak memory is its own.

* images/s counts every crop of a batch over the time from ``on_train_batch_start`` to
  ``on_train_batch_end`` (forward, loss, backward, optimizer step; data loading excluded), after
  warm-up batches;
* peak memory: on CUDA ``torch.cuda.max_memory_allocated``; on the CPU the growth of the process's
  peak RSS over its RSS just before ``fit`` (the training's own allocations).

Run as a module, it is the worker: ``python -m solo_tricl.bench.cost VARIANT DATA ...`` trains a
few batches of one variant and prints one ``RESULT {...}`` line.
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Sequence

from solo_tricl.bench.records import Cost

WARMUP_BATCHES, TIMED_BATCHES = 3, 15


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def time_variant(
    variant: str,
    data: Path,
    batch_size: int,
    accelerator: str,
    precision: str = "32",
    warmup: int = WARMUP_BATCHES,
    steps: int = TIMED_BATCHES,
) -> dict:
    """Train ``warmup + steps`` batches of ``variant`` from its shipped config in this process:
    {"images_per_s", "peak_bytes"} over the last ``steps``."""
    import torch
    from lightning.pytorch.callbacks import Callback

    from solo_tricl.bench.settings import variant_config
    from solo_tricl.solo.cli import compose
    from solo_tricl.solo.pretrain import pretrain

    cuda = accelerator == "gpu" and torch.cuda.is_available()

    class Timer(Callback):
        def __init__(self):
            self.times, self.images, self.rss_before = [], [], None

        def on_train_start(self, trainer, module):
            self.rss_before = rss_bytes()
            if cuda:
                torch.cuda.reset_peak_memory_stats()

        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            if cuda:
                torch.cuda.synchronize()
            self.start = time.perf_counter()

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            if cuda:
                torch.cuda.synchronize()
            self.times.append(time.perf_counter() - self.start)
            self.images.append(sum(len(crop) for crop in batch[1]))

    timer = Timer()
    config, overrides = variant_config(variant)
    overrides += [
        f"data.train_path='{data}/train'",
        "data.fraction=-1",
        f"optimizer.batch_size={batch_size}",
        "max_epochs=1",
        f"++limit_train_batches={warmup + steps}",
        "checkpoint.enabled=False",
        f"accelerator={accelerator}",
        f"precision={precision}",
        "++enable_progress_bar=False",
    ]
    pretrain(compose("pretrain", None, config, overrides), extra_callbacks=[timer])
    timed = slice(warmup, None)
    if cuda:
        memory = torch.cuda.max_memory_allocated()
    else:
        memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - timer.rss_before
    return {"images_per_s": sum(timer.images[timed]) / sum(timer.times[timed]), "peak_bytes": memory}


def cost_pass(
    variants: Sequence[str],
    settings,
    data: Path,
    batch_size: int = 128,
    precision: str = "32",
    warmup: int = WARMUP_BATCHES,
    steps: int = TIMED_BATCHES,
) -> List[Cost]:
    """``settings.cost_repeats`` interleaved rounds over ``variants`` on ``settings.accelerator``,
    each run a process of its own."""
    costs = {variant: Cost(variant, [], []) for variant in variants}
    for repeat in range(settings.cost_repeats):
        for variant in variants:
            command = [sys.executable, "-m", "solo_tricl.bench.cost", variant, str(data), str(batch_size)]
            command += [settings.accelerator, precision, str(warmup), str(steps)]
            out = subprocess.run(command, capture_output=True, text=True)
            lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
            if out.returncode or not lines:
                raise RuntimeError(f"timing {variant} failed (exit status {out.returncode}):\n{out.stderr[-3000:]}")
            measured = json.loads(lines[-1][len("RESULT ") :])
            costs[variant].images_per_s.append(measured["images_per_s"])
            costs[variant].peak_bytes.append(measured["peak_bytes"])
            print(f"   cost {repeat + 1}/{settings.cost_repeats} {variant}: {measured}", flush=True)
    return list(costs.values())


def main() -> None:
    parser = argparse.ArgumentParser(description="time one variant's training steps (a worker of the cost pass)")
    parser.add_argument("variant")
    parser.add_argument("data", type=Path)
    parser.add_argument("batch_size", type=int)
    parser.add_argument("accelerator")
    parser.add_argument("precision")
    parser.add_argument("warmup", type=int)
    parser.add_argument("steps", type=int)
    args = parser.parse_args()
    measured = time_variant(
        args.variant, args.data, args.batch_size, args.accelerator, args.precision, args.warmup, args.steps
    )
    print("RESULT " + json.dumps(measured), flush=True)


if __name__ == "__main__":
    main()
