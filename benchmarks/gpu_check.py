"""The GPU checks, in one command that fits a short GPU slot (at most 8 minutes on one H200,
imports included); writes gpu_check.md and gpu_check.json.

    python benchmarks/gpu_check.py --out benchmarks/results            # on a CUDA machine
    python benchmarks/gpu_check.py --device cpu --tiny --out /tmp/x    # the same code at toy sizes

1. Loss overhead on the device: forward + backward of every loss against SimCLR's InfoNCE, fp32
   and bf16 autocast, at B = 256, k = 256 and B = 512, k = 2048, eager and under torch.compile
   (compilation is skipped, and said so, once the time budget for it is spent).
2. solo-learn training steps of tricl, ncl, kernel and mrl against simclr: ResNet-18 with the
   CIFAR stem, batch 256, 32 px inputs, bf16 autocast, the methods' own training_step and
   solo-learn's LARS; rounds interleave the methods, so the ratios come from one run; peak memory.
3. OpenCLIP training steps of each of our losses and SigLIP against ClipLoss, with a small ViT
   (ViT-S-32, random weights), batch 256, bf16 autocast.
4. Every loss finite, with finite gradients, in fp16 and bf16 autocast at temperature 0.01.

Never estimates: every number in the output was measured by this run on the named device.
"""

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for benchmarks/loss_overhead.py
from benchmarks.loss_overhead import make_losses  # noqa: E402

SOLO_METHODS = ("simclr", "tricl", "ncl", "kernel", "mrl")
CLIP_LOSSES = ("clip", "siglip", "tricl", "ncl", "kernel", "mrl")


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def autocast(device: str, dtype):
    if dtype is None:
        return torch.autocast(device_type=device.split(":")[0], enabled=False)
    return torch.autocast(device_type=device.split(":")[0], dtype=dtype)


def timed(step, device: str, repeats: int, warmup: int = 2) -> float:
    """Median seconds of ``step()`` over ``repeats`` calls after ``warmup``."""
    times = []
    for i in range(warmup + repeats):
        sync(device)
        started = time.perf_counter()
        step()
        sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def loss_overhead(device: str, sizes, repeats: int, compile_budget: float) -> list:
    """Rows of (B, k, precision, mode, loss, ms, ratio to simclr)."""
    rows, compile_spent = [], 0.0
    for b, k in sizes:
        generator = torch.Generator().manual_seed(0)
        z0 = torch.randn(b, k, generator=generator).to(device).requires_grad_()
        z1 = torch.randn(b, k, generator=generator).to(device).requires_grad_()
        for precision, dtype in (("fp32", None), ("bf16", torch.bfloat16)):
            for mode in ("eager", "compile"):
                times = {}
                for name, loss_fn in make_losses(k, device).items():
                    if mode == "compile":
                        if compile_spent > compile_budget:
                            times[name] = None
                            continue
                        started = time.perf_counter()
                        loss_fn = torch.compile(loss_fn)

                    def step(loss_fn=loss_fn):
                        z0.grad = z1.grad = None
                        with autocast(device, dtype):
                            loss = loss_fn(z0, z1)
                        loss.backward()

                    # a compiled loss compiles its forward and backward in the first calls
                    times[name] = timed(step, device, repeats, warmup=3 if mode == "compile" else 2)
                    if mode == "compile":
                        compile_spent += time.perf_counter() - started
                base = times.get("simclr")
                for name, seconds in times.items():
                    ratio = seconds / base if seconds is not None and base else None
                    rows.append(
                        {
                            "B": b,
                            "k": k,
                            "precision": precision,
                            "mode": mode,
                            "loss": name,
                            "ms": None if seconds is None else 1000 * seconds,
                            "ratio": ratio,
                        }
                    )
    return rows


def finite_at_low_temperature(device: str, k: int) -> list:
    """Every loss at temperature 0.01 under fp16 and bf16 autocast: is the loss finite, and every
    gradient of its inputs?"""
    from solo_tricl.losses import (
        FeatureImportance,
        InfoNCELoss,
        KernelClipLoss,
        KernelInfoNCELoss,
        KernelMixtureLoss,
        MatryoshkaClipLoss,
        MatryoshkaInfoNCELoss,
        NCLClipLoss,
        NCLLoss,
        SpectralTriCLLoss,
        TriCLClipLoss,
        TriCLLoss,
    )

    tau = 0.01
    importance = FeatureImportance(k).to(device)
    view_losses = {
        "simclr": InfoNCELoss(tau),
        "tricl": TriCLLoss(importance, tau),
        "tri-scl": SpectralTriCLLoss(importance),
        "ncl": NCLLoss(tau),
        "kernel": KernelInfoNCELoss(1.0, tau),
        "mixture": KernelMixtureLoss(1.0, 0.5, tau, tau),
        "mrl": MatryoshkaInfoNCELoss(temperature=tau),
    }
    clip_losses = {
        "tricl-clip": TriCLClipLoss(importance),
        "ncl-clip": NCLClipLoss(),
        "kernel-clip": KernelClipLoss(),
        "mrl-clip": MatryoshkaClipLoss(),
    }
    rows = []
    for precision, dtype in (("fp16", torch.float16), ("bf16", torch.bfloat16)):
        for name, loss_fn in {**view_losses, **clip_losses}.items():
            z0 = torch.randn(64, k, device=device, requires_grad=True)
            z1 = torch.randn(64, k, device=device, requires_grad=True)
            with autocast(device, dtype):
                loss = loss_fn(z0, z1) if name in view_losses else loss_fn(z0, z1, torch.tensor(1 / tau, device=device))
            loss.backward()
            finite = bool(torch.isfinite(loss)) and all(bool(torch.isfinite(g).all()) for g in (z0.grad, z1.grad))
            rows.append({"precision": precision, "loss": name, "value": float(loss.detach()), "finite": finite})
    return rows


def solo_method(name: str, batch: int, tiny: bool):
    """solo-learn's method ``name`` from the shipped CIFAR config (the CIFAR stem, 32 px)."""
    from omegaconf import OmegaConf
    from solo.args.pretrain import parse_cfg
    from solo.methods import METHODS

    from solo_tricl.solo.cli import compose
    from solo_tricl.solo.registry import register

    register()
    config = "cifar/simclr" if name == "mrl" else f"cifar/{name}"
    overrides = [f"optimizer.batch_size={batch}", "wandb.enabled=False"]
    if name == "mrl":
        overrides.append("method=mrl")
    if tiny:
        overrides += ["method_kwargs.proj_hidden_dim=32", "method_kwargs.proj_output_dim=16"]
    cfg = compose("pretrain", None, config, overrides)
    OmegaConf.set_struct(cfg, False)
    return METHODS[cfg.method](parse_cfg(cfg))


def solo_steps(device: str, batch: int, rounds: int, steps: int, tiny: bool) -> list:
    """Median step time of each method, interleaved over ``rounds``, and its peak memory."""
    from solo.utils.lars import LARS

    models = {}
    for name in SOLO_METHODS:
        method = solo_method(name, batch, tiny).to(device).train()
        parameters = [group for group in method.learnable_params]
        optimizer = LARS(parameters, lr=0.1, momentum=0.9, eta=0.02, clip_lr=True, exclude_bias_n_norm=True)
        models[name] = (method, optimizer)
    crops = [torch.randn(batch, 3, 32, 32, device=device) for _ in range(2)]
    batch_data = [torch.arange(batch, device=device), crops, torch.randint(0, 10, (batch,), device=device)]
    times, peaks = {name: [] for name in models}, {}
    for _ in range(rounds):
        for name, (method, optimizer) in models.items():
            if device.startswith("cuda"):
                torch.cuda.reset_peak_memory_stats()

            def step(method=method, optimizer=optimizer):
                optimizer.zero_grad(set_to_none=True)
                with autocast(device, torch.bfloat16):
                    loss = method.training_step(batch_data, 1)
                loss.backward()
                optimizer.step()

            times[name].append(timed(step, device, steps, warmup=1))
            if device.startswith("cuda"):
                peaks[name] = torch.cuda.max_memory_allocated() / 2**20
    base = statistics.median(times["simclr"])
    return [
        {
            "method": name,
            "ms": 1000 * statistics.median(t),
            "ratio": statistics.median(t) / base,
            "peak_mb": peaks.get(name),
        }
        for name, t in times.items()
    ]


def clip_steps(device: str, batch: int, steps: int, tiny: bool) -> list:
    """Median step time of OpenCLIP training with each loss on one model."""
    import argparse as _argparse

    import open_clip

    from solo_tricl.clip.checkpoints import MODEL_CONFIGS
    from solo_tricl.clip.plugins import load_plugins, options_with_defaults

    open_clip.add_model_config(MODEL_CONFIGS)
    model_name, size = ("solo-tricl-tiny", 32) if tiny else ("ViT-S-32", 224)
    plugins = load_plugins()
    rows, base = [], None
    for loss_name in CLIP_LOSSES:
        siglip = loss_name == "siglip"
        plugin = plugins["clip" if siglip else loss_name]
        bias = {"init_logit_bias": -10.0} if siglip else {}
        model = open_clip.create_model(model_name, output_dict=True, **bias).to(device).train()
        options = options_with_defaults({"loss": loss_name})
        if getattr(plugin, "prepare_model", None):
            plugin.prepare_model(model, options)
            model.to(device)
        args = _argparse.Namespace(
            distill=False,
            siglip=siglip,
            horovod=False,
            local_loss=False,
            gather_with_grad=False,
            rank=0,
            world_size=1,
            model=model_name,
            coca_caption_loss_weight=2.0,
            coca_contrastive_loss_weight=1.0,
            loss_dist_impl=None,
            solo_tricl=options,
        )
        loss_fn = plugin(args)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        images = torch.randn(batch, 3, size, size, device=device)
        texts = open_clip.get_tokenizer(model_name)(["a photo of a shoe"] * batch).to(device)

        def step(model=model, loss_fn=loss_fn, optimizer=optimizer):
            optimizer.zero_grad(set_to_none=True)
            with autocast(device, torch.bfloat16):
                out = model(images, texts)
                losses = loss_fn(**out, output_dict=True)
            sum(losses.values()).backward()
            optimizer.step()

        seconds = timed(step, device, steps)
        base = base or seconds
        rows.append({"loss": loss_name, "ms": 1000 * seconds, "ratio": seconds / base})
    return rows


def table(rows: list, columns: list) -> list:
    def cell(value):
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.2f}"
        return str(value)

    return [
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows),
    ]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    parser.add_argument("--tiny", action="store_true", help="toy sizes and one or two repetitions: a test of the code")
    parser.add_argument(
        "--compile-budget",
        type=float,
        default=150.0,
        help="seconds of torch.compile work after which compiled cells are skipped (default 150)",
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("gpu_check: no CUDA device here; run with --device cpu --tiny to test the script")
    started = time.time()
    device = args.device
    sizes = [(16, 32)] if args.tiny else [(256, 256), (512, 2048)]
    compile_budget = min(args.compile_budget, 10.0) if args.tiny else args.compile_budget
    result = {
        "device": torch.cuda.get_device_name(0) if device.startswith("cuda") else f"CPU ({platform.machine()})",
        "torch": torch.__version__,
        "tiny": args.tiny,
        "loss_overhead": loss_overhead(device, sizes, 2 if args.tiny else 20, compile_budget),
        "finite_at_tau_0.01": finite_at_low_temperature(device, 16 if args.tiny else 256),
        "solo_steps": solo_steps(
            device, 8 if args.tiny else 256, 1 if args.tiny else 3, 1 if args.tiny else 10, args.tiny
        ),
        "clip_steps": clip_steps(device, 8 if args.tiny else 256, 1 if args.tiny else 10, args.tiny),
    }
    result["seconds"] = time.time() - started
    text = "\n".join(
        [
            "# GPU checks",
            "",
            f"Command: `python benchmarks/gpu_check.py {' '.join(sys.argv[1:] if argv is None else argv)}` on "
            f"{result['device']}, torch {result['torch']}, {result['seconds']:.0f} s in all"
            + (" (toy sizes: a test of the script, not a measurement)" if args.tiny else "")
            + ".",
            "",
            "## Loss overhead: forward + backward against SimCLR's InfoNCE",
            "",
            *table(result["loss_overhead"], ["B", "k", "precision", "mode", "loss", "ms", "ratio"]),
            "",
            "## solo-learn training steps (ResNet-18, CIFAR stem, 32 px, bf16 autocast), interleaved",
            "",
            *table(result["solo_steps"], ["method", "ms", "ratio", "peak_mb"]),
            "",
            "## OpenCLIP training steps (bf16 autocast) against ClipLoss",
            "",
            *table(result["clip_steps"], ["loss", "ms", "ratio"]),
            "",
            "## Every loss at temperature 0.01 under autocast",
            "",
            *table(result["finite_at_tau_0.01"], ["precision", "loss", "value", "finite"]),
            "",
        ]
    )
    args.out.mkdir(parents=True, exist_ok=True)
    from solo_tricl.common.files import write_json, write_text

    write_text(args.out / "gpu_check.md", text)
    write_json(args.out / "gpu_check.json", result)
    print(text)


if __name__ == "__main__":
    main()
