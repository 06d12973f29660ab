"""IPython magics. ``%%flow`` checks the header cell in place and prints a short summary.

The header never needs nbops at run time (papermill skips the cell by its tag); in JupyterLab the
magic gives the author immediate feedback.
"""
from __future__ import annotations

from typing import Any


def flow_magic(line: str, cell: str) -> None:
    from .core.header import parse_header
    from .core.notebook import Cell, CellKind

    header, problems = parse_header(Cell(0, CellKind.CODE, "%%flow\n" + cell), "")
    if problems:
        print("flow header: " + str(len(problems)) + " problem(s)")
        for problem in problems:
            print("  " + problem.render())
        return
    name = header.id or "(id from the file name)"
    schedule = f", schedule {header.schedule}" if header.schedule else ""
    print(f"flow {name}{schedule}: header ok")


def register(ipython: Any) -> None:
    ipython.register_magic_function(flow_magic, magic_kind="cell", magic_name="flow")
