"""Levelled log lines, captured into the call's log beside stdout and stderr.

`print` works too (it lands in the log as stdout); these add a level.
"""

from wit_world.imports import log as _log


def _write(level, message) -> None:
    _log.write(level, str(message))


def trace(message) -> None:
    """Write one line at trace level."""
    _write(_log.Level.TRACE, message)


def debug(message) -> None:
    """Write one line at debug level."""
    _write(_log.Level.DEBUG, message)


def info(message) -> None:
    """Write one line at info level."""
    _write(_log.Level.INFO, message)


def warn(message) -> None:
    """Write one line at warn level."""
    _write(_log.Level.WARN, message)


def error(message) -> None:
    """Write one line at error level."""
    _write(_log.Level.ERROR, message)
