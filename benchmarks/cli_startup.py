"""How long ``solo-tricl --help`` and every subcommand's ``--help`` take: the median of fresh
processes. Subcommands are imported only when named, so the top-level help imports neither host.

    python benchmarks/cli_startup.py        # writes results/cli_startup.md
"""

import argparse
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

from solo_tricl.cli import SUBCOMMANDS  # imports no host

COMMANDS = (["--help"], *([name, "--help"] for name in SUBCOMMANDS))


def seconds(args, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "solo_tricl.cli", *args], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "cli_startup.md"))
    args = parser.parse_args()
    rows = []
    for command in COMMANDS:
        median, low, high = seconds(command, args.runs)
        rows.append(f"| `solo-tricl {' '.join(command)}` | {median:.3f} | {low:.3f} - {high:.3f} |")
        print(rows[-1], flush=True)
    text = "\n".join(
        [
            "# solo-tricl start-up",
            "",
            f"Command: `python benchmarks/cli_startup.py {shlex.join(sys.argv[1:])}`; median of {args.runs} fresh "
            "processes (`python -m solo_tricl.cli ...`) on this machine, 2 cores, shared.",
            "",
            "| command | median s | range s |",
            "|---|---:|---:|",
            *rows,
            "",
            "Target: every `--help` under 1 s. A subcommand's help imports that subcommand's module only, never a host.",
            "",
        ]
    )
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
