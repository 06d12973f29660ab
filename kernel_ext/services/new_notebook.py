"""``nbops new``: a flow notebook from the template or from an existing Kestra flow."""
from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from ..adapters.files import MAX_FLOW_BYTES, read_text
from ..adapters.notebooks import write_new_notebook
from ..adapters.project import Project
from ..core.convert import as_written, snake_case
from ..core.mapping import flow_from_dict
from ..core.notebook_template import flow_cells, template_cells
from ..core.flow_validation import parse_flow_text
from ..errors import ConfigError, ConflictError, FlowError

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*\Z")


def _target(project: Project, name: str) -> Path:
    """``finance/monthly`` → notebooks/finance/monthly.ipynb, refusing names that leave notebooks/."""
    stem = name.removesuffix(".ipynb")
    if not _NAME.match(stem):
        raise ConfigError(f"{name!r} is not a notebook name nbops can make a flow of",
                         hint="lowercase letters, digits, '_' and '-', sub-folders with '/', e.g. finance/monthly")
    path = project.notebooks_dir / PurePosixPath(stem + ".ipynb")
    if path.exists():
        raise ConflictError("already exists; nbops never overwrites a notebook", file=project.relative(path))
    return path


def new_notebook(project: Project, name: str) -> Path:
    path = _target(project, name)
    stem = PurePosixPath(name).name.removesuffix(".ipynb")
    title = stem.replace("_", " ").replace("-", " ").capitalize()
    write_new_notebook(path, template_cells(snake_case(stem), title), project.options.kernel)
    return path


def new_from_flow(project: Project, flow_file: Path, name: str | None = None) -> tuple[Path, str | None]:
    """A notebook whose header and parameters cell reproduce the flow's id, inputs and triggers.
    Returns the path and a note when the notebook's folder gives another namespace."""
    display = str(flow_file)
    data, problems = parse_flow_text(read_text(flow_file, MAX_FLOW_BYTES, display),
                                     target=project.options.kestra)
    if problems:
        raise FlowError(display, problems)
    flow = as_written(flow_from_dict(data), project.options.kestra)  # escaped defaults back to their text
    root = project.options.namespace
    inside = flow.namespace == root or flow.namespace.startswith(root + ".")
    child = flow.namespace[len(root):].lstrip(".") if inside else None
    default = "/".join(p for p in ((child or "").replace(".", "/"), snake_case(flow.id)) if p)
    path = _target(project, name or default)
    write_new_notebook(path, flow_cells(flow, flow_file.name), project.options.kernel)
    note = None
    if child is None:
        note = (f"the flow's namespace {flow.namespace} is not under {root}; the notebook's flow will live in the "
                "namespace its folder gives")
    return path, note
