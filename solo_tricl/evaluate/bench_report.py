"""The bench's markdown table, JSON and plots, written from its report dictionary."""

import json
import statistics
from pathlib import Path
from typing import Dict, List

import numpy as np


def _mean(runs: List[Dict], *keys) -> float:
    values = []
    for run in runs:
        value = run
        for key in keys:
            value = value[key]
        values.append(value)
    return statistics.mean(values)


def _by_method(report: Dict) -> Dict[str, List[Dict]]:
    grouped = {}
    for run in report["solo"].values():
        grouped.setdefault(run["method"], []).append(run)
    return grouped


def targets(report: Dict) -> List[str]:
    """Each target of the issue, with the measured numbers and met/MISSED."""
    methods = _by_method(report)
    lines = []

    def verdict(ok):
        return "met" if ok else "MISSED"

    if "tricl" in methods and "simclr" in methods:
        tricl, simclr = methods["tricl"], methods["simclr"]
        top, rand = _mean(tricl, "accuracy", "top20_important"), _mean(simclr, "accuracy", "top20_random")
        lines.append(f"- triCL top-20 by s {top:.3f} vs 20 random SimCLR features {rand:.3f}: "
                     f"{100 * (top - rand):+.1f} points (target >= +10): {verdict(top - rand >= 0.10)}")
        a, b = _mean(tricl, "accuracy", "backbone"), _mean(simclr, "accuracy", "backbone")
        lines.append(f"- triCL full-feature (backbone) accuracy {a:.3f} vs SimCLR {b:.3f}: "
                     f"{100 * (a - b):+.1f} points (target within 1): {verdict(a >= b - 0.01)}")
        if "tricl" in report["identifiability"] and "simclr" in report["identifiability"]:
            t, s = report["identifiability"]["tricl"]["ordered"], report["identifiability"]["simclr"]["ordered"]
            lines.append(f"- identifiability (ordered, no permutation search): triCL {t:.3f} (target >= 0.8): "
                         f"{verdict(t >= 0.8)}; SimCLR {s:.3f} (target <= 0.3): {verdict(s <= 0.3)}")
    if "ncl" in methods and "simclr" in methods:
        ncl, simclr = methods["ncl"], methods["simclr"]
        sparsity = _mean(ncl, "sparsity")
        consistency, base = _mean(ncl, "class_consistency"), _mean(simclr, "class_consistency")
        a, b = _mean(ncl, "accuracy", "backbone"), _mean(simclr, "accuracy", "backbone")
        lines.append(f"- NCL sparsity {sparsity:.3f} (target >= 0.90): {verdict(sparsity >= 0.9)}; class "
                     f"consistency {consistency:.3f} vs SimCLR {base:.3f} = {consistency / base:.2f}x "
                     f"(target >= 2x): {verdict(consistency >= 2 * base)}; accuracy {a:.3f} vs {b:.3f}")
    if "kernel" in methods and "simclr" in methods:
        a, b = _mean(methods["kernel"], "accuracy", "backbone"), _mean(methods["simclr"], "accuracy", "backbone")
        lines.append(f"- kernel mixture accuracy {a:.3f} vs SimCLR {b:.3f} (target >=): {verdict(a >= b)}")
    return lines


def solo_table(report: Dict) -> List[str]:
    rows = ["| method | seeds | backbone acc | projector acc (all k) | top-20 important | 20 random | "
            "P@10 top-20 | sparsity | class consistency | mean abs corr | identifiability ordered / matched | train images/s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for method, runs in _by_method(report).items():
        ident = report["identifiability"].get(method)
        ident_text = f"{ident['ordered']:.3f} / {ident['matched']:.3f}" if ident else "-"
        rows.append(
            f"| {method} | {len(runs)} | {_mean(runs, 'accuracy', 'backbone'):.3f} | "
            f"{_mean(runs, 'accuracy', 'projector_all'):.3f} | {_mean(runs, 'accuracy', 'top20_important'):.3f} | "
            f"{_mean(runs, 'accuracy', 'top20_random'):.3f} | "
            f"{_mean(runs, 'retrieval', 'top20_important', 'precision_at_10'):.3f} | "
            f"{_mean(runs, 'sparsity'):.3f} | {_mean(runs, 'class_consistency'):.3f} | "
            f"{_mean(runs, 'mean_abs_corr'):.3f} | {ident_text} | {_mean(runs, 'images_per_s'):.0f} |")
    return rows


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


def write_plots(report: Dict, out: Path) -> List[str]:
    from solo_tricl.evaluate.plots import plot_curves, plot_heatmap, plot_importance

    written = []
    curves = {}
    for name, run in report["solo"].items():
        if run["seed"] == report["settings"]["seeds"][0]:
            method = run["method"]
            curves[f"{method}: top k by {run['order'].split(' ')[0]}"] = run["accuracy_vs_k"]["important"]
            curves[f"{method}: k random"] = run["accuracy_vs_k"]["random"]
            if "importance" in run:
                written.append(str(plot_importance(run["importance"], out / "bench_importance.png",
                                                   f"{name}: learned importance s")))
    if curves:
        chosen = {k: {int(x): v for x, v in c.items()} for k, c in curves.items()
                  if k.startswith(("tricl", "simclr", "ncl"))}
        written.append(str(plot_curves(chosen, out / "bench_accuracy_vs_k.png", "k projector features",
                                       "linear probe accuracy", "Fashion-MNIST: accuracy vs k", chance=0.1)))
    for method, ident in report["identifiability"].items():
        written.append(str(plot_heatmap(np.array(ident["heatmap"]), out / f"bench_identifiability_{method}.png",
                                        f"{method}: |corr| across seeds, own order (ordered {ident['ordered']:.2f})",
                                        "seed 2 feature rank", "seed 1 feature rank")))
    return written


def _reused_note(report: Dict) -> str:
    reused = [name for group in ("solo", "clip") for name, run in report[group].items() if run.get("reused")]
    return f"; reused the finished training of {', '.join(reused)} from an earlier invocation" if reused else ""


def write_report(report: Dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    settings = report["settings"]
    plots = write_plots(report, out)
    text = "\n".join([
        "# Benchmark: solo-learn and OpenCLIP baselines against triCL, NCL and kernel methods", "",
        f"Command: `{settings['command']}` ({report['minutes']:.0f} minutes on {settings['machine']}, "
        f"accelerator {settings['accelerator']}){_reused_note(report)}.", "",
        "Fashion-MNIST. solo-learn: the shipped `fashion_mnist/*.yaml` configs (ResNet-18, projector "
        "512-128, LARS, batch 128), identical for every method but `method` and `method_kwargs`; "
        f"{settings['epochs']} epochs x budget {settings['budget']} on a stratified {settings['fraction']} of the "
        f"training images, seeds {settings['seeds']}. Measures on 10,000 held-out test images (probes trained "
        "on 10,000 training images, scikit-learn logistic regression on standardised features; means over seeds). "
        "Top-20 'important': triCL by its learned s, other methods by activation mass; 'random': 20 random "
        "features. Sparsity: share of |zhat| < 1e-5; class consistency: for each dimension, the share of the "
        "most common label among test images with |zhat_j| > 0.1; identifiability: mean |corr| of feature i "
        "of seed 1 and feature i of seed 2, each run in its own order, and after the best matching.", "",
        *solo_table(report), "",
        "## Targets", "", *targets(report), "",
        "## CLIP variants (OpenCLIP, `solo-tricl-tiny`, 5,000 captioned training images)", "",
        "Zero-shot: 1,000 test images against the 10 class names with 6 templates (chance 0.100); top-8: the 8 "
        "most important embedding features (triCL: s; others: activation mass).", "",
        *clip_table(report), "",
        "Plots: " + ", ".join(f"`{Path(p).name}`" for p in plots), "",
        "Every number: `bench.json`. Reproduce with the command above.", "",
    ])
    (out / "bench.md").write_text(text)
    slim = json.loads(json.dumps(report))
    for ident in slim["identifiability"].values():
        ident.pop("heatmap", None)
    (out / "bench.json").write_text(json.dumps(slim, indent=1))
    print(text)
