"""The one error type that commands turn into a one-line message and exit code 2."""


class UsageError(ValueError):
    """Bad input from a user: a file, column, row, option or value that cannot be used.

    The message must name the offending thing and fit on one line; command-line front ends print
    it as ``error: <message>`` and exit with status 2, without a traceback.

    `param` names the parameter at fault when there is one (the message then begins with it): a command
    rewords the message about the flag that sets it from this field, not from the text.
    """

    def __init__(self, message: str = "", param: str | None = None):
        super().__init__(message)
        self.param = param

    def about(self, flags: dict[str, str]) -> str:
        """The message, with its leading parameter name replaced by that parameter's flag (`flags`: name -> flag;
        a parameter without a flag is left as it is)."""
        message = str(self)
        flag = flags.get(self.param) if self.param else None
        if flag and message.startswith(self.param + "="):  # "k=9 is more than ..." -> "--k 9 is more than ..."
            return f"{flag} {message[len(self.param) + 1:]}"
        if flag and message.startswith(self.param):
            return flag + message[len(self.param):]
        return message


def out_of_memory(err: BaseException) -> UsageError | None:
    """The UsageError for an allocation that could not be made (NumPy's MemoryError, TensorFlow's
    ResourceExhaustedError: sizes too large for this machine), or None for any other exception."""
    if not (isinstance(err, MemoryError) or type(err).__name__ == "ResourceExhaustedError"):
        return None
    lines = str(getattr(err, "message", None) or err).strip().splitlines()
    detail = (lines[0] if lines else type(err).__name__)[:200]
    return UsageError(f"out of memory ({detail}); choose smaller sizes (layers, code, batch, rows) for this machine")


def disk_full(err: BaseException) -> UsageError | None:
    """The UsageError for a write that found no space left (a full disk or an exhausted quota), or None for any
    other exception. The exception's chain is searched too, and its text, since libraries that write files (h5py,
    TensorFlow) may carry the operating system's error only in their message."""
    import errno

    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
            where = f" (writing {err.filename})" if getattr(err, "filename", None) else ""
            return UsageError(f"no space left on the device{where}; free some space or write elsewhere (--out)")
        text = str(getattr(err, "message", None) or err)
        if "No space left on device" in text or "Disk quota exceeded" in text:
            return UsageError("no space left on the device; free some space or write elsewhere (--out)")
        err = err.__cause__ or err.__context__
    return None


def name_too_long(err: BaseException) -> UsageError | None:
    """The UsageError for a path the operating system refuses as too long (a name over 255 bytes, a path over
    4096), or None for any other exception."""
    import errno

    if not (isinstance(err, OSError) and err.errno == errno.ENAMETOOLONG):
        return None
    name = str(err.filename or "")
    shown = name if len(name) <= 80 else f"{name[:40]}...{name[-30:]}"
    return UsageError(f"file name too long: {shown!r} ({len(name)} characters); name a shorter path")
