"""bench.md, bench.json and the plots, written from a :class:`~solo_tricl.bench.results.BenchResult`."""

import statistics
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from solo_tricl.bench.results import BENCH_ORDERS, LEADERBOARD_KS, BenchResult, PairResult, RunResult
from solo_tricl.common.files import write_json, write_text

SHOWN_KS = (1, 2, 4, 8, 16, 32)
ORDER_NAMES = {"importance": "own importance", "pca": "PCA", "canonical": "canonical", "random": "k random"}
METRICS = {"linear": "linear probe", "knn": "kNN (k = 20, T = 0.07)"}


def mean(values) -> float:
    values = [v for v in values if v is not None]
    return statistics.mean(values) if values else float("nan")


def at(runs: Sequence[RunResult], order: str, metric: str, k) -> float:
    """Mean over seeds of one point of a curve (k or "all")."""
    return mean(run.at(order, metric, k) for run in runs)


def fmt(value: Optional[float], digits: int = 3) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def trained_here(result: BenchResult) -> bool:
    return all(run.train_seconds is not None for run in result.runs)


def pair_of(result: BenchResult, variant: str) -> Optional[PairResult]:
    return next((pair for pair in result.pairs if pair.variant == variant), None)


def setup_lines(result: BenchResult) -> List[str]:
    s = result.settings
    lines = [
        f"Command: `{s['command']}` ({result.minutes:.0f} minutes on {s['machine']}, accelerator {s['accelerator']}"
        + ("" if trained_here(result) else "; some trainings were reused from an earlier invocation, see `bench.json`")
        + ").",
        "",
        f"Fashion-MNIST, solo-learn: every run from its shipped `fashion_mnist/*.yaml` config, ResNet-18, the same "
        f"augmentations (2 x 28 px, symmetric), LARS, batch 128, warmup-cosine with 1 warmup epoch, "
        f"{s['solo_epochs']} epochs on a stratified {s['fraction']} of the 60,000 training images, seeds "
        f"{', '.join(map(str, s['seeds']))}. Measures on {s['eval_train']:,} training and {s['eval_test']:,} "
        "held-out test images, means over seeds: linear probe (scikit-learn logistic regression on standardised "
        "features) and kNN as solo-learn computes it (cosine similarity, 20 neighbours, votes weighted by "
        "exp(similarity / 0.07)). The representation is each method's projector output (NCL: after its "
        "non-negative map; BYOL and MoCo v3: the online projector).",
        "",
        "What differs from SimCLR's config, read from the composed configs (the built-ins keep solo-learn's own "
        "hyperparameters from its `scripts/pretrain/cifar/*.yaml`: projector sizes, learning rate, weight "
        "decay, momentum, loss weights; solo-learn's CIFAR configs also give BYOL, Barlow Twins and MoCo v3 "
        "asymmetric augmentations and VICReg its own, which this bench replaces by the shared ones):",
        "",
    ]
    lines += [
        f"- `{variant}`: {', '.join(f'`{d}`' for d in diffs) or 'nothing'}"
        for variant, diffs in result.config_differences.items()
    ]
    return lines + [""]


def main_table(result: BenchResult) -> List[str]:
    speed = trained_here(result)
    rows = [
        "| run | k | backbone: linear / kNN | all features: linear / kNN | mean abs corr | effective rank "
        "| identifiable rank | sparsity | class consistency |" + (" train images/s |" if speed else ""),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if speed else ""),
    ]
    for variant, runs in result.by_variant().items():
        rows.append(
            f"| {variant} | {runs[0].features} | {fmt(mean(r.backbone_linear for r in runs))} / "
            f"{fmt(mean(r.backbone_knn for r in runs))} | {fmt(at(runs, 'importance', 'linear', 'all'))} / "
            f"{fmt(at(runs, 'importance', 'knn', 'all'))} | {fmt(mean(r.mean_abs_corr for r in runs))} | "
            f"{mean(r.effective_rank for r in runs):.1f} | {' / '.join(str(r.identifiable_rank) for r in runs)} | "
            f"{fmt(mean(r.sparsity for r in runs))} | {fmt(mean(r.class_consistency for r in runs))} |"
            + (f" {mean(r.images_per_s for r in runs):.0f} |" if speed else "")
        )
    if not speed:
        rows += [
            "",
            "Throughput is not reported: some runs were timed in an earlier invocation, and only runs "
            "timed in one invocation are comparable.",
        ]
    return rows


def leaderboard(result: BenchResult, metric: str) -> List[str]:
    """Every (method, order) by k, the best of each column in bold, identifiability of the top 8 in
    the same order beside it."""
    entries = [
        (variant, order, runs) for variant, runs in result.by_variant().items() for order in (*BENCH_ORDERS, "random")
    ]
    columns = [*SHOWN_KS, "all"]
    values = {(v, o): [at(runs, o, metric, k) for k in columns] for v, o, runs in entries}
    best = [max(row[i] for row in values.values()) for i in range(len(columns))]
    header = ["method", "order", *[f"k={k}" for k in columns], "identifiability top-8"]
    rows = ["| " + " | ".join(header) + " |", "|---|---|" + "---:|" * (len(columns) + 1)]
    for variant, order, runs in entries:
        pair = pair_of(result, variant)
        ident = fmt(pair.by_order[order].get("top8")) if pair and order in pair.by_order else "-"
        if pair and pair.collapsed and order in pair.by_order:
            ident += " (collapsed)"
        cells = [
            f"**{fmt(v)}**" if v == best[i] and order != "random" else fmt(v)
            for i, v in enumerate(values[(variant, order)])
        ]
        name = runs[0].importance_name if order == "importance" else ORDER_NAMES[order]
        rows.append(f"| {variant} | {name} | " + " | ".join(cells) + f" | {ident} |")
    if floor := result.noise_floor:
        rows.append(
            f"| {floor.label} (noise floor) | own / PCA / canonical | "
            + " | ".join("" for _ in columns)
            + " | "
            + " / ".join(fmt(floor.by_order[o].get("top8")) for o in BENCH_ORDERS)
            + " |"
        )
    return rows


def winners(result: BenchResult) -> List[str]:
    """Who wins at which k, and where triCL and Matryoshka stand."""
    groups = result.by_variant()
    lines = []
    for metric in ("linear", "knn"):
        for k in (*SHOWN_KS, "all"):
            scored = sorted(
                (
                    (at(runs, order, metric, k), variant, order)
                    for variant, runs in groups.items()
                    for order in BENCH_ORDERS
                ),
                reverse=True,
            )
            top, variant, order = scored[0]
            text = f"- {METRICS[metric]}, k = {k}: {variant} ({ORDER_NAMES[order]}) {top:.3f}"
            if "tricl" in groups and variant != "tricl":
                own = at(groups["tricl"], "importance", metric, k)
                best_tricl = max(at(groups["tricl"], o, metric, k) for o in BENCH_ORDERS)
                text += f"; triCL by s {own:.3f} ({100 * (own - top):+.1f} points), triCL's best order {best_tricl:.3f}"
            lines.append(text)
    if "tricl" in groups and "mrl" in groups:
        lines.append("")
        for metric in ("linear", "knn"):
            cells = []
            for k in (*SHOWN_KS, "all"):
                t, m = at(groups["tricl"], "importance", metric, k), at(groups["mrl"], "importance", metric, k)
                cells.append(f"k={k}: {'triCL' if t > m else 'MRL'} {max(t, m):.3f} vs {min(t, m):.3f}")
            lines.append(f"- triCL's top-k by s against Matryoshka's prefix, {METRICS[metric]}: " + "; ".join(cells))
    return lines


def tricl_order_table(result: BenchResult) -> List[str]:
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
            cells += [
                fmt(at(runs, "importance", "linear", k)),
                fmt(at(runs, "random", "linear", k)),
                fmt(mean(r.bottom[k] for r in runs)),
            ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def identifiability_table(result: BenchResult) -> List[str]:
    rows = [
        "| pair | own order: top-8 / top-16 / all | PCA: top-8 / top-16 / all | canonical: top-8 / top-16 / all |",
        "|---|---:|---:|---:|",
    ]

    def three(values: Dict[str, float]) -> str:
        return " / ".join(fmt(values.get(key)) for key in ("top8", "top16", "all"))

    for pair in [*result.pairs, *([result.noise_floor] if result.noise_floor else [])]:
        note = " (collapsed: not meaningful)" if pair.collapsed else ""
        rows.append(f"| {pair.label}{note} | " + " | ".join(three(pair.by_order[o]) for o in BENCH_ORDERS) + " |")
    return rows


def threshold_check(result: BenchResult) -> List[str]:
    """Cross-seed |corr| of canonical features above and below the identifiable-rank threshold."""
    from solo_tricl.evaluate.canonical import IDENTIFIABLE_LAMBDA

    above, below = [], []
    for pair in [*result.pairs, *([result.noise_floor] if result.noise_floor else [])]:
        for value, corr in zip(pair.mean_spectrum, pair.canonical_per_rank):
            (above if value > IDENTIFIABLE_LAMBDA else below).append(corr)
    if not above or not below:
        return []
    share = sum(c >= 0.8 for c in above) / len(above)
    return [
        f"Identifiable rank: canonical features with lambda > {IDENTIFIABLE_LAMBDA} (the mean of the pair's "
        f"two spectra). Over every pair above, the {len(above)} features above it match their counterpart with "
        f"mean |corr| {statistics.mean(above):.3f} ({100 * share:.0f}% at >= 0.8); the {len(below)} below it, "
        f"{statistics.mean(below):.3f}."
    ]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def targets(result: BenchResult) -> List[str]:
    groups, lines = result.by_variant(), []
    if "tricl" in groups and "simclr" in groups:
        tricl, simclr = groups["tricl"], groups["simclr"]
        for k, margin in ((4, 0.15), (8, 0.10)):
            top, rand = at(tricl, "importance", "linear", k), at(tricl, "random", "linear", k)
            lines.append(
                f"- triCL top-{k} by s {top:.3f} vs {k} random triCL features {rand:.3f}: "
                f"{100 * (top - rand):+.1f} points (target >= +{100 * margin:.0f}): {verdict(top - rand >= margin)}"
            )
        a, b = at(tricl, "importance", "linear", "all"), at(simclr, "importance", "linear", "all")
        lines.append(
            f"- triCL all-feature accuracy {a:.3f} vs SimCLR {b:.3f} (target >= -1 point): {verdict(a >= b - 0.01)}"
        )
        c, d = mean(r.mean_abs_corr for r in tricl), mean(r.mean_abs_corr for r in simclr)
        lines.append(f"- triCL mean |corr| {c:.3f} vs SimCLR {d:.3f} (target: below): {verdict(c < d)}")
        t, s = pair_of(result, "tricl"), pair_of(result, "simclr")
        if t and s and not (t.collapsed or s.collapsed):
            lines.append(
                f"- top-8 identifiability in the own order: triCL {t.by_order['importance']['top8']:.3f} "
                f"(target >= 0.6): {verdict(t.by_order['importance']['top8'] >= 0.6)}; SimCLR "
                f"{s.by_order['importance']['top8']:.3f} (target <= 0.3): "
                f"{verdict(s.by_order['importance']['top8'] <= 0.3)}"
            )
            canonical = t.by_order["canonical"]
            lines.append(
                f"- triCL canonical top-8 {canonical['top8']:.3f} (target >= 0.9): "
                f"{verdict(canonical['top8'] >= 0.9)}; top-16 {canonical.get('top16', float('nan')):.3f} "
                f"(target >= 0.8): {verdict(canonical.get('top16', 0) >= 0.8)}"
            )

    def backbone_vs_simclr(variant, label, margin):
        if variant in groups and "simclr" in groups:
            a, b = (mean(r.backbone_linear for r in groups[name]) for name in (variant, "simclr"))
            target = f">= -{margin * 100:.0f} points" if margin else ">="
            lines.append(
                f"- {label} backbone accuracy {a:.3f} vs SimCLR {b:.3f} (target {target}): {verdict(a >= b - margin)}"
            )

    backbone_vs_simclr("tri-scl", "tri-SCL", 0.02)
    if "ncl" in groups and "simclr" in groups:
        ncl, simclr = groups["ncl"], groups["simclr"]
        sparsity = mean(r.sparsity for r in ncl)
        consistency, base = mean(r.class_consistency for r in ncl), mean(r.class_consistency for r in simclr)
        lines.append(
            f"- NCL sparsity {sparsity:.3f} (target >= 0.90): {verdict(sparsity >= 0.9)}; class consistency "
            f"{consistency:.3f} vs SimCLR {base:.3f} = {consistency / base:.2f}x (target >= 2x): "
            f"{verdict(consistency >= 2 * base)}"
        )
    backbone_vs_simclr("kernel", "kernel mixture", 0)
    return lines


def clip_table(result: BenchResult) -> List[str]:
    speed = all(run.seconds is not None for run in result.clip)
    rows = [
        "| loss | zero-shot | zero-shot, top-8 | linear: all / top-8 / 8 random | kNN: all / top-8 | sparsity "
        "| class consistency |" + (" samples/s |" if speed else ""),
        "|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if speed else ""),
    ]
    for run in result.clip:
        k = run.features
        imp, rand = run.orders["importance"], run.orders["random"]
        rows.append(
            f"| {run.loss} | {fmt(run.zero_shot)} | {fmt(run.zero_shot_top8)} | {fmt(imp.linear[k])} / "
            f"{fmt(imp.linear[8])} / {fmt(rand.linear[8])} | {fmt(imp.knn[k])} / {fmt(imp.knn[8])} | "
            f"{fmt(run.sparsity)} | {fmt(run.class_consistency)} |"
            + (f" {run.samples_per_s:.0f} |" if speed and run.samples_per_s else (" - |" if speed else ""))
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
    from solo_tricl.evaluate.canonical import IDENTIFIABLE_LAMBDA

    groups, written = result.by_variant(), []

    def curve(runs, order, metric):
        points = sorted(set(LEADERBOARD_KS) | {runs[0].features})
        return {k: at(runs, order, metric, k) for k in points if k <= runs[0].features}

    panels = {
        f"{METRICS[metric]}, {ORDER_NAMES[order]} order": {v: curve(runs, order, metric) for v, runs in groups.items()}
        for metric in METRICS
        for order in BENCH_ORDERS
    }
    written.append(
        plot_curve_grid(
            panels,
            out / "bench_accuracy_vs_k.png",
            "k features",
            "accuracy",
            "Fashion-MNIST: accuracy of the first k features, every method and order",
            chance=0.1,
        )
    )
    learned = {run.name: run.learned_importance for run in result.runs if run.learned_importance}
    if learned:
        written.append(
            plot_importance_curves(learned, out / "bench_importance.png", "learned s of every triCL run, sorted")
        )
    spectra = {runs[0].name: runs[0].invariance_spectrum for runs in groups.values()}
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
            {p.label: (p.mean_spectrum, p.canonical_per_rank) for p in pairs},
            out / "bench_identifiable_rank.png",
            "lambda: agreement of two views (mean of the pair)",
            "|corr| with the other run's feature",
            "canonical features across runs, by invariance",
            vertical=IDENTIFIABLE_LAMBDA,
        )
    )
    for pair in result.pairs:
        if pair.variant in ("tricl", "simclr", "mrl"):
            for order in ("importance", "canonical"):
                written.append(
                    plot_heatmap(
                        np.array(pair.heatmaps[order]),
                        out / f"bench_identifiability_{pair.variant}_{order}.png",
                        f"{pair.label}: |corr| across seeds, {ORDER_NAMES[order]} order "
                        f"(top-8 {pair.by_order[order]['top8']:.2f})",
                        "second run's feature",
                        "first run's feature",
                    )
                )
    return written + [Path(g["png"]) for g in result.galleries.values()]


def write_report(result: BenchResult, out: Path) -> None:
    plots = write_plots(result, out)
    text = "\n".join(
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
            "activation mass), in the two orders any model has after training at no cost (PCA: principal "
            "components of the standardised training features; canonical: the canonical invariance basis, fitted "
            "from two augmented views of the probes' training images), and k random features (mean of 3 draws). "
            "Bold: the best of each column. Identifiability: |corr| of feature i of the two seeds, each in that "
            "order, averaged over the top 8, no permutation search.",
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
            *winners(result),
            "",
            "## Importance order within each run",
            "",
            "Linear probe on the k most important, k random and the k least important features of the runs that "
            "order their features by construction.",
            "",
            *tricl_order_table(result),
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
            *targets(result),
            "",
            *(
                [
                    "## CLIP variants (OpenCLIP, `solo-tricl-tiny`, 5,000 captioned training images)",
                    "",
                    "Zero-shot: 1,000 test images against the 10 class names with 6 templates (chance 0.100); top-8: the 8 "
                    "most important embedding features (triCL: s; Matryoshka: prefix; others: activation mass). `clip` and "
                    "`siglip` are OpenCLIP's own losses (`--siglip`), unchanged.",
                    "",
                    *clip_table(result),
                    "",
                ]
                if result.clip
                else []
            ),
            "Plots: " + ", ".join(f"`{p.name}`" for p in plots),
            "",
            "Every number: `bench.json`. Reproduce with the command above.",
            "",
        ]
    )
    write_text(out / "bench.md", text)
    write_json(out / "bench.json", result.as_json())
    print(text)
