"""IPython magics: ``%%flow`` (check the header in place, show the flow card) and ``%nbops``
(the panel, or a command as a line: ``%nbops run -p x=1``, ``%nbops commit -m "..."``).

Registering them imports nothing heavy: each magic imports what it needs when it runs. The header
never needs nbops at run time (papermill skips the cell by its tag).
"""
from __future__ import annotations

import threading
from typing import Any

_warmup: list[threading.Thread] = []


def _warm() -> None:
    """Import what the first ``%%flow`` cell needs (YAML, the converter, cron words: ~80 ms) while
    the author is still typing, so the first card shows as fast as the next ones."""
    import cron_descriptor  # noqa: F401
    import croniter  # noqa: F401

    from ..core import catalog_schedule  # noqa: F401
    from . import card, header_check  # noqa: F401


def warmed(timeout: float | None = None) -> bool:
    """Wait for the warm-up imports (tests and benches); True when done or never started."""
    for thread in _warmup:
        thread.join(timeout)
    return not any(t.is_alive() for t in _warmup)


def register(ipython: Any) -> None:
    def flow(line: str, cell: str) -> None:
        from .flowcell import flow_cell

        flow_cell(ipython, line, cell)

    def nbops(line: str) -> Any:
        from .linemagic import nbops_line

        return nbops_line(ipython, line)

    flow.__doc__ = "%%flow [--notebook PATH]: check this flow header against its notebook and show the flow card."
    nbops.__doc__ = ("%nbops: the nbops panel (validate, run, YAML, diff, commit, push, sync).\n"
                     "%nbops validate|yaml|export|run|runs|commit|push|sync|diff ...: one command, as text.")
    ipython.register_magic_function(flow, magic_kind="cell", magic_name="flow")
    ipython.register_magic_function(nbops, magic_kind="line", magic_name="nbops")
    from .context import loaded_by_a_person

    if loaded_by_a_person(ipython):  # a headless run or a kernel start-up shows no card yet
        _warmup.append(threading.Thread(target=_warm, name="nbops-warmup", daemon=True))
        _warmup[-1].start()
