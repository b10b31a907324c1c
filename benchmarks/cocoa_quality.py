"""Does COCOA explain better than the label-free target? Insertion and deletion AUCs on real data.

The COCOA protocol on Fashion-MNIST with a checkpoint trained by this project: corpus = 100
training images of one class, foil = 1,500 random training images outside the corpus,
explicands = validation images of the corpus class. Each attribution method explains both
targets (COCOA's contrastive corpus similarity and the label-free similarity to the
explicand's own representation); every curve is scored on the same three metrics. Insertion:
higher is better; deletion: lower is better.

    python benchmarks/cocoa_quality.py CKPT --data datasets/fashion-mnist     # writes results/cocoa_quality.md
"""

import argparse
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--data", type=Path, required=True, help="Fashion-MNIST folder (train/, val/)")
    parser.add_argument("--corpus-class", default="5_sandal")
    parser.add_argument("--explicands", type=int, default=20)
    parser.add_argument("--methods", nargs="+", default=["rise", "ig", "gradshap"])
    parser.add_argument("--rise-masks", type=int, default=5000)
    parser.add_argument("--work", type=Path, default=Path("bench-work/cocoa"))
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the table from an earlier run's --work/explanations.json"
    )
    args = parser.parse_args()

    explicands = sorted((args.data / "val" / args.corpus_class).glob("*.png"))[: args.explicands]
    command = [
        sys.executable,
        "-m",
        "solo_tricl.cli",
        "explain",
        str(args.checkpoint),
        "--images",
        *map(str, explicands),
        "--corpus",
        str(args.data / "train" / args.corpus_class),
        "--corpus-size",
        "100",
        "--foil",
        str(args.data / "train"),
        "--foil-size",
        "1500",
        "--methods",
        *args.methods,
        "--rise-masks",
        str(args.rise_masks),
        "--evaluate",
        "--sanity-check",
        "--out",
        str(args.work),
    ]
    if not args.report_only:
        subprocess.run(command, check=True)
    report = json.loads((args.work / "explanations.json").read_text())

    rows = []
    wins = {"insertion": 0, "deletion": 0}
    total = 0
    for method, entry in report["methods"].items():
        for metric in entry["cocoa"]["insertion"]:
            cocoa_in, free_in = entry["cocoa"]["insertion"][metric], entry["label_free"]["insertion"][metric]
            cocoa_del, free_del = entry["cocoa"]["deletion"][metric], entry["label_free"]["deletion"][metric]
            wins["insertion"] += cocoa_in > free_in
            wins["deletion"] += cocoa_del < free_del
            total += 1
            rows.append(f"| {method} | {metric} | {cocoa_in:.3f} | {free_in:.3f} | {cocoa_del:.3f} | {free_del:.3f} |")
    example = sorted((args.work / "heatmaps").glob("*.png"))[0]
    shutil.copy(example, args.out / "cocoa_example.png")
    sanity = ", ".join(f"{m} {v:.2f}" for m, v in report.get("sanity_check", {}).items())
    display = [Path(c).name if c.endswith(".png") else c for c in command[4:]]
    text = "\n".join(
        [
            "# COCOA against the label-free target (insertion up, deletion down)",
            "",
            f"Command: `python benchmarks/cocoa_quality.py "
            f"{shlex.join(a for a in sys.argv[1:] if a != '--report-only')}`",
            "",
            f"Checkpoint: `{args.checkpoint}` ({report['encoder']}); corpus: 100 training images of "
            f"`{args.corpus_class}`; foil: 1,500 random training images outside the corpus; explicands: the first "
            f"{len(explicands)} validation images of that class; blurred baselines; RISE {args.rise_masks} masks "
            "(4 x 4 grid at 28 px); AUC of the mean curve over explicands, 50 steps.",
            "",
            "| method | metric | COCOA insertion | label-free insertion | COCOA deletion | label-free deletion |",
            "|---|---|---:|---:|---:|---:|",
            *rows,
            "",
            f"COCOA is better on {wins['insertion']} of {total} insertion AUCs and {wins['deletion']} of {total} "
            "deletion AUCs.",
            "",
            f"Parameter-randomization sanity check (Spearman correlation of |attributions| with those on a "
            f"randomized encoder; near 1 would fail): {sanity}.",
            "",
            "Example heatmap (first explicand): `cocoa_example.png`. The explain command (explicand paths "
            f"shortened to file names): `solo-tricl explain {shlex.join(display)}`",
            "",
        ]
    )
    (args.out / "cocoa_quality.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
