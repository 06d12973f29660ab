"""Notebook → Kestra flow: header + parameters cell + defaults → validated flow document."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import Problem
from .emit import render_flow
from .header import Header, Step, parse_header
from .kestra_schema import NAMESPACE
from .input_types import flow_default
from .mapping import flow_from_dict, flow_to_dict, input_fields, retry_from_dict, trigger_from_dict
from .model import Flow, FlowTrigger, Input, InputType, Output, ScheduleTrigger, Task, Trigger, frozen_map
from .notebook import PARAMETERS_TAG, Cell, CellKind, NotebookSource
from .options import Options
from .params import Parameter, parse_parameters
from .requirements import requirement_name, requirement_problem
from .tasks import (
    RUNNER_REQUIREMENTS,
    SAFE_FILE_NAME,
    input_source,
    notebook_task,
    output_file_ref,
    output_source,
    parallel_task,
)
from .validate import flow_problems

_NAMESPACE_RE = re.compile(NAMESPACE)
StepLoader = Callable[[str], "NotebookSource | None"]  # step path (relative to the notebook) → notebook


def no_steps(path: str) -> NotebookSource | None:
    return None


@dataclass(frozen=True)
class Conversion:
    """The result of converting one notebook; ``document`` is None when there are problems."""

    notebook: NotebookSource
    problems: tuple[Problem, ...]
    document: dict[str, Any] | None = None
    flow: Flow | None = None
    flow_path: str | None = None  # repository-relative path of the YAML file
    text: str | None = None  # the YAML file's exact content
    untagged: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (notebook, cells) papermill would wrongly run
    header: Header = field(default_factory=Header)
    parameters: tuple[Parameter, ...] = ()
    namespace: str = ""
    flow_id: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def flow_key(self) -> tuple[str, str] | None:
        """(namespace, id): what two notebooks must not share."""
        return (self.namespace, self.flow_id) if self.ok and self.flow_path else None

    def without_sources(self) -> Conversion:
        """The flow and its header, without the notebook's cells or the YAML document: what the
        catalog needs, cheap to send between processes."""
        return replace(self, notebook=NotebookSource(self.notebook.path, ()), document=None)

    def lean(self) -> Conversion:
        """Only what export and check need (path, file text, tags, problems): cheap to send
        between processes, where the model and cells are not."""
        return replace(self, notebook=NotebookSource(self.notebook.path, ()), document=None, flow=None,
                       header=Header(), parameters=())


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
    child = namespace.removeprefix(options.namespace).strip(".").replace(".", "/")
    return "/".join(p for p in (options.flows.strip("/"), child, f"{flow_id}.yml") if p)


def _find_cells(notebook: NotebookSource) -> tuple[Cell | None, Cell | None, list[Problem]]:
    headers = [c for c in notebook.cells if c.is_header]
    params = [c for c in notebook.cells if c.kind is CellKind.CODE and PARAMETERS_TAG in c.tags]
    problems = []
    if len(headers) > 1:
        problems.append(Problem(f"{len(headers)} %%flow cells (cells {', '.join(str(c.index) for c in headers)})",
                                cell=headers[1].index, hint="keep one %%flow header cell per notebook"))
    if len(params) > 1:
        problems.append(Problem(f"{len(params)} cells tagged 'parameters' "
                                f"(cells {', '.join(str(c.index) for c in params)})",
                                cell=params[1].index, hint="papermill uses one parameters cell: merge them"))
    return (headers[0] if headers else None), (params[0] if params else None), problems


def parameters_of(notebook: NotebookSource) -> tuple[list[Parameter], list[Problem]]:
    _, cell, problems = _find_cells(notebook)
    if cell is None:
        return [], problems
    params, found = parse_parameters(cell.source)
    return params, problems + [p.located(cell=cell.index) for p in found]


def _description(header: Header, notebook: NotebookSource) -> str | None:
    if header.description:
        return header.description
    first = next((c for c in notebook.cells if c.kind is CellKind.MARKDOWN and c.source.strip()), None)
    return first.source.strip() if first else None


def _input(param: Parameter) -> Input:
    defaults = flow_default(param.type, param.value) if param.has_default else None  # None: Kestra sends null
    return Input(param.name, param.type, description=param.description, required=not param.optional,
                 defaults=defaults, item_type=param.item_type if param.type is InputType.ARRAY else None,
                 values=param.choices)


def _overridden(item: Input, override: Mapping[str, Any]) -> Input:
    """``item`` with a header's ``inputs.<name>`` entry applied. A new type keeps only the fields every
    type has (the rest fit the inferred type only); ``options``, the old name of ``values``, gives
    none when values are inferred."""
    fields = input_fields(override)
    if fields.get("type", item.type) is not item.type:
        item = Input(item.id, item.type, description=item.description, display_name=item.display_name,
                     required=item.required, defaults=item.defaults)
    elif "values" not in override and item.values is not None:
        fields.pop("values", None)
    return replace(item, **fields)


def _inputs(params: list[Parameter], header: Header, cell: int | None) -> tuple[list[Input], list[Problem]]:
    names = {p.name for p in params}
    problems = [Problem(f"inputs.{name} overrides a parameter the parameters cell does not define",
                        f"inputs.{name}", header.lines.get("inputs"), cell,
                        "add the parameter to the cell tagged 'parameters' or remove the override")
                for name in header.inputs if name not in names]
    inputs = []
    for param in params:
        override = header.inputs.get(param.name)
        inputs.append(_overridden(_input(param), override) if override else _input(param))
    return inputs, problems


def _triggers(header: Header) -> list[Trigger]:
    triggers: list[Trigger] = []
    if header.schedule:
        triggers.append(ScheduleTrigger("schedule", header.schedule, header.timezone))
    if header.after:
        triggers.append(FlowTrigger("upstream", header.after))
    return triggers + [trigger_from_dict(t) for t in header.triggers]


class _Build:
    """Carries what building one notebook's tasks needs, and collects problems on the way."""

    def __init__(self, notebook: NotebookSource, header: Header, options: Options, load_step: StepLoader,
                 inputs: list[Input]):
        self.notebook, self.header, self.options = notebook, header, options
        self.steps = {p: s for p in dict.fromkeys(header.step_notebooks) if (s := load_step(p)) is not None}
        self.input_order = [i.id for i in inputs]
        self.input_names = set(self.input_order)
        self.problems: list[Problem] = []
        self.used_ids: set[str] = set()
        self.upstream_files: dict[str, str] = {}  # file → the Kestra expression of the task output holding it
        self.upstream_vars: dict[str, str] = {}  # parameter → the earlier step's output that feeds it
        uses_nbops = notebook.imports_kernel_ext() or any(s.imports_kernel_ext() for s in self.steps.values())
        wanted = [*RUNNER_REQUIREMENTS, *options.requirements, *header.requirements]
        if uses_nbops and "nbops" not in {requirement_name(r) for r in wanted}:
            wanted.append("nbops")
        self.requirements = list(dict.fromkeys(wanted))
        self.retry = retry_from_dict(header.retry) if header.retry else None

    def problem(self, message: str, key: str | None = None, hint: str | None = None) -> None:
        line = self.header.lines.get(key) if key else None
        self.problems.append(Problem(message, key or "", line, self.header.cell, hint))

    def unique_id(self, wanted: str) -> str:
        candidate, n = wanted or "notebook", 1
        while candidate in self.used_ids:
            n += 1
            candidate = f"{wanted}_{n}"
        self.used_ids.add(candidate)
        return candidate

    def task(self, task_id: str, file_name: str, params: dict[str, str], produced: Sequence[str] = ()) -> Task:
        if not SAFE_FILE_NAME.match(file_name):
            self.problem(f"notebook path {file_name!r} has characters Kestra commands cannot carry safely",
                         hint="rename it with letters, digits, '_', '-', '.', spaces and '/' only")
        return notebook_task(self.unique_id(task_id), file_name, params, self.options, image=self.header.image,
                             requirements=self.requirements, retry=self.retry, timeout=self.header.timeout,
                             files=self.header.files, upstream_files=dict(self.upstream_files), produces=produced)

    def step_task(self, step: Step) -> Task | None:
        source = self.steps.get(step.notebook)
        if source is None:
            self.problem(f"step notebook {step.notebook!r} was not found next to this notebook", "steps")
            return None
        params, found = parameters_of(source)
        for p in found:
            self.problem(f"step {step.notebook}: {p.message}", "steps", p.hint)
        sources = {p.name: self.upstream_vars.get(p.name) or input_source(p.name) for p in params
                   if p.name in self.upstream_vars or p.name in self.input_names}
        return self.task(snake_case(source.stem), step.notebook, sources, step.produces)

    def tasks(self, file_name: str) -> list[Task]:
        if not self.header.steps:
            return [self.task("run_notebook", file_name, {n: input_source(n) for n in self.input_order})]
        tasks: list[Task] = []
        for group in self.header.steps:
            children = [(step, t) for step in group.steps if (t := self.step_task(step)) is not None]
            if group.parallel and children:
                tasks.append(parallel_task(self.unique_id(f"parallel_{len(tasks) + 1}"), [t for _, t in children]))
            else:
                tasks.extend(t for _, t in children)
            for step, task in children:  # what a group writes, later groups read (Kestra tasks share no folder)
                self.upstream_files.update((f, output_file_ref(task.id, f)) for f in step.produces)
                self.upstream_vars.update((name, output_source(task.id, name)) for name in step.outputs)
        return tasks


def _outputs(header: Header, last_task: str | None, build: _Build) -> list[Output]:
    outputs = []
    for name, spec in header.outputs.items():
        spec = {"type": spec} if isinstance(spec, str) else spec
        kind = spec.get("type", "STRING")
        if kind not in InputType.__members__:
            build.problem(f"output {name!r} has unknown type {kind!r}", "outputs")
            continue
        value = spec.get("value", f"{{{{ outputs.{last_task}.vars.{name} }}}}")
        outputs.append(Output(name, InputType(kind), value, spec.get("description")))
    return outputs


# the header keys a generated flow field comes from, most specific first
_FIELD_ORIGINS = (("inputs", ("inputs",)), ("triggers", ("schedule", "after", "triggers", "timezone")),
                  ("tasks", ("retry", "timeout", "steps", "image", "requirements", "files")),
                  ("outputs", ("outputs",)), ("labels", ("labels",)), ("description", ("description",)))


def _header_line(flow_path: str, header: Header) -> int | None:
    """The header line a problem of the finished flow most likely comes from (kestra: for raw keys)."""
    top = flow_path.split(".")[0].split("[")[0]
    keys = next((keys for field, keys in _FIELD_ORIGINS if field == top), ())
    return next((header.lines[k] for k in (*keys, "kestra") if k in header.lines), None)


def _last_notebook_task(tasks: list[Task]) -> str | None:
    if not tasks:
        return None
    last = tasks[-1]
    return last.tasks[-1].id if last.tasks else last.id


def _identity(notebook: NotebookSource, header: Header, options: Options) -> tuple[str, str, str, list[Problem]]:
    """(flow id, namespace, notebook file name inside its namespace folder, problems)."""
    namespace, folder = namespace_for(notebook.path, options)
    problems = []
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
    return flow_id, namespace, notebook.path.rpartition("/")[2], problems


def convert(notebook: NotebookSource, options: Options, load_step: StepLoader = no_steps) -> Conversion:
    """Convert one notebook; ``load_step`` gives the notebooks its ``steps`` name (None if missing)."""
    header_cell, _, problems = _find_cells(notebook)
    namespace_guess = namespace_for(notebook.path, options)[0]
    header, found = parse_header(header_cell, namespace_guess)
    params, param_problems = parameters_of(notebook)
    problems += found + [p for p in param_problems if p not in problems]
    if problems:
        return Conversion(notebook, tuple(problems), header=header)
    flow_id, namespace, file_name, found = _identity(notebook, header, options)
    inputs, input_problems = _inputs(params, header, header.cell)
    build = _Build(notebook, header, options, load_step, inputs)
    for requirement in header.requirements:
        if (why := requirement_problem(requirement)) is not None:
            build.problem(why, "requirements", "write one PEP 508 requirement per entry, e.g. pandas>=2")
    tasks = build.tasks(file_name)
    flow = Flow(flow_id, namespace, tuple(tasks), _description(header, notebook), frozen_map(header.labels),
                tuple(inputs), triggers=tuple(_triggers(header)),
                outputs=tuple(_outputs(header, _last_notebook_task(tasks), build)))
    for key in sorted(set(header.kestra) & {"id", "namespace"}):
        build.problem(f"kestra.{key} cannot be set: it decides where the flow file lives", "kestra",
                      "set id: in the header; the namespace comes from the notebook's folder")
    problems = found + input_problems + build.problems
    if problems:
        return Conversion(notebook, tuple(problems), header=header, parameters=tuple(params))
    document = {**flow_to_dict(flow), **header.kestra}
    flow_found = flow_problems(document)
    if flow_found:
        located = tuple(p.located(cell=header.cell, line=_header_line(p.path, header)) for p in flow_found)
        return Conversion(notebook, located, header=header, parameters=tuple(params))
    model = flow_from_dict(document) if header.kestra else flow  # raw keys may change what the model says
    untagged = tuple((nb.path, cells) for nb in (notebook, *build.steps.values())
                     if (cells := nb.cells_needing_skip_tag()))
    return Conversion(notebook, (), document, model, flow_file(namespace, flow_id, options),
                      render_flow(document, notebook.path), untagged, header, tuple(params),
                      namespace=model.namespace, flow_id=model.id)
