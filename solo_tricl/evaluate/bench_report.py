"""The bench's markdown tables, JSON and plots, written from its report dictionary."""

import json
import statistics
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from solo_tricl.common.files import write_json, write_text
from solo_tricl.evaluate.report import collapse_warning

ORDER_KS = (1, 2, 4, 8, 16, 32)
TRICL_VARIANTS = ("tricl", "tricl-reference", "tri-scl")


def _mean(runs: List[Dict], *keys) -> float:
    values = []
    for run in runs:
        value = run
        for key in keys:
            value = value[key]
        values.append(value)
    return statistics.mean(values)


def _curve(runs: List[Dict], curve: str, k: int) -> float:
    """Mean over runs of one point of an accuracy-vs-k curve (int keys; strings once read from JSON)."""
    points = [run["accuracy_vs_k"][curve] for run in runs]
    return statistics.mean(p[k] if k in p else p[str(k)] for p in points)


def _by_variant(report: Dict) -> Dict[str, List[Dict]]:
    grouped = {}
    for run in report["solo"].values():
        grouped.setdefault(run.get("variant", run["method"]), []).append(run)
    return grouped


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _usable_identifiability(report: Dict, variant: str) -> Optional[Dict]:
    ident = report["identifiability"].get(variant)
    return ident if ident and not ident.get("collapsed") else None


def targets(report: Dict) -> List[str]:
    """Each target, with the measured numbers and met/MISSED."""
    runs = _by_variant(report)
    lines = []
    if "tricl" in runs and "simclr" in runs:
        tricl, simclr = runs["tricl"], runs["simclr"]
        for k, margin in ((4, 0.15), (8, 0.10)):
            top, rand = _curve(tricl, "important", k), _curve(tricl, "random", k)
            lines.append(f"- triCL top-{k} by s {top:.3f} vs {k} random triCL features {rand:.3f}: "
                         f"{100 * (top - rand):+.1f} points (target >= +{100 * margin:.0f}): "
                         f"{_verdict(top - rand >= margin)}")
        a, b = _mean(tricl, "accuracy", "projector_all"), _mean(simclr, "accuracy", "projector_all")
        back_a, back_b = _mean(tricl, "accuracy", "backbone"), _mean(simclr, "accuracy", "backbone")
        lines.append(f"- triCL all-feature accuracy {a:.3f} vs SimCLR {b:.3f}: {100 * (a - b):+.1f} points "
                     f"(target >= -1): {_verdict(a >= b - 0.01)} (backbone {back_a:.3f} vs {back_b:.3f})")
        c, d = _mean(tricl, "mean_abs_corr"), _mean(simclr, "mean_abs_corr")
        lines.append(f"- triCL mean |corr| {c:.3f} vs SimCLR {d:.3f} (target: below): {_verdict(c < d)}")
        t_ident, s_ident = _usable_identifiability(report, "tricl"), _usable_identifiability(report, "simclr")
        if t_ident and s_ident and "ordered_top8" in t_ident:
            t, s = t_ident["ordered_top8"], s_ident["ordered_top8"]
            lines.append(f"- top-8 ordered identifiability: triCL {t:.3f} (target >= 0.6): {_verdict(t >= 0.6)}; "
                         f"SimCLR {s:.3f} (target <= 0.3): {_verdict(s <= 0.3)}")
            lines.append(f"- stretch, whole-vector ordered identifiability: triCL {t_ident['ordered']:.3f} "
                         f"(target >= 0.8): {_verdict(t_ident['ordered'] >= 0.8)}")
        else:
            lines.append("- identifiability: not judged (needs two seeds of triCL and SimCLR whose features are "
                         "not collapsed)")
    if "tri-scl" in runs and "simclr" in runs:
        a, b = _mean(runs["tri-scl"], "accuracy", "backbone"), _mean(runs["simclr"], "accuracy", "backbone")
        lines.append(f"- tri-SCL backbone accuracy {a:.3f} vs SimCLR {b:.3f}: {100 * (a - b):+.1f} points "
                     f"(target >= -2): {_verdict(a >= b - 0.02)}")
    if "ncl" in runs and "simclr" in runs:
        ncl, simclr = runs["ncl"], runs["simclr"]
        sparsity = _mean(ncl, "sparsity")
        consistency, base = _mean(ncl, "class_consistency"), _mean(simclr, "class_consistency")
        lines.append(f"- NCL sparsity {sparsity:.3f} (target >= 0.90): {_verdict(sparsity >= 0.9)}; class "
                     f"consistency {consistency:.3f} vs SimCLR {base:.3f} = {consistency / base:.2f}x "
                     f"(target >= 2x): {_verdict(consistency >= 2 * base)}")
    if "kernel" in runs and "simclr" in runs:
        a, b = _mean(runs["kernel"], "accuracy", "backbone"), _mean(runs["simclr"], "accuracy", "backbone")
        lines.append(f"- kernel mixture backbone accuracy {a:.3f} vs SimCLR {b:.3f} (target >=): {_verdict(a >= b)}")
    return lines


def solo_table(report: Dict) -> List[str]:
    rows = ["| run | seeds | backbone acc | all features | top-4 / 4 random / bottom-4 | top-8 / 8 random / bottom-8 "
            "| P@10 top-20 | mean abs corr | effective rank | sparsity | class consistency | train images/s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for variant, runs in _by_variant(report).items():
        ends = [" / ".join(f"{_curve(runs, curve, k):.3f}" for curve in ("important", "random", "least"))
                for k in (4, 8)]
        rows.append(
            f"| {variant} | {len(runs)} | {_mean(runs, 'accuracy', 'backbone'):.3f} | "
            f"{_mean(runs, 'accuracy', 'projector_all'):.3f} | {ends[0]} | {ends[1]} | "
            f"{_mean(runs, 'retrieval', 'top20_important', 'precision_at_10'):.3f} | "
            f"{_mean(runs, 'mean_abs_corr'):.3f} | {_mean(runs, 'effective_rank'):.1f} | "
            f"{_mean(runs, 'sparsity'):.3f} | {_mean(runs, 'class_consistency'):.3f} | "
            f"{_mean(runs, 'images_per_s'):.0f} |")
    return rows


def order_table(report: Dict) -> List[str]:
    """Accuracy of k features by k: top-k, k random and bottom-k of each triCL variant, and the
    paper's comparison, triCL's top-k by s against SimCLR's random k and top-k by activation."""
    runs = _by_variant(report)
    columns = [(v, curve) for v in TRICL_VARIANTS if v in runs for curve in ("important", "random", "least")]
    columns += [("simclr", curve) for curve in ("important", "random") if "simclr" in runs]
    names = {"important": "top-k", "random": "k random", "least": "bottom-k"}
    header = ["k"] + [f"{v} {names[c]}" + (" (activation)" if v == "simclr" and c == "important" else "")
                      for v, c in columns]
    rows = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    for k in ORDER_KS:
        rows.append("| " + " | ".join([str(k)] + [f"{_curve(runs[v], c, k):.3f}" for v, c in columns]) + " |")
    return rows


def identifiability_table(report: Dict) -> List[str]:
    rows = ["| run | top-8 same rank (best match) | top-16 same rank (best match) | all same rank (matched) "
            "| effective rank per seed | mean abs corr per seed |",
            "|---|---:|---:|---:|---|---|"]
    warnings = []
    for variant, ident in report["identifiability"].items():
        heads = [f"{ident[f'ordered_top{n}']:.3f} ({ident[f'best_match_top{n}']:.3f})"
                 if f"ordered_top{n}" in ident else "-" for n in (8, 16)]
        per_seed = [" / ".join(f"{run[key]:{fmt}}" for run in ident["runs"])
                    for key, fmt in (("effective_rank", ".1f"), ("mean_abs_corr", ".3f"))]
        rows.append(f"| {variant} | {heads[0]} | {heads[1]} | {ident['ordered']:.3f} ({ident['matched']:.3f}) | "
                    f"{per_seed[0]} | {per_seed[1]} |")
        if warning := collapse_warning(ident):
            warnings.append(f"- {variant}: {warning}")
    return rows + ([""] + warnings if warnings else [])


def _spectrum_by_rank(report: Dict, variant: str, seeds=2) -> List[float]:
    """Mean over the variant's first two seeds of lambda at each canonical rank."""
    spectra = [run["canonical"]["invariance_spectrum"] for run in _by_variant(report)[variant][:seeds]]
    return [statistics.mean(values) for values in zip(*spectra)]


def _pairs(report: Dict):
    """(label, identifiability with its canonical part, lambda by rank) of every pair of runs."""
    for variant, ident in report["identifiability"].items():
        yield variant, ident, _spectrum_by_rank(report, variant)
    if floor := report.get("noise_floor"):
        first = _by_variant(report)[floor["variant"]][0]["canonical"]["invariance_spectrum"]
        spectrum = [(a + b) / 2 for a, b in zip(first, floor["run"]["canonical"]["invariance_spectrum"])]
        yield f"{floor['variant']}, same init (noise floor)", floor, spectrum


def canonical_table(report: Dict) -> List[str]:
    rows = ["| run | identifiability, native order: top-8 / top-16 / all | canonical basis: top-8 / top-16 / all "
            "| identifiable rank per seed | all features: native / canonical | top-4: native / canonical "
            "| top-8: native / canonical |",
            "|---|---:|---:|---|---:|---:|---:|"]
    runs = _by_variant(report)

    def three(ident):
        return " / ".join(f"{ident[key]:.3f}" if key in ident else "-"
                          for key in ("ordered_top8", "ordered_top16", "ordered"))

    for variant, group in runs.items():
        if variant not in report["identifiability"]:
            continue
        ident = report["identifiability"][variant]
        canonical = [run["canonical"] for run in group]
        ranks = " / ".join(str(run["identifiable_rank"]) for run in canonical)
        probes = [f"{_curve(group, 'important', k):.3f} / {_curve(canonical, 'important', k):.3f}" for k in (4, 8)]
        rows.append(f"| {variant} | {three(ident)} | {three(ident['canonical'])} | {ranks} | "
                    f"{_mean(group, 'accuracy', 'projector_all'):.3f} / "
                    f"{_mean(canonical, 'accuracy', 'projector_all'):.3f} | {probes[0]} | {probes[1]} |")
    if floor := report.get("noise_floor"):
        rows.append(f"| {floor['variant']}, seed 0 vs same init + other data order (noise floor) | {three(floor)} | "
                    f"{three(floor['canonical'])} | {floor['run']['canonical']['identifiable_rank']} (second run) "
                    "| - | - | - |")
    return rows


def threshold_check(report: Dict) -> List[str]:
    """Cross-seed |corr| of canonical features above and below the identifiability threshold."""
    above, below = [], []
    threshold = next(iter(report["solo"].values()))["canonical"]["identifiable_threshold"]
    for _, ident, spectrum in _pairs(report):
        for value, corr in zip(spectrum, ident["canonical"]["per_rank"]):
            (above if value > threshold else below).append(corr)
    if not above or not below:
        return []
    share = sum(c >= 0.8 for c in above) / len(above)
    return [f"Identifiable rank: features with lambda > {threshold} (mean of the pair's two spectra). Over every "
            f"pair above, the {len(above)} canonical features above it match their counterpart with mean |corr| "
            f"{statistics.mean(above):.3f} (min {min(above):.3f}; {100 * share:.0f}% at >= 0.8); the "
            f"{len(below)} below it, {statistics.mean(below):.3f}."]


def canonical_targets(report: Dict) -> List[str]:
    runs = _by_variant(report)
    ident = report["identifiability"].get("tricl")
    if not ident or "tricl" not in runs:
        return []
    canonical = ident["canonical"]
    lines = [f"- triCL canonical top-8 identifiability {canonical['ordered_top8']:.3f} (target >= 0.9): "
             f"{_verdict(canonical['ordered_top8'] >= 0.9)}; top-16 {canonical['ordered_top16']:.3f} "
             f"(target >= 0.8): {_verdict(canonical['ordered_top16'] >= 0.8)}"]
    by_s = _curve(runs["tricl"], "important", 4)
    first4 = _curve([run["canonical"] for run in runs["tricl"]], "important", 4)
    lines.append(f"- triCL first 4 canonical features {first4:.3f} vs top-4 by s {by_s:.3f}: "
                 f"{100 * (first4 - by_s):+.1f} points (target within 2): {_verdict(first4 >= by_s - 0.02)}")
    if floor := report.get("noise_floor"):
        lines.append(f"- whole-vector identifiability, triCL: {ident['ordered']:.3f} native, "
                     f"{canonical['ordered']:.3f} canonical, against the noise floor of a same-init pair "
                     f"{floor['ordered']:.3f} native, {floor['canonical']['ordered']:.3f} canonical (reported, "
                     "not a target)")
    return lines


def canonical_section(report: Dict) -> List[str]:
    if not any("canonical" in ident for ident in report["identifiability"].values()):
        return []
    return ["## The canonical invariance basis: what is identifiable", "",
            "Each run's features rotated into its canonical basis (fitted from two augmented views, the run's own "
            f"pretraining augmentations, of {min(report['settings'].get('basis_images', 0), report['settings']['eval_train']):,} "
            "training images), ordered by lambda, the agreement of the two views. Identifiability is then measured "
            "exactly as above, rank by rank with no permutation search. The noise-floor pair shares seed 0's "
            "initial weights and differs only in the order of batches and crops.", "",
            *canonical_table(report), "", *threshold_check(report), "", *canonical_targets(report), ""]


def clip_table(report: Dict) -> List[str]:
    rows = ["| loss | zero-shot top-1 | zero-shot, top-8 features | linear probe (all) | top-8 important | "
            "8 random | sparsity | class consistency | samples/s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for loss, run in report["clip"].items():
        speed = f"{run['samples_per_s']:.0f}" if run.get("samples_per_s") else "-"
        rows.append(f"| {loss} | {run['zero_shot']:.3f} | {run['zero_shot_top8']:.3f} | "
                    f"{run['accuracy']['projector_all']:.3f} | {run['accuracy']['top8_important']:.3f} | "
                    f"{run['accuracy']['top8_random']:.3f} | {run['sparsity']:.3f} | "
                    f"{run['class_consistency']:.3f} | {speed} |")
    return rows


def clip_section(report: Dict) -> List[str]:
    return ["## CLIP variants (OpenCLIP, `solo-tricl-tiny`, 5,000 captioned training images)", "",
            "Zero-shot: 1,000 test images against the 10 class names with 6 templates (chance 0.100); top-8: the "
            "8 most important embedding features (triCL: s; others: activation mass).", "",
            *clip_table(report), ""]


def write_plots(report: Dict, out: Path) -> List[str]:
    from solo_tricl.common.plots import (plot_curves, plot_heatmap, plot_importance_curves, plot_invariance_spectra,
                                         plot_scatter)

    written = []
    runs = _by_variant(report)
    learned = {f"{run['variant']} seed {run['seed']}": run["importance"]
               for variant in TRICL_VARIANTS for run in runs.get(variant, []) if "importance" in run}
    if learned:
        written.append(str(plot_importance_curves(learned, out / "bench_importance.png",
                                                  "learned s of every triCL run, sorted")))
    curves = {}
    for variant, curve, label in (("tricl", "important", "triCL: top k by s"), ("tricl", "random", "triCL: k random"),
                                  ("tricl", "least", "triCL: bottom k by s"),
                                  ("simclr", "important", "SimCLR: top k by activation"),
                                  ("simclr", "random", "SimCLR: k random")):
        if variant in runs:
            curves[label] = {k: _curve(runs[variant], curve, k) for k in ORDER_KS}
    if curves:
        written.append(str(plot_curves(curves, out / "bench_accuracy_vs_k.png", "k projector features",
                                       "linear probe accuracy", "Fashion-MNIST: accuracy vs k (mean of seeds)",
                                       chance=0.1)))
    for variant, ident in report["identifiability"].items():
        written.append(str(plot_heatmap(
            np.array(ident["heatmap"]), out / f"bench_identifiability_{variant}.png",
            f"{variant}: |corr| across seeds, own order (top-8 {ident.get('ordered_top8', float('nan')):.2f})",
            "seed 2 feature rank", "seed 1 feature rank")))
    if any("canonical" in ident for ident in report["identifiability"].values()):
        spectra = {f"{run['variant']} seed {run['seed']}": run["canonical"]["invariance_spectrum"]
                   for group in runs.values() for run in group[:1]}
        threshold = next(iter(report["solo"].values()))["canonical"]["identifiable_threshold"]
        written.append(str(plot_invariance_spectra(spectra, out / "bench_invariance_spectrum.png", threshold,
                                                   "invariance spectrum of each method (seed 0)")))
        points = {label: (spectrum, ident["canonical"]["per_rank"]) for label, ident, spectrum in _pairs(report)}
        written.append(str(plot_scatter(points, out / "bench_identifiable_rank.png",
                                        "lambda: agreement of two views (mean of the pair)",
                                        "|corr| with the other run's feature",
                                        "canonical features across runs, by invariance", vertical=threshold)))
        if "tricl" in report["identifiability"]:
            ident = report["identifiability"]["tricl"]
            written.append(str(plot_heatmap(
                np.array(ident["canonical_heatmap"]), out / "bench_identifiability_tricl_canonical.png",
                f"tricl: |corr| across seeds, canonical basis (top-8 {ident['canonical']['ordered_top8']:.2f})",
                "seed 2 canonical feature", "seed 1 canonical feature")))
    written += [gallery["png"] for gallery in report.get("galleries", {}).values()]
    return written


def _reused_note(report: Dict) -> str:
    reused = [name for group in ("solo", "clip") for name, run in report[group].items() if run.get("reused")]
    return f"; reused the finished training of {', '.join(reused)} from an earlier invocation" if reused else ""


def gallery_lines(report: Dict) -> List[str]:
    def dead(end):
        return f" ({end['dead_features']} dead)" if end.get("dead_features") else ""

    return [f"- {variant}: mean class purity of the top-activating images {g['most']['mean_purity']:.2f} for the "
            f"8 most important features{dead(g['most'])}, {g['least']['mean_purity']:.2f} for the 8 least "
            f"important{dead(g['least'])} (`{Path(g['png']).name}`)"
            for variant, g in report.get("galleries", {}).items()]


def write_report(report: Dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    settings = report["settings"]
    plots = write_plots(report, out)
    text = "\n".join([
        "# Benchmark: solo-learn and OpenCLIP baselines against triCL, NCL and kernel methods", "",
        f"Command: `{settings['command']}` ({report['minutes']:.0f} minutes on {settings['machine']}, "
        f"accelerator {settings['accelerator']}){_reused_note(report)}.", "",
        "Fashion-MNIST. solo-learn: the shipped `fashion_mnist/*.yaml` configs (ResNet-18, projector "
        "512-128, LARS, batch 128), identical for every run but `method` and `method_kwargs`; "
        f"{settings['epochs']} epochs x budget {settings['budget']} on a stratified {settings['fraction']} of the "
        f"training images, seeds {settings['seeds']}. `tricl` is the default (isotropic decorrelation), "
        "`tricl-reference` the authors' decorrelation, `tri-scl` the spectral variant with its default. "
        f"Probes: scikit-learn logistic regression on standardised features of {settings['eval_train']:,} "
        f"training images, accuracy on {settings['eval_test']:,} held-out test images, which every other "
        "measure reads too; means over seeds. Top-k: triCL by its learned s, other methods by activation mass "
        "(mean |z_j|); bottom-k: the k least important; k random: mean of 3 draws. Effective rank: exp of the "
        "entropy of the feature covariance's normalised eigenvalues. Sparsity: share of |zhat| < 1e-5; class "
        "consistency: for each dimension, the share of the most common label among test images with "
        "|zhat_j| > 0.1.", "",
        *solo_table(report), "",
        "## Importance order: accuracy of k features", "",
        "Within each triCL run, top-k by s against k random and the bottom-k; and the paper's comparison, "
        "triCL's top-k by s against SimCLR's k random and SimCLR's top-k by activation mass.", "",
        *order_table(report), "",
        "## Identifiability across seeds", "",
        "Same rank: |corr| of feature i of seed 1 and feature i of seed 2 on the test images, each run in its "
        "own importance order, no permutation search, averaged over the top 8, the top 16 and all ranks. Best "
        "match: each of seed 1's top features' largest |corr| with any feature of seed 2. Matched: after the "
        "best one-to-one matching of all features.", "",
        *identifiability_table(report), "",
        *canonical_section(report),
        "## Feature galleries", "",
        "For the 8 most and the 8 least important features of seed 1 (triCL: s; NCL and SimCLR: activation "
        "mass), the 10 test images with the largest activation and their class purity.", "",
        *gallery_lines(report), "",
        "## Targets", "", *targets(report), "",
        *(clip_section(report) if report["clip"] else []),
        "Plots: " + ", ".join(f"`{Path(p).name}`" for p in plots), "",
        "Every number: `bench.json`. Reproduce with the command above.", "",
    ])
    write_text(out / "bench.md", text)
    slim = json.loads(json.dumps(report))
    for ident in [*slim["identifiability"].values(), slim.get("noise_floor", {})]:
        ident.pop("heatmap", None)
        ident.pop("canonical_heatmap", None)
    write_json(out / "bench.json", slim)
    print(text)
