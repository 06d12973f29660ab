"""Which flow a notebook defines: its namespace (from its folder), its id (from the header's ``id:``
or its file name) and where its YAML file lives. Only the ``%%flow`` cell is read, so a flow can be
found by id without converting any notebook."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import Problem
from .header import Header, parse_header
from .kestra_schema import NAMESPACE
from .notebook import Cell, NotebookSource
from .options import Options

_NAMESPACE_RE = re.compile(NAMESPACE)


@dataclass(frozen=True)
class FlowIdentity:
    namespace: str
    flow_id: str
    file_name: str  # the notebook's file name inside its namespace folder
    problems: tuple[Problem, ...] = ()  # why the header or the folder cannot name a valid flow

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def name(self) -> str:
        return f"{self.namespace}.{self.flow_id}"

    def answers_to(self, target: str) -> bool:
        """Whether ``target`` (``id`` or ``namespace.id``) names this flow."""
        return self.ok and target in (self.flow_id, self.name)


def snake_case(name: str) -> str:
    """``Sales Report-2024`` → ``sales_report_2024``; ``dailyKPIs`` → ``daily_kpis``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"[^0-9a-zA-Z]+", "_", spaced).strip("_").lower()


def namespace_for(notebook_path: str, options: Options) -> tuple[str, str]:
    """(namespace, folder inside notebooks/) from where the notebook lives."""
    root = options.notebooks.strip("/") + "/"
    relative = notebook_path.removeprefix(root) if notebook_path.startswith(root) else notebook_path
    folder = relative.rpartition("/")[0]
    parts = [options.namespace, *folder.split("/")] if folder else [options.namespace]
    return ".".join(parts), folder


def flow_file(namespace: str, flow_id: str, options: Options) -> str:
    """``_flows/[child/path/]<id>.yml``: the layout PushFlows writes and SyncFlows reads."""
    child = [p for p in namespace.removeprefix(options.namespace).split(".") if p]  # a..b and c. are valid
    return "/".join(p for p in (options.flows.strip("/"), *child, f"{flow_id}.yml") if p)  # namespaces


def header_cell(notebook: NotebookSource) -> tuple[Cell | None, list[Problem]]:
    """The ``%%flow`` cell (None when there is none), and a problem when there are several."""
    headers = [c for c in notebook.cells if c.is_header]
    if len(headers) > 1:
        return headers[0], [Problem(f"{len(headers)} %%flow cells (cells {', '.join(str(c.index) for c in headers)})",
                                    cell=headers[1].index, hint="keep one %%flow header cell per notebook")]
    return (headers[0] if headers else None), []


def flow_identity(notebook: NotebookSource, options: Options, header: Header | None = None) -> FlowIdentity:
    """The flow ``notebook`` defines; ``header`` is its parsed header when the caller has it (else
    it is read from the ``%%flow`` cell, whose problems then come first)."""
    problems: list[Problem] = []
    if header is None:
        cell, problems = header_cell(notebook)
        header, found = parse_header(cell, namespace_for(notebook.path, options)[0])
        problems += found
    namespace, folder = namespace_for(notebook.path, options)
    if not _NAMESPACE_RE.match(namespace):
        problems.append(Problem(f"folder {folder!r} cannot be part of a Kestra namespace ({namespace!r})",
                                hint="use lowercase letters, digits, '_' and '-' in folder names under "
                                     f"{options.notebooks}/"))
    if header.namespace and header.namespace != namespace:
        problems.append(Problem(f"namespace {header.namespace!r} differs from {namespace!r}, which the notebook's "
                                "folder gives", "namespace", header.lines.get("namespace"), header.cell,
                                f"remove namespace, or move the notebook to the folder of {header.namespace!r} "
                                "(Kestra's SyncFlows derives namespaces from folders)"))
    flow_id = header.id or snake_case(notebook.stem)
    if not flow_id:
        problems.append(Problem(f"no flow id can be made from the file name {notebook.stem!r}",
                                hint="set id: in the %%flow cell"))
    return FlowIdentity(namespace, flow_id, notebook.path.rpartition("/")[2], tuple(problems))
