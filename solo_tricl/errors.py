"""The package's errors, all in one place, and the exit status each one ends a command with.

Our checks raise these on purpose; only ``solo_tricl.cli`` turns them into one line,
``solo-tricl <command>: error: <message>``, and an exit status:

- 2: the command cannot run with this input, configuration or file system (:data:`EXIT_ERROR`):
  every :class:`SoloTriclError`, and a file-system error on a path the user gave or from a full
  disk, a read-only file system or a permission (:func:`exit_status_of`);
- 3: training stopped at a non-finite loss, parameter or buffer (:class:`TrainingDiverged`);
- 128 + N: stopped by signal N (SIGINT 130, SIGTERM 143) after saving what can be resumed
  (:class:`Interrupted`);
- 1: anything else is a bug, in solo-tricl or in a host: its traceback is printed, and a last
  line says where to report it (:func:`bug_report_line`).
"""

import errno
import os
import signal
import traceback
from typing import Iterable, Optional

EXIT_BUG = 1
EXIT_ERROR = 2
EXIT_DIVERGED = 3


class SoloTriclError(Exception):
    """Input or an environment that solo-tricl cannot work with; the message says what and why."""

    exit_status = EXIT_ERROR


class BadInput(SoloTriclError, ValueError):
    """Data, a file or a checkpoint that a check refuses; the message names it and says why."""


class InputNotFound(SoloTriclError, FileNotFoundError):
    """A path the user gave does not exist; the message names the path."""


class CommandError(SoloTriclError):
    """A bad command-line option, raised by the subcommand modules."""


class ConfigError(SoloTriclError, ValueError):
    """A bad config value; the message names the key and the values it allows."""


class SoloLearnMissing(SoloTriclError, ImportError):
    """solo-learn main is not installed; the message says how to install it."""


class DatasetUnavailable(SoloTriclError, FileNotFoundError):
    """The offline dataset's files cannot be found; the message says how to get them."""


class PatchTargetChanged(SoloTriclError, RuntimeError):
    """open_clip_train no longer holds a name the launcher replaces: its patch would not apply."""


class UnsupportedOpenCLIP(SoloTriclError, ImportError):
    """The installed OpenCLIP is a version whose training API the launcher does not know."""


class TrainingDiverged(SoloTriclError):
    """A non-finite loss, parameter or buffer: training stopped before it could be saved."""

    exit_status = EXIT_DIVERGED


class Interrupted(SoloTriclError):
    """SIGINT or SIGTERM stopped a run; the message says what was saved and how to resume."""

    def __init__(self, signum: int, message: str):
        super().__init__(message)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


# file-system errors that say nothing about the program: the disk, the file system or the
# permissions of the machine it runs on
ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


def is_under(path, roots: Iterable) -> bool:
    """Whether ``path`` is one of ``roots`` or lies inside one of them (both made absolute)."""
    target = os.path.abspath(str(path))
    for root in roots:
        root = os.path.abspath(str(root))
        if target == root or target.startswith(root.rstrip(os.sep) + os.sep):
            return True
    return False


def exit_status_of(error: BaseException, user_paths: Iterable = ()) -> Optional[int]:
    """The exit status ``solo_tricl.cli`` ends with for ``error``, or None for a bug.

    Only our own errors and file-system errors that are the user's to fix are bad input: an
    ``OSError`` from a full disk, a read-only file system or a permission, or one naming a file
    at or under one of ``user_paths`` (the paths given on the command line). A ``ValueError``
    or any other exception is a bug: raised on purpose, it would be one of ours.
    """
    if isinstance(error, SoloTriclError):
        return error.exit_status
    if isinstance(error, OSError):
        if error.errno in ENVIRONMENT_ERRNOS:
            return EXIT_ERROR
        files = [f for f in (error.filename, error.filename2) if f is not None]
        if files and any(is_under(f, user_paths) for f in files):
            return EXIT_ERROR
    return None


def one_line(error: BaseException) -> str:
    """The error as one line: its message with line breaks folded; an ``OSError`` names its file."""
    if isinstance(error, OSError) and not isinstance(error, SoloTriclError) and error.strerror:
        files = " -> ".join(str(f) for f in (error.filename, error.filename2) if f is not None)
        message = f"{files}: {error.strerror}" if files else error.strerror
    else:
        message = str(error) or type(error).__name__
    return " ".join(message.split())


# where each package's bugs are reported, by the top-level module its code lives in
REPORT_TO = {
    "solo_tricl": ("solo-tricl", "solo-tricl's issue tracker"),
    "solo": ("solo-learn", "https://github.com/vturrisi/solo-learn/issues"),
    "open_clip": ("OpenCLIP", "https://github.com/mlfoundations/open_clip/issues"),
    "open_clip_train": ("OpenCLIP", "https://github.com/mlfoundations/open_clip/issues"),
    "lightning": ("Lightning", "https://github.com/Lightning-AI/pytorch-lightning/issues"),
    "pytorch_lightning": ("Lightning", "https://github.com/Lightning-AI/pytorch-lightning/issues"),
    "torch": ("PyTorch", "https://github.com/pytorch/pytorch/issues"),
    "torchvision": ("torchvision", "https://github.com/pytorch/vision/issues"),
    "hydra": ("Hydra", "https://github.com/facebookresearch/hydra/issues"),
    "omegaconf": ("OmegaConf", "https://github.com/omry/omegaconf/issues"),
    "captum": ("Captum", "https://github.com/pytorch/captum/issues"),
}


def bug_report_line(error: BaseException) -> str:
    """The last line after a bug's traceback: not the user's input, whose code raised it, and
    where to report it. The code is the innermost frame's package among :data:`REPORT_TO`."""
    modules = [frame.f_globals.get("__name__", "") for frame, _ in traceback.walk_tb(error.__traceback__)]
    package = next((m.split(".")[0] for m in reversed(modules) if m.split(".")[0] in REPORT_TO), "solo_tricl")
    host, where = REPORT_TO[package]
    if host == "solo-tricl":
        blame = "a bug in solo-tricl"
    else:
        blame = f"a bug in {host}, or in how solo-tricl calls it"
    return (
        f"{type(error).__name__} is not a problem with your input: it is {blame}. Please report it, with the "
        f"command and the traceback above, to {where}"
        + ("" if host == "solo-tricl" else " (or to solo-tricl's issue tracker if unsure)")
    )
