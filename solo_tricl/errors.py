"""The package's errors, all in one place, and the exit status each one ends a command with.

Library functions raise these (or ``ValueError``/``TypeError``/``OSError`` for input they cannot
use); only ``solo_tricl.cli`` turns them into one line, ``solo-tricl <command>: error: <message>``,
and an exit status:

- 2: the command cannot run with this input, configuration or file system (:data:`EXIT_ERROR`);
- 3: training stopped at a non-finite loss or parameter (:class:`TrainingDiverged`);
- 128 + N: stopped by signal N (SIGINT 130, SIGTERM 143) after saving what can be resumed
  (:class:`Interrupted`).
"""

import signal
from typing import Optional

EXIT_ERROR = 2
EXIT_DIVERGED = 3


class SoloTriclError(Exception):
    """Input or an environment that solo-tricl cannot work with; the message says what and why."""

    exit_status = EXIT_ERROR


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


class TrainingDiverged(SoloTriclError):
    """A non-finite loss or parameter: training stopped before it could be saved."""

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


def exit_status_of(error: BaseException) -> Optional[int]:
    """The exit status ``solo_tricl.cli`` ends with for ``error``, or None for a bug (a traceback)."""
    if isinstance(error, SoloTriclError):
        return error.exit_status
    if isinstance(error, (ValueError, OSError)):
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
