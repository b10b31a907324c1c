"""Why triCL's s barely moves in CLIP training, measured, and what makes it train.

Each setting trains the bench's CLIP run (`solo-tricl-tiny`, 5,000 captioned Fashion-MNIST
images, 10 epochs, batch 64, OpenCLIP's AdamW at lr 1e-3, warmup 20) and changes one
thing: the scale c of s = softplus(c theta), which multiplies theta's learning rate under Adam
(OpenCLIP's schedulers give every parameter one learning rate), and the decorrelation weight.
It measures how far theta moves per step (from the epoch checkpoints), against the bench's
solo-learn triCL run, and what the order is worth: the spread of s, the linear probe and
zero-shot accuracy of the top 8 features by s against 8 random ones, and zero-shot on all
features, with OpenCLIP's own ClipLoss beside them. Settings given to --seeds-of run with every
seed of --seeds; the others with the first seed only. Each cell is the mean over seeds, +- their
standard deviation where there are several (the bench's spread, solo_tricl.bench.verdicts).

    python benchmarks/clip_importance.py      # writes results/clip_importance.md and .json
"""

import argparse
import json
import shlex
import sys
from pathlib import Path

SETTINGS = {
    "ClipLoss": ("clip", ()),
    "triCL, c = 1 (the former default)": ("tricl", ("--importance-scale", "1")),
    "triCL, c = 10": ("tricl", ("--importance-scale", "10")),
    "triCL, c = 30 (the default)": ("tricl", ("--importance-scale", "30")),
    "triCL, c = 100": ("tricl", ("--importance-scale", "100")),
    "triCL, c = 30, no decorrelation": ("tricl", ("--importance-scale", "30", "--decorrelation-weight", "0")),
    "SigLIP": ("siglip", ()),
}
TOP = 8


def theta_steps(run_dir: Path, epochs: int, steps_per_epoch: int, scale: float) -> dict:
    """Mean |change of c theta| per step between the first and the last epoch checkpoint."""
    import torch

    def importance(epoch):
        saved = torch.load(run_dir / "checkpoints" / f"epoch_{epoch}.pt", map_location="cpu", weights_only=False)
        theta = next(v for k, v in saved["state_dict"].items() if k.endswith("feature_importance.theta"))
        return theta

    first, last = importance(1), importance(epochs)
    steps = (epochs - 1) * steps_per_epoch
    return {"theta_change_per_step": scale * (last - first).abs().mean().item() / steps}


def solo_theta_per_step(checkpoint_dir: Path) -> dict:
    """The same for a solo-learn triCL run: mean |change of theta| per step between its first and
    last epoch checkpoints."""
    import torch

    checkpoints = sorted(checkpoint_dir.glob("*.ckpt"), key=lambda p: int(p.stem.rsplit("ep=", 1)[1]))
    first, last = (torch.load(p, map_location="cpu", weights_only=False) for p in (checkpoints[0], checkpoints[-1]))
    key = "loss.importance.theta"
    steps = last["global_step"] - first["global_step"]
    return {"theta_change_per_step": (last["state_dict"][key] - first["state_dict"][key]).abs().mean().item() / steps}


def measure(checkpoint: Path, data: Path) -> dict:
    from solo_tricl.evaluate.features import clip_features
    from solo_tricl.evaluate.measurement import measure_run

    run = clip_features(checkpoint, data, limit_train=5000, limit_test=1000)
    measured, _ = measure_run(run, ("importance",), (TOP,), bottom_orders=())
    result = {
        "linear_top8": measured.at("importance", "linear", TOP),
        "linear_random8": measured.at("random", "linear", TOP),
        "zero_shot_all": measured.at("importance", "zero_shot", "all"),
        "zero_shot_top8": measured.at("importance", "zero_shot", TOP),
        "zero_shot_random8": measured.at("random", "zero_shot", TOP),
        "order": measured.orders["importance"].label,
    }
    if run.importance is not None:
        s = run.importance
        result.update(s_min=s.min().item(), s_median=s.median().item(), s_max=s.max().item())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10, help="OpenCLIP epochs (default 10, the bench's)")
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS), help="labels of SETTINGS to run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--seeds-of", nargs="*", default=[], help="labels of SETTINGS to run with every seed")
    parser.add_argument(
        "--solo-run", type=Path, default=None, help="a solo-learn triCL run's checkpoint folder, with every epoch kept"
    )
    parser.add_argument("--work", type=Path, default=Path("bench-work") / "clip-importance")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()

    from solo_tricl.bench.settings import BenchSettings
    from solo_tricl.bench.training import CLIP_TRAIN_PER_CLASS, prepare_data, train_clip
    from solo_tricl.clip.checkpoints import run_options
    from solo_tricl.clip.plugins import options_with_defaults

    data = prepare_data(args.work)["clip"]
    settings = BenchSettings(work=args.work, clip_epochs=args.epochs)
    steps_per_epoch = CLIP_TRAIN_PER_CLASS * 10 // 64
    raw = {}
    for index, label in enumerate(args.settings):
        loss, options = SETTINGS[label]
        for seed in args.seeds if label in args.seeds_of else args.seeds[:1]:
            name = f"setting{index}" if seed == 0 else f"setting{index}-seed{seed}"
            trained = train_clip(loss, seed, settings, data, name=name, loss_options=options)
            result = {"options": list(options), "seed": seed, **measure(Path(trained.checkpoint), data)}
            if loss == "tricl":
                scale = options_with_defaults(run_options(Path(trained.checkpoint))).importance_scale
                result.update(theta_steps(Path(trained.checkpoint).parents[1], args.epochs, steps_per_epoch, scale))
            raw.setdefault(label, []).append(result)
            print(label, json.dumps(result), flush=True)
    solo = solo_theta_per_step(args.solo_run) if args.solo_run else None
    write_report(raw, solo, args)


def write_report(raw: dict, solo, args) -> None:
    from solo_tricl.bench.verdicts import estimate

    def fmt(runs, key, digits=3):
        return estimate(r.get(key) for r in runs).text(digits)

    rows = [
        f"| {label} | {len(runs)} | {fmt(runs, 's_min')} / {fmt(runs, 's_median')} / {fmt(runs, 's_max')} | "
        f"{fmt(runs, 'theta_change_per_step', 5)} | {fmt(runs, 'linear_top8')} / {fmt(runs, 'linear_random8')} | "
        f"{fmt(runs, 'zero_shot_top8')} / {fmt(runs, 'zero_shot_random8')} | {fmt(runs, 'zero_shot_all')} |"
        for label, runs in raw.items()
    ]
    lines = [
        "# triCL in CLIP: does s train?",
        "",
        f"Command: `python benchmarks/clip_importance.py {shlex.join(sys.argv[1:])}`",
        "",
        "OpenCLIP, `solo-tricl-tiny` (32-d embeddings), 5,000 captioned Fashion-MNIST training images, "
        f"{args.epochs} epochs, batch 64, AdamW lr 1e-3, warmup 20; one setting changed per row; mean over the "
        "seeds of the row ± their standard deviation (the bench's spread). Top 8: the "
        "8 features with the largest s (ClipLoss: activation mass); 8 random: mean of 3 draws. Linear probe fitted "
        "on 5,000 training images, everything scored on 1,000 test images; zero-shot with 10 class names and 6 "
        "templates, on the first k features with the class embeddings projected alike. theta moves: mean |change "
        "of c theta| per step between the first and the last epoch checkpoint.",
        "",
        "| setting | seeds | s: min / median / max | c theta moves per step | linear: top-8 / 8 random | zero-shot: top-8 "
        "/ 8 random | zero-shot: all |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
    ]
    if solo:
        lines += [
            f"solo-learn's triCL run (`{args.solo_run}`): theta moves {solo['theta_change_per_step']:.5f} per step "
            "(SGD with momentum outside LARS's trust ratio, the method's learning rate).",
            "",
        ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "clip_importance.json").write_text(json.dumps({"clip": raw, "solo": solo}, indent=1))
    (args.out / "clip_importance.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
