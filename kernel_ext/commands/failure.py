"""The one mapping of nbops' errors to what the user reads and the exit code, for ``nbops`` and
``%nbops`` alike (the panel shows the same message)."""
from __future__ import annotations

from typing import TextIO

from ..errors import ExitCode, InvalidError, NbopsError


def message(exc: NbopsError) -> str:
    """A list of problems as it is (each names its file); any other error prefixed ``error:``."""
    if isinstance(exc, InvalidError):
        return str(exc) or exc.message
    return f"error: {exc}"


def report(exc: NbopsError, err: TextIO) -> ExitCode:
    """Print the error's message to ``err``; its exit code."""
    print(message(exc), file=err)
    return exc.exit_code
