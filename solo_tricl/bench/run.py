"""The bench from start to finish: train (or reuse) every run, measure it, pair the seeds."""

import time
from pathlib import Path
from typing import Sequence

from solo_tricl.bench.results import BenchResult, measure_clip_run, measure_pair, measure_solo_run_once
from solo_tricl.bench.runs import (
    NOISE_FLOOR_VARIANT,
    BenchSettings,
    config_differences,
    prepare_data,
    train_clip,
    train_solo,
    variant_config,
)

GALLERY_VARIANTS = ("tricl", "mrl", "ncl", "simclr")
GALLERY_FEATURES, GALLERY_IMAGES = 8, 10


def widest_projector(variants: Sequence[str]) -> int:
    """The largest projector output dimension among the variants' configs."""
    from solo_tricl.solo.cli import compose

    return max(int(compose("pretrain", None, *variant_config(v)).method_kwargs.proj_output_dim) for v in variants)


def run_bench(settings: BenchSettings, out: Path, context: dict) -> BenchResult:
    from solo_tricl.evaluate.features import clip_features, solo_features
    from solo_tricl.evaluate.gallery import draw_run_gallery, run_gallery

    started = time.time()
    data = prepare_data(settings.work)
    result = BenchResult(
        settings={
            **{k: str(v) if isinstance(v, Path) else v for k, v in vars(settings).items()},
            **context,
            "solo_epochs": settings.solo_epochs,
            "open_clip_epochs": settings.open_clip_epochs,
        },
        config_differences=config_differences(settings.methods),
    )
    views = min(settings.basis_images, settings.eval_train)

    def measured(variant, seed, trained):
        features = solo_features(
            trained.checkpoint,
            data["solo"],
            limit_train=settings.eval_train,
            limit_test=settings.eval_test,
            views=views,
        )
        measured_with = {"eval_train": settings.eval_train, "eval_test": settings.eval_test, "views": views}
        folder = settings.solo_run_dir(trained.name)
        run, ordered = measure_solo_run_once(features, variant, seed, trained, folder, measured_with)
        return run, ordered, features

    firsts = {}
    for variant in settings.methods:
        pair = []
        for seed in settings.seeds:
            print(f"== {variant}, seed {seed}: training with solo-learn", flush=True)
            trained = train_solo(variant, seed, settings, data["solo"])
            print(f"== {variant}, seed {seed}: measuring", flush=True)
            run, ordered, features = measured(variant, seed, trained)
            result.runs.append(run)
            pair.append((run, ordered))
            if seed == settings.seeds[0] and variant in GALLERY_VARIANTS:
                rows = run_gallery(features, GALLERY_FEATURES, GALLERY_IMAGES)
                result.galleries[variant] = draw_run_gallery(features, rows, out / f"bench_gallery_{variant}.png")
        firsts[variant] = pair[0]
        if len(pair) >= 2:
            (a, first), (b, second) = pair[:2]
            result.pairs.append(measure_pair(variant, f"{variant}: seed {a.seed} vs {b.seed}", first, second, a, b))
    if settings.noise_floor and NOISE_FLOOR_VARIANT in firsts:
        seed = settings.seeds[0]
        name = f"{NOISE_FLOOR_VARIANT}-same-init"
        print(f"== {name}: seed {seed}'s initial weights, data order seed {seed + 1}", flush=True)
        trained = train_solo(
            NOISE_FLOOR_VARIANT, seed, settings, data["solo"], (f"++data_order_seed={seed + 1}",), name=name
        )
        run, ordered, _ = measured(NOISE_FLOOR_VARIANT, seed, trained)
        first_run, first_ordered = firsts[NOISE_FLOOR_VARIANT]
        result.noise_floor = measure_pair(
            NOISE_FLOOR_VARIANT,
            f"{NOISE_FLOOR_VARIANT}: same init, other data order",
            first_ordered,
            ordered,
            first_run,
            run,
        )
    for loss in settings.clip_losses:
        print(f"== CLIP {loss}: training with open_clip_train", flush=True)
        trained = train_clip(loss, settings, data["clip"])
        features = clip_features(
            trained.checkpoint, data["clip"], limit_train=settings.eval_train, limit_test=settings.eval_test
        )
        result.clip.append(measure_clip_run(features, trained, zero_shot(trained.checkpoint, data["clip"])))
    result.minutes = (time.time() - started) / 60
    return result


def zero_shot(checkpoint: str, data: Path) -> dict:
    from solo_tricl.clip.zero_shot import evaluate_zero_shot

    return evaluate_zero_shot(Path(checkpoint), data / "val.csv", data / "classes.json", top_ks=[8])
