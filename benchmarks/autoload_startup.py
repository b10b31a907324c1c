"""Start-up cost of the automatic solo-learn registration for a process that never imports solo.

The ``solo_tricl_autoload.pth`` file makes every interpreter import ``solo_tricl._solo_autoload``
at start-up. This measures that import with ``python -X importtime -c pass`` (the interpreter's
own per-module timer) over repeated fresh processes, and the cost the installed meta-path
finder adds to every later import (one ``find_spec`` call that returns at once).

    python benchmarks/autoload_startup.py        # writes results/autoload_startup.md
"""

import argparse
import re
import statistics
import subprocess
import sys
import timeit
from pathlib import Path

MODULES = ("solo_tricl", "solo_tricl._solo_autoload")


def import_times_us(runs: int):
    """Per run: the summed self time (us) of our modules, and the whole start-up (us)."""
    ours, totals = [], []
    for _ in range(runs):
        err = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "pass"], capture_output=True, text=True, check=True
        ).stderr
        rows = re.findall(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", err)
        if not any(name == MODULES[1] for *_, name in rows):
            raise SystemExit(
                "solo_tricl._solo_autoload was not imported at start-up: is "
                "solo-tricl installed in this interpreter's environment?"
            )
        ours.append(sum(int(self_us) for self_us, _, _, name in rows if name in MODULES))
        totals.append(sum(int(self_us) for self_us, *_ in rows))
    return ours, totals


def finder_overhead_ns(calls: int = 200_000) -> float:
    from solo_tricl._solo_autoload import SoloMethodsFinder

    finder = SoloMethodsFinder()
    seconds = timeit.timeit(lambda: finder.find_spec("json.decoder", None), number=calls)
    return seconds / calls * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "autoload_startup.md"))
    args = parser.parse_args()
    ours, totals = import_times_us(args.runs)
    per_import = finder_overhead_ns()
    median, worst = statistics.median(ours), max(ours)
    text = f"""# Start-up cost of the automatic solo-learn registration

Command: `python benchmarks/autoload_startup.py --runs {args.runs}`; Python {sys.version.split()[0]}.

| measure | value |
|---|---:|
| import of `solo_tricl` + `solo_tricl._solo_autoload` at start-up, median of {args.runs} processes | {median / 1000:.3f} ms |
| the same, slowest of {args.runs} | {worst / 1000:.3f} ms |
| all start-up imports of `python -c pass`, median (for scale) | {statistics.median(totals) / 1000:.1f} ms |
| extra time per later import (the finder's `find_spec` for a module other than `solo.methods`) | {per_import:.0f} ns |

Target: < 5 ms for a process that never imports solo. Nothing else runs until `solo.methods` is
imported; the entry points load at the first lookup in `METHODS`.
"""
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
