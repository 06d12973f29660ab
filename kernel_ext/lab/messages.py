"""Errors as the panel and the line magics show them: readable, never the extension's traceback."""
from __future__ import annotations

import logging

from ..errors import InvalidError, NbopsError

log = logging.getLogger(__name__)


def readable(exc: BaseException) -> str:
    """One message for any error: nbops' own with their problems and hints; anything else named
    by its type (its traceback goes to the log, at debug level)."""
    if isinstance(exc, InvalidError):
        return str(exc) or exc.message
    if isinstance(exc, NbopsError):
        return f"error: {exc}"
    log.debug("unexpected error in nbops' kernel extension", exc_info=exc)
    text = str(exc).strip().splitlines()
    return f"unexpected error: {type(exc).__name__}" + (f": {text[-1]}" if text else "")
