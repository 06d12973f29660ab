"""The ``%%flow`` cell checked against its notebook, with the cell's current text as the header
(the file on disk may predate the last edit: JupyterLab saves later)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..adapters.project import Project
from ..core.convert import Conversion
from ..core.header import Header
from ..core.notebook import HEADER_MAGIC, Cell, CellKind, NotebookSource
from ..errors import NbopsError, Problem

UNKNOWN_NOTEBOOK = ("the notebook is unknown, so only the header was checked "
                    "(give it with %%flow --notebook PATH)")


@dataclass(frozen=True)
class HeaderCheck:
    """What the flow card shows: a full conversion when the notebook is known, else the header alone."""

    conversion: Conversion | None
    header: Header
    problems: tuple[Problem, ...]
    notebook: str | None = None  # repository-relative path, when known
    note: str | None = None  # why the check is partial
    default_namespace: str | None = None  # what the notebook's folder and name give, shown while invalid
    default_id: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def header_source(line: str, cell: str) -> str:
    """The cell's full source as JupyterLab holds it: the magic line, then the YAML."""
    return f"{HEADER_MAGIC} {line}".rstrip() + "\n" + cell


def check_header_alone(source: str, note: str | None = UNKNOWN_NOTEBOOK) -> HeaderCheck:
    from ..core.header import parse_header

    header, problems = parse_header(Cell(0, CellKind.CODE, source), "")
    return HeaderCheck(None, header, tuple(problems), note=note)


def with_header(notebook: NotebookSource, source: str) -> NotebookSource:
    """The notebook with ``source`` as its header cell (added last when the saved file has none)."""
    cells = list(notebook.cells)
    index = next((c.index for c in cells if c.is_header), None)
    if index is None:
        cells.append(Cell(len(cells), CellKind.CODE, source))
    else:
        cells[index] = replace(cells[index], source=source)
    return replace(notebook, cells=tuple(cells))  # its kernel and language kept


def check_cell(project: Project | None, path: Path | None, source: str) -> HeaderCheck:
    """Check the header ``source`` against the notebook at ``path`` (None: unknown)."""
    from ..adapters.notebooks import read_notebook

    if project is None or path is None:
        return check_header_alone(source)
    try:
        display = project.relative(path)
        notebook = read_notebook(path, display)
    except NbopsError as exc:
        return check_header_alone(source, f"{exc.file or path}: {exc.message}; only the header was checked")
    from ..core.convert import namespace_for, snake_case
    from ..services.project_flows import convert_source

    conversion = convert_source(project, path, with_header(notebook, source))
    return HeaderCheck(conversion, conversion.header, conversion.problems, display,
                       default_namespace=namespace_for(display, project.options)[0], default_id=snake_case(notebook.stem))
