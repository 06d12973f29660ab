"""Reading and writing .ipynb files (nbformat at the edge; the core sees NotebookSource)."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..core.notebook import Cell, CellKind, NotebookSource
from ..errors import NotebookError, Problem
from .files import MAX_NOTEBOOK_BYTES, atomic_write, read_text

STREAM_FROM = 8 * 1024 * 1024  # larger notebooks are read in a stream, outputs skipped
_NBFORMAT_HINT = "open and save it in JupyterLab, or run: jupyter nbconvert --to notebook --nbformat 4 --inplace FILE"


def _source(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else value if isinstance(value, str) else ""


def notebook_from_text(text: str, display: str) -> NotebookSource:
    """Parse notebook JSON into cells. Only what nbops reads is checked here; full nbformat
    validation happens when nbops writes a notebook."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(display, [Problem(f"not valid notebook JSON: {exc.msg} (column {exc.colno})",
                                              line=exc.lineno, hint="was the file cut short or edited by hand?")]) from None
    except ValueError as exc:  # e.g. a number of more than 4,300 digits
        raise NotebookError(display, [Problem(f"not valid notebook JSON: {exc}",
                                              hint="was the file edited by hand?")]) from None
    return notebook_from_data(data, display)


def notebook_from_data(data: Any, display: str) -> NotebookSource:
    """The cells of parsed notebook JSON (see :func:`notebook_from_text`)."""
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        version = data.get("nbformat") if isinstance(data, dict) else None
        hint = _NBFORMAT_HINT if version is not None else "a notebook is a JSON object with a 'cells' list"
        raise NotebookError(display, [Problem(f"not an nbformat 4 notebook (nbformat {version})", hint=hint)])
    if data.get("nbformat") != 4:
        raise NotebookError(display, [Problem(f"notebook is nbformat {data.get('nbformat')}, nbops reads nbformat 4",
                                              hint=_NBFORMAT_HINT)])
    kernel, language = _kernelspec(data.get("metadata"))
    return NotebookSource(display, tuple(_cell(i, c, display) for i, c in enumerate(data["cells"])), kernel, language)


def _kernelspec(metadata: Any) -> tuple[str | None, str | None]:
    """(kernelspec name, language) from the notebook's metadata, as papermill reads them
    (papermill 2.7 ``utils.py`` nb_kernel_name, nb_language: language_info.name, else kernelspec.language)."""
    metadata = metadata if isinstance(metadata, dict) else {}
    spec = metadata.get("kernelspec") if isinstance(metadata.get("kernelspec"), dict) else {}
    info = metadata.get("language_info") if isinstance(metadata.get("language_info"), dict) else {}
    name, language = spec.get("name"), info.get("name") or spec.get("language")
    return (name.strip() or None if isinstance(name, str) else None,
            language.strip() or None if isinstance(language, str) else None)


def _cell(index: int, cell: Any, display: str) -> Cell:
    if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
        raise NotebookError(display, [Problem("a cell without a valid cell_type", cell=index)])
    metadata = cell.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, dict) else None
    tags = tags if isinstance(tags, list) else []
    return Cell(index, CellKind(cell["cell_type"]), _source(cell.get("source")), tuple(str(t) for t in tags))


def read_notebook(path: Path, display: str) -> NotebookSource:
    """A notebook's cells. A large one (its outputs, mostly) is read cell by cell with its outputs
    skipped unread, in bounded memory and whatever its size (see adapters.nbstream)."""
    if not is_large(path):
        return notebook_from_text(read_text(path, MAX_NOTEBOOK_BYTES, display), display)
    return notebook_from_data(read_skeleton(path, display), display)


def is_large(path: Path) -> bool:
    """True for a notebook file worth reading in a stream (False when it cannot be read at all:
    the whole-file reading names the reason)."""
    try:
        return path.stat().st_size > STREAM_FROM
    except OSError:
        return False


def read_skeleton(path: Path, display: str) -> dict[str, Any]:
    """The notebook JSON without its cells' outputs (``[]``), in bounded memory."""
    from .nbstream import skeleton

    try:
        return skeleton(path, display, MAX_NOTEBOOK_BYTES)
    except OSError as exc:
        raise NotebookError(display, [Problem(f"cannot be read: {exc.strerror or exc}")]) from None


def _nbformat():
    import nbformat  # lazy: writing notebooks is rare and nbformat is slow to import

    return nbformat


def _with_tag(path: Path, cell_indices: Iterable[int], tag: str) -> str:
    """The notebook's text with ``tag`` added to the given cells, everything else kept."""
    nbformat = _nbformat()
    node = nbformat.reads(read_text(path, MAX_NOTEBOOK_BYTES), as_version=nbformat.NO_CONVERT)
    for index in cell_indices:
        tags = node.cells[index].metadata.setdefault("tags", [])
        if tag not in tags:
            tags.append(tag)
    return nbformat.writes(node) + "\n"


def add_tag(path: Path, cell_indices: Iterable[int], tag: str) -> None:
    """Add ``tag`` to the given cells' metadata, in place; atomic."""
    atomic_write(path, _with_tag(path, cell_indices, tag))


def tagged_copy(path: Path, cell_indices: Iterable[int], tag: str, destination: Path) -> Path:
    """A copy of the notebook with ``tag`` added to the given cells (the original is left alone)."""
    atomic_write(destination, _with_tag(path, cell_indices, tag))
    return destination


def write_new_notebook(path: Path, cells: Sequence[tuple[str, str, Sequence[str]]], kernel: str) -> None:
    """A new nbformat 4 notebook from (kind, source, tags) triples, validated before it is written."""
    nbformat = _nbformat()
    make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
            "raw": nbformat.v4.new_raw_cell}
    node = nbformat.v4.new_notebook()
    node.metadata["kernelspec"] = {"name": kernel, "display_name": "Python 3", "language": "python"}
    node.metadata["language_info"] = {"name": "python"}
    for kind, source, tags in cells:
        cell = make[kind](source)
        if tags:
            cell.metadata["tags"] = list(tags)
        cell.pop("id", None)  # deterministic bytes: no random cell ids
        node.cells.append(cell)
    node.nbformat_minor = 4  # cell ids start at 4.5; nbops writes none, so the same input gives the same file
    nbformat.validate(node)
    atomic_write(path, nbformat.writes(node) + "\n")
