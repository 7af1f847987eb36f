"""Errors as the command line shows them: one line on stderr, settings named by their flags."""

from __future__ import annotations

from impasto.apps.commands.options import flag
from impasto.errors import ImpastoError


def shown(error: ImpastoError) -> str:
    """An error as the command line shows it: settings named by their flags."""
    message = str(error)
    if error.setting and message.startswith(error.setting):
        return flag(error.setting) + message[len(error.setting) :]
    return message


def one_line(error: Exception) -> str:
    """The line a command ends with on `error`: the user's problem and its fix, running out of
    memory, or an impasto bug (whose traceback --debug shows)."""
    if isinstance(error, ImpastoError):
        return f"impasto: error: {shown(error)}"
    if out_of_memory(error):
        return "impasto: error: the machine ran out of memory: lower --size or set --max-memory"
    return f"impasto: internal error: {error!r} (rerun with --debug for the traceback)"


def out_of_memory(error: Exception) -> bool:
    """MemoryError, or PyTorch's out-of-memory errors (CPU allocator, CUDA)."""
    return (
        isinstance(error, MemoryError)
        or type(error).__name__ == "OutOfMemoryError"
        or "can't allocate memory" in str(error)
    )
