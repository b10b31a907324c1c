"""Errors that the command line prints as one line, without a traceback."""


class CommandError(Exception):
    """A user error: printed as ``solo-tricl <command>: error: <message>``, exit status 2."""
