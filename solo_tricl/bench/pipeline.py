"""The bench from start to finish: train (or reuse) every run, measure it with
:func:`solo_tricl.evaluate.measurement.measure_run`, pair the seeds, time every variant."""

import itertools
import time
from pathlib import Path
from typing import Sequence

from solo_tricl.bench.records import (
    BENCH_ORDERS,
    LEADERBOARD_KS,
    BenchPair,
    BenchResult,
    BenchRun,
    measure_once,
    measurement_key,
)
from solo_tricl.bench.settings import NOISE_FLOOR_VARIANT, BenchSettings, variant_config
from solo_tricl.bench.training import config_differences, prepare_data, train_clip, train_solo

GALLERY_VARIANTS = ("tricl", "mrl", "ncl", "simclr")
GALLERY_FEATURES, GALLERY_IMAGES = 8, 10


def widest_projector(variants: Sequence[str]) -> int:
    """The largest projector output dimension among the variants' configs."""
    from solo_tricl.solo.cli import compose

    return max(int(compose("pretrain", None, *variant_config(v)).method_kwargs.proj_output_dim) for v in variants)


def measure(features, orders=BENCH_ORDERS):
    from solo_tricl.evaluate.measurement import measure_run

    return measure_run(features, orders, LEADERBOARD_KS)


def run_bench(settings: BenchSettings, out: Path, context: dict) -> BenchResult:
    from solo_tricl.bench.cost import cost_pass
    from solo_tricl.evaluate.features import clip_features, solo_features
    from solo_tricl.evaluate.gallery import draw_run_gallery, run_gallery
    from solo_tricl.evaluate.measurement import measure_pair

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
    sizes = {"eval_train": settings.eval_train, "eval_test": settings.eval_test, "views": views}

    def measured(trained, extract, data_path):
        features = extract(
            trained.checkpoint, data_path, limit_train=settings.eval_train, limit_test=settings.eval_test, views=views
        )
        folder = Path(trained.checkpoint).parent
        key = measurement_key(Path(trained.checkpoint), **sizes, orders=list(BENCH_ORDERS))
        measured_run = measure_once(features, folder, key, measure)
        if measured_run.reused:
            result.time.add_reused(measured_run.recorded_seconds)
        return measured_run.measurement, measured_run.ordered, features

    def trained_or_reused(trained):
        if trained.seconds is None:
            result.time.add_reused(trained.recorded_seconds)
        return trained

    firsts = {}
    for variant in settings.methods:
        ordered_runs = []
        for seed in settings.seeds:
            print(f"== {variant}, seed {seed}: training with solo-learn", flush=True)
            trained = trained_or_reused(train_solo(variant, seed, settings, data["solo"]))
            print(f"== {variant}, seed {seed}: measuring", flush=True)
            measurement, ordered, features = measured(trained, solo_features, data["solo"])
            result.runs.append(BenchRun(variant, seed, trained.name, trained.command, measurement, trained.seconds))
            ordered_runs.append((seed, ordered))
            if seed == settings.seeds[0] and variant in GALLERY_VARIANTS:
                run, fitted = ordered["importance"]
                rows = run_gallery(run, GALLERY_FEATURES, GALLERY_IMAGES)
                result.galleries[variant] = draw_run_gallery(run, fitted, rows, out / f"bench_gallery_{variant}.png")
        firsts[variant] = ordered_runs[0]
        for (a, first), (b, second) in itertools.combinations(ordered_runs, 2):
            result.pairs.append(BenchPair(variant, f"{variant}: seed {a} vs {b}", measure_pair(first, second)))
    if settings.noise_floor and NOISE_FLOOR_VARIANT in firsts:
        seed, first = firsts[NOISE_FLOOR_VARIANT]
        name = f"{NOISE_FLOOR_VARIANT}-same-init"
        print(f"== {name}: seed {seed}'s initial weights, data order seed {seed + 1}", flush=True)
        trained = trained_or_reused(
            train_solo(NOISE_FLOOR_VARIANT, seed, settings, data["solo"], (f"++data_order_seed={seed + 1}",), name=name)
        )
        _, ordered, _ = measured(trained, solo_features, data["solo"])
        label = f"{NOISE_FLOOR_VARIANT}: same init, other data order"
        result.noise_floor = BenchPair(NOISE_FLOOR_VARIANT, label, measure_pair(first, ordered))
    for loss in settings.clip_losses:
        for seed in settings.seeds:
            print(f"== CLIP {loss}, seed {seed}: training with open_clip_train", flush=True)
            trained = trained_or_reused(train_clip(loss, seed, settings, data["clip"]))
            measurement, _, _ = measured(trained, clip_features, data["clip"])
            result.clip.append(BenchRun(loss, seed, trained.name, trained.command, measurement, trained.seconds))
    if settings.cost_repeats:
        print("== cost: training steps of every method, interleaved", flush=True)
        result.cost = cost_pass(settings.methods, settings, data["solo"])
    result.time.invocation_minutes = (time.time() - started) / 60
    return result
