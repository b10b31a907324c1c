"""The package's own errors. Library functions raise these, ``ValueError`` or
``FileNotFoundError`` for input they cannot use; only ``solo_tricl.cli`` turns them into one line,
``solo-tricl <command>: error: <message>``, and exit status 2."""


class SoloTriclError(Exception):
    """Input or an environment that solo-tricl cannot work with; the message says what and why."""


class CommandError(SoloTriclError):
    """A bad command-line option, raised by the subcommand modules."""


# what solo_tricl.cli prints as one line instead of a traceback
USER_ERRORS = (SoloTriclError, ValueError, FileNotFoundError)
