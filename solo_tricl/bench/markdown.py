"""bench.md, bench.json and the plots, rendered from a :class:`~solo_tricl.bench.records.BenchResult`:
every number is a mean over seeds with its spread (:mod:`solo_tricl.bench.verdicts`)."""

import math
import statistics
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

from solo_tricl.bench.records import BENCH_ORDERS, LEADERBOARD_KS, BenchPair, BenchResult, BenchTime
from solo_tricl.bench.settings import BASELINE, CLIP_BASELINE
from solo_tricl.bench.verdicts import Estimate, estimate, target_line, verdict
from solo_tricl.common.files import write_json, write_text
from solo_tricl.common.thresholds import IDENTIFIABLE_LAMBDA, KNN_MIN_FEATURES, KNN_NEIGHBOURS, KNN_TEMPERATURE, TARGETS
from solo_tricl.evaluate.measurement import RunMeasurement

SHOWN_KS = (1, 2, 4, 8, 16, 32)
ORDER_NAMES = {"importance": "own importance", "pca": "PCA", "canonical": "canonical", "random": "k random"}
METRICS = {
    "linear": "linear probe",
    "knn": f"kNN (k = {KNN_NEIGHBOURS}, T = {KNN_TEMPERATURE})",
    "zero_shot": "zero-shot",
}
Runs = Sequence[RunMeasurement]


def at(runs: Runs, order: str, metric: str, k) -> Estimate:
    """One point of a curve over seeds (k or "all")."""
    return estimate(run.at(order, metric, k) for run in runs)


def of(runs: Runs, name: str) -> Estimate:
    return estimate(getattr(run, name) for run in runs)


def own_label(runs: Runs) -> str:
    return runs[0].orders["importance"].label


def time_taken(time: BenchTime) -> str:
    """What the bench took, over the invocations that did its work."""
    text = f"{time.minutes:.0f} minutes"
    if not time.reused:
        return text
    text += (
        f": {time.invocation_minutes:.0f} in its last invocation, and {time.reused_minutes:.0f} that the "
        f"{time.reused} trainings and measurements it reused took when they ran"
    )
    if time.unrecorded:
        text += f"; {time.unrecorded} of them recorded no time (trained before times were recorded, or resumed)"
    return text


def setup_lines(result: BenchResult) -> List[str]:
    s = result.settings
    lines = [
        f"Command: `{s['command']}` ({time_taken(result.time)} on {s['machine']}, accelerator {s['accelerator']}).",
        "",
        f"Fashion-MNIST, solo-learn: every run from its shipped `fashion_mnist/*.yaml` config, whose learning rate "
        "and key hyperparameter were tuned with the same budget for every method on a validation split held out "
        "of the training images (`solo-tricl bench --tune`, [tuning.md](tuning.md)); ResNet-18, the same "
        f"augmentations (2 x 28 px, symmetric), batch 128, warmup-cosine with 1 warmup epoch, {s['solo_epochs']} "
        f"epochs on a stratified {s['fraction']} of the 60,000 training images, seeds "
        f"{', '.join(map(str, s['seeds']))}. Measures on {s['eval_train']:,} training and {s['eval_test']:,} "
        "held-out test images. Every cell: mean ± standard deviation over the seeds. Linear probe: scikit-learn "
        f"logistic regression on standardised features; {METRICS['knn']} as solo-learn computes it (cosine "
        f"similarity, votes weighted by exp(similarity / T)). kNN starts at k = {KNN_MIN_FEATURES}: on one "
        "feature the cosine similarity of any two images is +-1, so every neighbour of the same sign ties and "
        "kNN is a coin flip.",
        "",
        "Representation measured: "
        + "; ".join(f"{variant}: {runs[0].representation}" for variant, runs in result.by_variant().items())
        + ".",
        "",
        "What differs from SimCLR's config, read from the composed configs (the built-ins keep solo-learn's own "
        "hyperparameters from its `scripts/pretrain/cifar/*.yaml` but for the tuned learning rate and key "
        "hyperparameter; solo-learn's CIFAR configs also give BYOL, Barlow Twins and MoCo v3 asymmetric "
        "augmentations and VICReg its own, which this bench replaces by the shared ones):",
        "",
    ]
    lines += [
        f"- `{variant}`: {', '.join(f'`{d}`' for d in diffs) or 'nothing'}"
        for variant, diffs in result.config_differences.items()
    ]
    return lines + [""]


def cost_of(result: BenchResult) -> Dict[str, Dict[str, Estimate]]:
    """Each variant's images/s and peak memory relative to SimCLR's, per repeat of the pass."""
    by_variant = {cost.variant: cost for cost in result.cost}
    base = by_variant.get(BASELINE)
    if base is None:
        return {}
    return {
        variant: {
            "speed": estimate(a / b for a, b in zip(cost.images_per_s, base.images_per_s)),
            "memory": estimate(a / b for a, b in zip(cost.peak_bytes, base.peak_bytes)),
            "images_per_s": estimate(cost.images_per_s),
            "peak_mib": estimate(b / 2**20 for b in cost.peak_bytes),
        }
        for variant, cost in by_variant.items()
    }


def collapse_note(runs: Runs) -> str:
    collapsed = [r for r in runs if r.collapsed]
    if not collapsed:
        return ""
    worst = max(collapsed, key=lambda r: r.mean_abs_corr)
    return (
        f" **collapsed** in {len(collapsed)}/{len(runs)} seeds (mean abs corr up to {worst.mean_abs_corr:.2f}, "
        f"effective rank {worst.effective_rank:.1f})"
    )


def main_table(result: BenchResult) -> List[str]:
    costs = cost_of(result)
    rows = [
        "| run | k | backbone: linear / kNN | all features: linear / kNN | mean abs corr | effective rank "
        "| identifiable rank | sparsity | class consistency | images/s (x SimCLR) | peak memory (x SimCLR) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for variant, runs in result.by_variant().items():
        cost = costs.get(variant)
        speed = f"{cost['images_per_s'].mean:.0f} ({cost['speed'].text(2)})" if cost else "-"
        memory = f"{cost['peak_mib'].mean:.0f} MiB ({cost['memory'].text(2)})" if cost else "-"
        rows.append(
            f"| {variant}{collapse_note(runs)} | {runs[0].features} | {of(runs, 'backbone_linear').text()} / "
            f"{of(runs, 'backbone_knn').text()} | {at(runs, 'importance', 'linear', 'all').text()} / "
            f"{at(runs, 'importance', 'knn', 'all').text()} | {of(runs, 'mean_abs_corr').text()} | "
            f"{of(runs, 'effective_rank').text(1)} | {' / '.join(str(r.identifiable_rank) for r in runs)} | "
            f"{of(runs, 'sparsity').text()} | {of(runs, 'class_consistency').text()} | {speed} | {memory} |"
        )
    if costs:
        rows += [
            "",
            "Cost: one pass inside this invocation, every method's training steps interleaved with the others' "
            "(each in a fresh process, 3 warm-up and 15 timed batches of 128 images x 2 crops, data loading "
            "excluded), repeated; peak memory is the growth of the process's peak RSS during fit on a CPU "
            "(CUDA: max memory allocated). Ratios to SimCLR are per repeat, then averaged.",
        ]
    return rows


def pair_estimates(result: BenchResult, variant: str, order: str, key: str) -> Estimate:
    return estimate(
        p.measurement.by_order[order].get(key)
        for p in result.pairs
        if p.variant == variant and order in p.measurement.by_order
    )


def leaderboard(result: BenchResult, metric: str, clip: bool = False) -> List[str]:
    """Every (method, order) by k, mean ± spread; in bold the best and every entry tied with it;
    identifiability of the top 8 in the same order beside it (solo-learn runs)."""
    groups = result.by_variant(clip)
    entries = [(variant, order, runs) for variant, runs in groups.items() for order in (*BENCH_ORDERS, "random")]
    columns = shown_ks(groups)
    cells = {(v, o): [at(runs, o, metric, k) for k in columns] for v, o, runs in entries}
    bold = []
    for i in range(len(columns)):
        candidates = {f"{v}|{o}": cells[(v, o)][i] for v, o, _ in entries if o != "random"}
        bold.append(set(verdict(candidates).tied) if any(e.n for e in candidates.values()) else set())
    header = ["method", "order", *[f"k={k}" for k in columns]] + ([] if clip else ["identifiability top-8"])
    rows = ["| " + " | ".join(header) + " |", "|---|---|" + "---:|" * (len(header) - 2)]
    for variant, order, runs in entries:
        shown = [
            f"**{e.text()}**" if f"{variant}|{order}" in bold[i] else e.text()
            for i, e in enumerate(cells[(variant, order)])
        ]
        name = own_label(runs) if order == "importance" else ORDER_NAMES[order]
        ident = (
            [] if clip else [pair_estimates(result, variant, order, "ordered_top8").text() if order != "random" else ""]
        )
        rows.append(f"| {variant} | {name} | " + " | ".join(shown + ident) + " |")
    if result.noise_floor and not clip:
        floor = result.noise_floor.measurement.by_order
        rows.append(
            f"| {result.noise_floor.label} (noise floor) | own / PCA / canonical | "
            + " | ".join("" for _ in columns)
            + " | "
            + " / ".join(f"{floor[o]['ordered_top8']:.3f}" for o in BENCH_ORDERS if o in floor)
            + " |"
        )
    return rows


def shown_ks(groups: Dict[str, Runs]) -> list:
    """The leaderboard's columns: the shown k below every run's own k, and all."""
    smallest = min(runs[0].features for runs in groups.values())
    return [*(k for k in SHOWN_KS if k < smallest), "all"]


def candidate_name(variant: str, order: str, runs: Runs) -> str:
    return f"{variant} ({own_label(runs) if order == 'importance' else ORDER_NAMES[order]})"


def winners(result: BenchResult, clip: bool = False, metrics: Sequence[str] = ("linear", "knn")) -> List[str]:
    """Who wins at which k: a winner only outside the spread over seeds, else the tie."""
    groups = result.by_variant(clip)
    lines = []
    if not groups:
        return lines
    for metric in metrics:
        for k in shown_ks(groups):
            if metric == "knn" and k != "all" and k < KNN_MIN_FEATURES:
                lines.append(f"- {METRICS[metric]}, k = {k}: not reported (kNN on one feature is a coin flip)")
                continue
            estimates = {
                candidate_name(v, o, runs): at(runs, o, metric, k) for v, runs in groups.items() for o in BENCH_ORDERS
            }
            if not any(e.n for e in estimates.values()):
                continue
            lines.append(f"- {METRICS[metric]}, k = {k}: {verdict(estimates).text(estimates)}")
    return lines


def order_table(result: BenchResult) -> List[str]:
    groups = result.by_variant()
    variants = [v for v in ("tricl", "tricl-reference", "tri-scl", "mrl") if v in groups]
    if not variants:
        return []
    header = ["k"] + [f"{v} {part}" for v in variants for part in ("top-k", "k random", "bottom-k")]
    rows = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    for k in SHOWN_KS:
        cells = [str(k)]
        for v in variants:
            runs = groups[v]
            cells += [at(runs, o, "linear", k).text() for o in ("importance", "random", "bottom")]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def identifiability_table(result: BenchResult) -> List[str]:
    rows = [
        "| pair | own order: top-8 / top-16 / all | PCA: top-8 / top-16 / all | canonical: top-8 / top-16 / all |",
        "|---|---:|---:|---:|",
    ]

    def three(values: Dict[str, float]) -> str:
        return " / ".join(
            "-" if values.get(key) is None else f"{values[key]:.3f}"
            for key in ("ordered_top8", "ordered_top16", "ordered")
        )

    pairs: List[BenchPair] = [*result.pairs, *([result.noise_floor] if result.noise_floor else [])]
    for pair in pairs:
        note = " (collapsed: not meaningful)" if pair.measurement.collapsed else ""
        by_order = pair.measurement.by_order
        rows.append(f"| {pair.label}{note} | " + " | ".join(three(by_order[o]) for o in BENCH_ORDERS) + " |")
    return rows


def threshold_check(result: BenchResult) -> List[str]:
    """Cross-seed |corr| of canonical features above and below the identifiable-rank threshold."""
    above, below = [], []
    for pair in [*result.pairs, *([result.noise_floor] if result.noise_floor else [])]:
        spectrum, corr = pair.measurement.mean_spectrum or [], pair.measurement.per_rank.get("canonical", [])
        for value, c in zip(spectrum, corr):
            (above if value > IDENTIFIABLE_LAMBDA else below).append(c)
    if not above or not below:
        return []
    share = sum(c >= 0.8 for c in above) / len(above)
    return [
        f"Identifiable rank: canonical features with lambda > {IDENTIFIABLE_LAMBDA} (the mean of the pair's "
        f"two spectra). Over every pair above, the {len(above)} features above it match their counterpart with "
        f"mean |corr| {statistics.mean(above):.3f} ({100 * share:.0f}% at >= 0.8); the {len(below)} below it, "
        f"{statistics.mean(below):.3f}."
    ]


def targets(result: BenchResult) -> List[str]:
    groups, clip, lines = result.by_variant(), result.by_variant(clip=True), []

    def add(key: str, value: Estimate) -> None:
        lines.append(target_line(TARGETS[key], value))

    if "tricl" in groups:
        tricl = groups["tricl"]
        for k in (4, 8):
            add(f"tricl_top{k}_over_random", at(tricl, "importance", "linear", k) - at(tricl, "random", "linear", k))
        if BASELINE in groups:
            simclr = groups[BASELINE]
            add(
                "tricl_all_vs_simclr",
                at(tricl, "importance", "linear", "all") - at(simclr, "importance", "linear", "all"),
            )
            add("tricl_corr_vs_simclr", of(tricl, "mean_abs_corr") - of(simclr, "mean_abs_corr"))
        add("tricl_identifiability_own_top8", pair_estimates(result, "tricl", "importance", "ordered_top8"))
        add("tricl_identifiability_canonical_top8", pair_estimates(result, "tricl", "canonical", "ordered_top8"))
        add("tricl_identifiability_canonical_top16", pair_estimates(result, "tricl", "canonical", "ordered_top16"))
    if BASELINE in groups:
        add("simclr_identifiability_own_top8", pair_estimates(result, BASELINE, "importance", "ordered_top8"))
        simclr = groups[BASELINE]
        if "tri-scl" in groups:
            add("triscl_backbone_vs_simclr", of(groups["tri-scl"], "backbone_linear") - of(simclr, "backbone_linear"))
        if "kernel" in groups:
            add("kernel_backbone_vs_simclr", of(groups["kernel"], "backbone_linear") - of(simclr, "backbone_linear"))
        if "ncl" in groups:
            add("ncl_sparsity", of(groups["ncl"], "sparsity"))
            ratio = of(groups["ncl"], "class_consistency").mean / of(simclr, "class_consistency").mean
            add("ncl_consistency_over_simclr", Estimate(ratio, 0.0, 1))
    if "tricl" in clip:
        tricl = clip["tricl"]
        add("clip_tricl_top8_over_random", at(tricl, "importance", "linear", 8) - at(tricl, "random", "linear", 8))
        rivals = {
            (loss, order): at(clip[loss], order, "zero_shot", 8)
            for loss in ("clip", "siglip")
            if loss in clip
            for order in BENCH_ORDERS
        }
        if rivals:
            best = max(rivals.values(), key=lambda e: e.mean)
            add("clip_tricl_zero_shot_top8_vs_best", at(tricl, "importance", "zero_shot", 8) - best)
        if CLIP_BASELINE in clip:
            add(
                "clip_tricl_zero_shot_vs_clip",
                at(tricl, "importance", "zero_shot", "all") - at(clip[CLIP_BASELINE], "importance", "zero_shot", "all"),
            )
    return lines


def clip_table(result: BenchResult) -> List[str]:
    rows = [
        "| loss | k | zero-shot: all | zero-shot, top-8: own / PCA / canonical | linear: all / top-8 / 8 random "
        "| kNN: all / top-8 | effective rank | sparsity | class consistency |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for loss, runs in result.by_variant(clip=True).items():
        rows.append(
            f"| {loss}{collapse_note(runs)} | {runs[0].features} | {at(runs, 'importance', 'zero_shot', 'all').text()} | "
            + " / ".join(at(runs, o, "zero_shot", 8).text() for o in BENCH_ORDERS)
            + f" | {at(runs, 'importance', 'linear', 'all').text()} / {at(runs, 'importance', 'linear', 8).text()} / "
            f"{at(runs, 'random', 'linear', 8).text()} | {at(runs, 'importance', 'knn', 'all').text()} / "
            f"{at(runs, 'importance', 'knn', 8).text()} | {of(runs, 'effective_rank').text(1)} | "
            f"{of(runs, 'sparsity').text()} | {of(runs, 'class_consistency').text()} |"
        )
    return rows


def gallery_lines(result: BenchResult) -> List[str]:
    def dead(end):
        return f" ({end['dead_features']} dead)" if end.get("dead_features") else ""

    return [
        f"- {variant}: mean class purity of the top-activating images {g['most']['mean_purity']:.2f} for the 8 "
        f"most important features{dead(g['most'])}, {g['least']['mean_purity']:.2f} for the 8 least important"
        f"{dead(g['least'])} (`{Path(g['png']).name}`)"
        for variant, g in result.galleries.items()
    ]


def write_plots(result: BenchResult, out: Path) -> List[Path]:
    from solo_tricl.common.plots import (
        plot_curve_grid,
        plot_heatmap,
        plot_importance_curves,
        plot_invariance_spectra,
        plot_scatter,
    )

    written = []

    def curve(runs, order, metric):
        points = sorted(set(LEADERBOARD_KS) | {runs[0].features})
        values = {k: at(runs, order, metric, k).mean for k in points if k <= runs[0].features}
        return {k: v for k, v in values.items() if not math.isnan(v)}

    for clip, metrics, name in (
        (False, ("linear", "knn"), "bench_accuracy_vs_k.png"),
        (True, ("zero_shot", "linear"), "bench_clip_vs_k.png"),
    ):
        groups = result.by_variant(clip)
        if not groups:
            continue
        panels = {
            f"{METRICS[metric]}, {ORDER_NAMES[order]} order": {
                v: curve(runs, order, metric) for v, runs in groups.items()
            }
            for metric in metrics
            for order in BENCH_ORDERS
        }
        title = "CLIP" if clip else "Fashion-MNIST"
        written.append(
            plot_curve_grid(
                panels,
                out / name,
                "k features",
                "accuracy",
                f"{title}: accuracy of the first k features (mean over seeds)",
                chance=0.1,
            )
        )
    learned = {run.name: run.measurement.importance for run in result.runs if run.measurement.importance}
    if learned:
        written.append(
            plot_importance_curves(learned, out / "bench_importance.png", "learned s of every triCL run, sorted")
        )
    spectra = {runs[0].method + f" ({v})": runs[0].invariance_spectrum for v, runs in result.by_variant().items()}
    written.append(
        plot_invariance_spectra(
            spectra,
            out / "bench_invariance_spectrum.png",
            IDENTIFIABLE_LAMBDA,
            "invariance spectrum of each method (first seed)",
        )
    )
    pairs = [*result.pairs, *([result.noise_floor] if result.noise_floor else [])]
    written.append(
        plot_scatter(
            {p.label: (p.measurement.mean_spectrum, p.measurement.per_rank["canonical"]) for p in pairs},
            out / "bench_identifiable_rank.png",
            "lambda: agreement of two views (mean of the pair)",
            "|corr| with the other run's feature",
            "canonical features across runs, by invariance",
            vertical=IDENTIFIABLE_LAMBDA,
        )
    )
    for variant in ("tricl", "simclr", "mrl"):
        pair = next((p for p in result.pairs if p.variant == variant), None)
        if pair is None:
            continue
        for order in ("importance", "canonical"):
            written.append(
                plot_heatmap(
                    np.array(pair.measurement.heatmaps[order]),
                    out / f"bench_identifiability_{variant}_{order}.png",
                    f"{pair.label}: |corr| across seeds, {ORDER_NAMES[order]} order "
                    f"(top-8 {pair.measurement.by_order[order]['ordered_top8']:.2f})",
                    "second run's feature",
                    "first run's feature",
                )
            )
    return written + [Path(g["png"]) for g in result.galleries.values()]


def render(result: BenchResult, plots: Sequence[Path]) -> str:
    clip_sections: List[str] = []
    if result.clip:
        clip_sections = [
            "## CLIP variants (OpenCLIP, `solo-tricl-tiny`, 5,000 captioned training images)",
            "",
            "Zero-shot: 1,000 test images against the 10 class names with 6 templates (chance 0.100). With the "
            "first k features of an order, the image embeddings and the class embeddings are both projected on "
            "the span of those k directions (for the model's own features: k of its coordinates). `clip` and "
            "`siglip` are OpenCLIP's own losses (`--siglip`), unchanged.",
            "",
            *clip_table(result),
            "",
            f"### {METRICS['zero_shot']}",
            "",
            *leaderboard(result, "zero_shot", clip=True),
            "",
            f"### {METRICS['linear']} (image embedding)",
            "",
            *leaderboard(result, "linear", clip=True),
            "",
            "### Who wins where (CLIP)",
            "",
            *winners(result, clip=True, metrics=("zero_shot", "linear", "knn")),
            "",
        ]
    return "\n".join(
        [
            "# Benchmark: the hosts' baselines, the methods built for ordered features, and ours",
            "",
            *setup_lines(result),
            "## Every run",
            "",
            *main_table(result),
            "",
            "## Leaderboard: accuracy of the first k features",
            "",
            "Each method in its own importance order (triCL: learned s; Matryoshka: prefix; every other method: "
            "activation mass on 2,048 training images), in the two orders any model has after training at no cost "
            "(PCA: principal components of the standardised training features; canonical: the canonical "
            "invariance basis, fitted from two augmented views of the probes' training images), and k random "
            "features (mean of 3 draws). Bold: the best of each column and every entry tied with it (the gap "
            "within the sum of the two spreads). Identifiability: |corr| of feature i of two seeds, each in that "
            "order, averaged over the top 8, no permutation search; mean ± spread over the pairs of seeds.",
            "",
            f"### {METRICS['linear']}",
            "",
            *leaderboard(result, "linear"),
            "",
            f"### {METRICS['knn']}",
            "",
            *leaderboard(result, "knn"),
            "",
            "![accuracy vs k](bench_accuracy_vs_k.png)",
            "",
            "### Who wins where",
            "",
            "A winner is named only when its mean is ahead of every other by more than the sum of their spreads; "
            "otherwise every method within it is listed as tied.",
            "",
            *winners(result),
            "",
            "## Importance order within each run",
            "",
            "Linear probe on the k most important, k random and the k least important features of the runs that "
            "order their features by construction.",
            "",
            *order_table(result),
            "",
            "## Identifiability across seeds, in each order",
            "",
            "The noise-floor pair shares the first seed's initial weights and differs only in the order of batches "
            "and crops: no method can be more identifiable than training noise allows.",
            "",
            *identifiability_table(result),
            "",
            *threshold_check(result),
            "",
            "## Feature galleries",
            "",
            "For the 8 most and the 8 least important features of the first seed, the 10 test images with the "
            "largest activation and their class purity.",
            "",
            *gallery_lines(result),
            "",
            "## Targets",
            "",
            'Met or missed by the mean over seeds; "within the spread" where the spread straddles the target.',
            "",
            *targets(result),
            "",
            *clip_sections,
            "Plots: " + ", ".join(f"`{p.name}`" for p in plots),
            "",
            "Every number: `bench.json`. Reproduce with the command above.",
            "",
        ]
    )


def write_report(result: BenchResult, out: Path) -> None:
    plots = write_plots(result, out)
    text = render(result, plots)
    write_text(out / "bench.md", text)
    write_json(out / "bench.json", result.as_json())
    print(text)


__all__ = ["render", "write_report"]
