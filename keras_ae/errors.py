"""The one error type that commands turn into a one-line message and exit code 2."""


class UsageError(ValueError):
    """Bad input from a user: a file, column, row, option or value that cannot be used.

    The message must name the offending thing and fit on one line; command-line front ends print
    it as ``error: <message>`` and exit with status 2, without a traceback.
    """
