"""The ``solo-tricl`` command: one entry point, one subcommand per job.

Subcommands are imported only when run, so ``solo-tricl --help`` stays fast and works without
either host installed.
"""

import argparse
import gc
import importlib
import logging
import sys
import traceback
import warnings
from pathlib import Path
from typing import List, Optional

from solo_tricl.errors import EXIT_BUG, EXIT_ERROR, bug_report_line, exit_status_of, one_line

# name -> (module, configure function, run function, one-line help)
SUBCOMMANDS = {
    "data": ("solo_tricl.data.cli", "configure", "run", "write an offline dataset (Fashion-MNIST) in a host's layout"),
    "pretrain": (
        "solo_tricl.solo.cli",
        "configure_pretrain",
        "run_pretrain",
        "pretrain with solo-learn (main_pretrain.py's config and overrides)",
    ),
    "linear": (
        "solo_tricl.evaluate.linear_cli",
        "configure_linear",
        "run_linear",
        "linear evaluation with solo-learn, optionally on top-k projector features",
    ),
    "clip-train": (
        "solo_tricl.clip.launcher",
        "configure",
        "run",
        "train CLIP with open_clip_train and a triCL/NCL/kernel loss",
    ),
    "clip-zeroshot": (
        "solo_tricl.evaluate.zero_shot",
        "configure",
        "run",
        "zero-shot accuracy of an OpenCLIP checkpoint on your classes (top-k too)",
    ),
    "explain": (
        "solo_tricl.explain.cli",
        "configure",
        "run",
        "COCOA: heatmaps and insertion/deletion AUCs for a solo-learn or OpenCLIP checkpoint",
    ),
    "evaluate": (
        "solo_tricl.evaluate.cli",
        "configure",
        "run",
        "measure importance order, sparsity, consistency, retrieval, identifiability",
    ),
    "bench": (
        "solo_tricl.bench.cli",
        "configure",
        "run",
        "train the built-in baselines and our methods alike, evaluate all, write tables",
    ),
}


class UsageError(Exception):
    """A command line argparse refuses; its message is argparse's, prefixed with the program."""


class OneLineParser(argparse.ArgumentParser):
    """argparse's parser, whose errors are one line (no usage block) raised as :class:`UsageError`,
    so that every subcommand reports a bad option the way it reports any other error."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: error: {message}")


def build_parser(command: Optional[str] = None) -> argparse.ArgumentParser:
    """The ``solo-tricl`` parser. Only ``command``'s module is imported, to add its options: the
    other subcommands are listed by name and help line alone."""
    parser = OneLineParser(
        prog="solo-tricl",
        description="triCL, NCL, kernel InfoNCE and COCOA for solo-learn and OpenCLIP.",
        allow_abbrev=False,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name, (module_name, configure, run, help_text) in SUBCOMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text, allow_abbrev=False)
        sub.set_defaults(_run=(module_name, run))
        if name == command:
            getattr(importlib.import_module(module_name), configure)(sub)
    return parser


# the hosts' dependencies warn about their own deprecations on import; a user of the command
# cannot act on them, and they would bury our one-line errors
QUIET_IMPORTS = r"(solo|timm|torchmetrics)(\.|$)"
# what solo-learn logs whenever it builds a method; solo-tricl fits the schedule of a resumed run
# (solo_tricl.solo.base.fit_warmup_cosine_to_run), so the warning does not apply
QUIET_LOG_LINES = ("Using scheduler_interval=step might generate issues when resuming",)


def quiet_host_log_lines(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(QUIET_LOG_LINES)


def ignored_option(args: argparse.Namespace, argv: List[str]) -> Optional[str]:
    """The first option on the command line that would be ignored, said as an error, or None.

    A subcommand declares, in its parser's default ``_requires``, ``(option, condition, needs)``
    triples: ``option`` given while ``condition(args)`` is false would be ignored, because it
    needs ``needs``.
    """
    given = {token.split("=", 1)[0] for token in argv if token.startswith("--")}
    if "--" in argv:  # what follows -- belongs to another program (clip-train)
        given = {token.split("=", 1)[0] for token in argv[: argv.index("--")] if token.startswith("--")}
    for option, condition, needs in getattr(args, "_requires", ()):
        if option in given and not condition(args):
            return f"{option} needs {needs}; without it {option} would be ignored"
    return None


def paths_given(argv: List[str], args: argparse.Namespace) -> List[str]:
    """Every path the user named: the command line's words, the values of its ``key=value``
    overrides (unquoted), and the options' values that are paths (their defaults included: the
    user chose to run there)."""
    given = []
    for token in argv:
        given.append(token)
        if "=" in token:
            given.append(token.split("=", 1)[1].strip("'\""))
    for value in vars(args).values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Path):
                given.append(str(item))
    return [path for path in given if path and not path.startswith("-")]


def main(argv: Optional[List[str]] = None) -> int:
    """Run one subcommand; every error our checks raise ends as one line on stderr and the exit
    status of :mod:`solo_tricl.errors` (2: bad input, 3: diverged, 128 + N: signal N); anything
    else is a bug: its traceback, a line saying where to report it, and exit status 1."""
    argv = sys.argv[1:] if argv is None else list(argv)
    warnings.filterwarnings("ignore", module=QUIET_IMPORTS)
    if quiet_host_log_lines not in logging.getLogger().filters:
        logging.getLogger().addFilter(quiet_host_log_lines)
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    try:
        parser = build_parser(command if command in SUBCOMMANDS else None)
        args, unknown = parser.parse_known_args(argv)
    except UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_ERROR
    if isinstance(getattr(args, "overrides", None), list):
        # argparse gives a positional list only its first run of values; hydra overrides may
        # also follow the options, as in main_pretrain.py
        args.overrides += [arg for arg in unknown if not arg.startswith("-")]
        unknown = [arg for arg in unknown if arg.startswith("-")]
    prog = " ".join(filter(None, ("solo-tricl", args.command)))
    if unknown:
        hint = (
            "; open_clip_train's options go after --: solo-tricl clip-train [--loss ...] -- --model ..."
            if args.command == "clip-train"
            else ""
        )
        print(f"{prog}: error: unrecognized arguments: {' '.join(unknown)}{hint}", file=sys.stderr)
        return EXIT_ERROR
    if args.command is None:
        parser.print_help()
        return 0
    if meaningless := ignored_option(args, argv):
        print(f"{prog}: error: {meaningless}", file=sys.stderr)
        return EXIT_ERROR
    try:
        module_name, run = args._run
        return getattr(importlib.import_module(module_name), run)(args) or 0
    except KeyboardInterrupt:
        print(f"{prog}: interrupted (SIGINT) before anything was saved", file=sys.stderr)
        return 130
    except Exception as error:
        status = exit_status_of(error, paths_given(argv, args))
        if status is not None:
            print(f"{prog}: error: {one_line(error)}", file=sys.stderr)
            return status
        traceback.print_exc()
        bug = f"{prog}: {bug_report_line(error)}"
    # what the failing code still held (a progress bar writes itself out when closed) goes first:
    # the line saying where to report the bug stays the last one
    gc.collect()
    print(bug, file=sys.stderr)
    return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
