"""Errors as the panel and the line magics show them: readable, never the extension's traceback."""
from __future__ import annotations

import logging

from ..errors import NbopsError

log = logging.getLogger(__name__)


def readable(exc: BaseException) -> str:
    """One message for any error: nbops' own as ``nbops`` shows them (with their problems and
    hints); anything else named by its type (its traceback goes to the log, at debug level)."""
    if isinstance(exc, NbopsError):
        from ..commands.failure import message

        return message(exc)
    log.debug("unexpected error in nbops' kernel extension", exc_info=exc)
    text = str(exc).strip().splitlines()
    return f"unexpected error: {type(exc).__name__}" + (f": {text[-1]}" if text else "")
