"""``%%flow``: check the header in place and show the flow card."""
from __future__ import annotations

import argparse
import logging
import shlex
from typing import Any

from .context import Ui, notebook_path, ui_mode

log = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # a bad magic line must not end the kernel's cell with SystemExit
        raise ValueError(message)


def _options(line: str) -> argparse.Namespace:
    parser = _Parser(prog="%%flow", add_help=False)
    parser.add_argument("--notebook", help="the notebook this header belongs to")
    return parser.parse_args(shlex.split(line))


def check_for(shell: Any, line: str, cell: str) -> Any:
    """The :class:`~kernel_ext.lab.header_check.HeaderCheck` of this cell in its notebook."""
    from ..adapters.project import find_project
    from .header_check import check_cell, check_header_alone, header_source

    try:
        options = _options(line)
    except ValueError as exc:
        return check_header_alone(header_source("", cell), f"%%flow {line}: {exc}; only the header was checked")
    path = notebook_path(shell, options.notebook)
    source = header_source(line, cell)
    if path is not None and not path.is_file():
        return check_header_alone(source, f"{path}: no such notebook; only the header was checked")
    project = find_project(path.parent) if path is not None else None
    return check_cell(project, path, source)


def show(check: Any, ui: Ui) -> None:
    from .card import build_card, card_html, card_text

    card = build_card(check)
    if ui is Ui.TEXT:
        print(card_text(card))
        return
    from IPython.display import display

    display({"text/plain": card_text(card), "text/html": card_html(card)}, raw=True)


def flow_cell(shell: Any, line: str, cell: str) -> None:
    """Headless runs (papermill skips the tagged cell; an untagged one lands here) do nothing."""
    ui = ui_mode(shell)
    if ui is Ui.QUIET:
        log.debug("%%flow: headless run, no flow card")
        return
    try:
        show(check_for(shell, line, cell), ui)
    except Exception as exc:
        from .messages import readable

        log.debug("%%flow failed", exc_info=True)
        print(readable(exc))
