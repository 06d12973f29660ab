"""Notebook → Kestra flow: header + parameters cell + defaults → validated flow document, and the
pipeline (core/pipeline.py) its tasks are emitted from and ``nbops run`` follows."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import Problem
from .emit import render_flow
from .flow_validation import flow_problems
from .header import Header, Step, parse_header
from .identity import flow_file, flow_identity, header_cell, namespace_for, snake_case
from .input_types import flow_default
from .kestra_version import Feature, KestraVersion, has
from .kernel_choice import kernel_choice
from .mapping import flow_from_dict, flow_to_dict, input_fields, retry_from_dict, trigger_from_dict
from .model import Flow, FlowTrigger, Input, InputType, Output, ScheduleTrigger, Trigger, frozen_map
from .notebook import PARAMETERS_TAG, Cell, CellKind, NotebookSource
from .options import Options
from .parameters_cell import Parameter, parse_parameters
from .pebble_escape import escape_value, strings_of, unescape_value, unrepresentable
from .pipeline import Pipeline, PipelineGroup, PipelineStep
from .requirements import (flow_requirements, image_python_problem, requirement_conflicts,
                           requirement_problem)
from .tasks import SAFE_FILE_NAME, pipeline_tasks, task_image

# snake_case, namespace_for and flow_file live in .identity; their importers find them here too
__all__ = ["Conversion", "as_written", "convert", "flow_file", "namespace_for", "no_steps", "parameters_of", "snake_case"]
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
    text: str | None = None  # the YAML file's exact content (None too when not rendered)
    untagged: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (notebook, cells) papermill would wrongly run
    header: Header = field(default_factory=Header)
    parameters: tuple[Parameter, ...] = ()
    namespace: str = ""
    flow_id: str = ""
    pipeline: Pipeline | None = None  # what runs, fed by what: the tasks were made from it
    requirements: tuple[str, ...] = ()  # what its tasks install (what `nbops image` bakes in with install = "image")

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
        return replace(self, notebook=NotebookSource(self.notebook.path, ()), document=None, pipeline=None)

    def lean(self) -> Conversion:
        """Only what export and check need (path, file text, tags, problems): cheap to send
        between processes, where the model and cells are not."""
        return replace(self, notebook=NotebookSource(self.notebook.path, ()), document=None, flow=None,
                       header=Header(), parameters=(), pipeline=None)


def _find_cells(notebook: NotebookSource) -> tuple[Cell | None, Cell | None, list[Problem]]:
    header, problems = header_cell(notebook)
    params = [c for c in notebook.cells if c.kind is CellKind.CODE and PARAMETERS_TAG in c.tags]
    if len(params) > 1:
        problems.append(Problem(f"{len(params)} cells tagged 'parameters' "
                                f"(cells {', '.join(str(c.index) for c in params)})",
                                cell=params[1].index, hint="papermill uses one parameters cell: merge them"))
    return header, (params[0] if params else None), problems


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
    """The flow input of a parameter. Its ``defaults`` is the text or value as written (what ``nbops run``
    passes); :func:`_kestra_inputs` escapes it for the Kestra versions that render defaults."""
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


def _kestra_inputs(document: dict[str, Any], target: KestraVersion) -> dict[str, Any]:
    """``document`` with its inputs' defaults as Kestra ``target`` must read them to give the notebook
    the text written in the parameters cell: from 1.0 defaults are Pebble templates, so their Pebble
    delimiters are escaped (core/pebble_escape.py); before, they are taken as they are."""
    if not has(target, Feature.PEBBLE_IN_INPUT_DEFAULTS) or "inputs" not in document:
        return document
    inputs = [{**item, "defaults": escape_value(item["defaults"])} if "defaults" in item else item
              for item in document["inputs"]]
    return {**document, "inputs": inputs}


def as_written(flow: Flow, target: KestraVersion) -> Flow:
    """A flow read from a file, with the defaults nbops escaped for ``target`` back as they were
    written (what a parameters cell made from it should hold); other defaults are left alone."""
    if not has(target, Feature.PEBBLE_IN_INPUT_DEFAULTS):
        return flow
    return replace(flow, inputs=tuple(replace(i, defaults=unescape_value(i.defaults)) if i.defaults is not None else i
                                      for i in flow.inputs))


def _default_problems(inputs: list[Input], target: KestraVersion) -> list[Problem]:
    """Defaults no escape can carry through Kestra ``target``'s rendering unchanged."""
    if not has(target, Feature.PEBBLE_IN_INPUT_DEFAULTS):
        return []
    return [Problem(f"the default of input {item.id!r} holds a '{{% raw %}}…{{% endraw %}}' block, which Kestra "
                    f"{target} strips from every rendered value, so the notebook would not get the text as written",
                    f"inputs.{item.id}", hint="write the text differently (e.g. split the tag), or pass it at run "
                    "time as a parameter")
            for item in inputs if any(unrepresentable(s) for s in strings_of(item.defaults))]


def _triggers(header: Header) -> list[Trigger]:
    triggers: list[Trigger] = []
    if header.schedule:
        triggers.append(ScheduleTrigger("schedule", header.schedule, header.timezone))
    if header.after:
        triggers.append(FlowTrigger("upstream", header.after))
    return triggers + [trigger_from_dict(t) for t in header.triggers]


class _Build:
    """Wires one notebook's pipeline (which notebooks run, fed by what), and collects problems on the way."""

    def __init__(self, notebook: NotebookSource, header: Header, options: Options, load_step: StepLoader,
                 inputs: list[Input]):
        self.notebook, self.header, self.options = notebook, header, options
        self.steps = {p: s for p in dict.fromkeys(header.step_notebooks) if (s := load_step(p)) is not None}
        self.input_order = [i.id for i in inputs]
        self.input_names = set(self.input_order)
        self.problems: list[Problem] = []
        self.used_ids: set[str] = set()
        self.upstream_files: dict[str, str] = {}  # file → the earlier task that produced it
        self.upstream_vars: dict[str, str] = {}  # parameter → the earlier task whose output feeds it
        # nbops is not needed at run time: kernel_ext.output travels with the task (kernel_ext/runtime.py)
        wanted = flow_requirements(options.requirements, header.requirements, options.constraint_lines)
        self.requirements = list(dict.fromkeys(wanted))
        for conflict in requirement_conflicts(self.requirements, options.constraint_lines):
            self.problem(f"requirements cannot all hold: {conflict}", "requirements",
                         "make the header's requirements agree with [tool.nbops] requirements and constraints")
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

    def step(self, task_id: str, file_name: str, feeds: Mapping[str, str | None], source: NotebookSource,
             declared: Step | None = None) -> PipelineStep:
        """A step fed ``feeds`` (parameter → the task whose output it takes; None: the flow input)."""
        if not SAFE_FILE_NAME.match(file_name):
            self.problem(f"notebook path {file_name!r} has characters Kestra commands cannot carry safely",
                         hint="rename it with letters, digits, '_', '-', '.', spaces and '/' only")
        kernel, refused = kernel_choice(source, self.options)
        if refused is not None:
            where = f"step {declared.notebook}: " if declared else ""
            self.problem(where + refused.message, "steps" if declared else None, refused.hint)
        produces, outputs = (declared.produces, declared.outputs) if declared else ((), ())
        return PipelineStep(self.unique_id(task_id), file_name, tuple(feeds.items()), produces, outputs,
                            self.header.files, tuple(self.upstream_files.items()), source.imports_kernel_ext(),
                            kernel)

    def pipeline_step(self, step: Step) -> PipelineStep | None:
        source = self.steps.get(step.notebook)
        if source is None:
            self.problem(f"step notebook {step.notebook!r} was not found next to this notebook", "steps")
            return None
        params, found = parameters_of(source)
        for p in found:
            self.problem(f"step {step.notebook}: {p.message}", "steps", p.hint)
        feeds = {p.name: self.upstream_vars.get(p.name) for p in params
                 if p.name in self.upstream_vars or p.name in self.input_names}
        return self.step(snake_case(source.stem), step.notebook, feeds, source, step)

    def pipeline(self, file_name: str) -> Pipeline:
        if not self.header.steps:
            only = self.step("run_notebook", file_name, dict.fromkeys(self.input_order), self.notebook)
            return Pipeline((PipelineGroup((only,)),), self.retry, self.header.timeout)
        groups: list[PipelineGroup] = []
        for group in self.header.steps:
            steps = tuple(s for step in group.steps if (s := self.pipeline_step(step)) is not None)
            if not steps:
                continue
            emitted = sum(1 if g.parallel_id else len(g.steps) for g in groups)  # the flow's tasks so far
            groups.append(PipelineGroup(steps, self.unique_id(f"parallel_{emitted + 1}") if group.parallel else None))
            for step in steps:  # what a group writes, later groups read (Kestra tasks share no folder)
                self.upstream_files.update((f, step.task_id) for f in step.produces)
                self.upstream_vars.update((name, step.task_id) for name in step.outputs)
        return Pipeline(tuple(groups), self.retry, self.header.timeout)


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


_INPUT_PATH = re.compile(r"^inputs\[(\d+)\]")


def _locate(problem: Problem, header: Header, params: list[Parameter], params_cell: Cell | None) -> Problem:
    """A problem of the finished flow, located where it most likely comes from: the parameter's line
    for an input the header does not override, else the header line of its field."""
    match = _INPUT_PATH.match(problem.path)
    index = int(match.group(1)) if match else -1
    if params_cell is not None and 0 <= index < len(params) and params[index].name not in header.inputs \
            and "inputs" not in header.kestra:
        return problem.located(cell=params_cell.index, line=params[index].line)
    return problem.located(cell=header.cell, line=_header_line(problem.path, header))


def _header_line(flow_path: str, header: Header) -> int | None:
    """The header line a problem of the finished flow most likely comes from (kestra: for raw keys)."""
    top = flow_path.split(".")[0].split("[")[0]
    keys = next((keys for field, keys in _FIELD_ORIGINS if field == top), ())
    return next((header.lines[k] for k in (*keys, "kestra") if k in header.lines), None)


def convert(notebook: NotebookSource, options: Options, load_step: StepLoader = no_steps, *,
            render: bool = True, runtime: str | None = None) -> Conversion:
    """Convert one notebook; ``load_step`` gives the notebooks its ``steps`` name (None if missing).
    Without ``render`` the flow is built and validated all the same, but its YAML text is not written
    (``text`` is None): for callers that need only the model and the pipeline. ``runtime`` is the
    text of ``kernel_ext/runtime.py`` (the service layer reads it), shipped as ``kernel_ext.py`` to
    the tasks whose notebook imports kernel_ext; without it such a notebook is a problem."""
    cell, params_cell, problems = _find_cells(notebook)
    header, found = parse_header(cell, namespace_for(notebook.path, options)[0])
    params, param_problems = parameters_of(notebook)
    problems += found + [p for p in param_problems if p not in problems]
    if problems:
        return Conversion(notebook, tuple(problems), header=header)
    identity = flow_identity(notebook, options, header)
    inputs, input_problems = _inputs(params, header, header.cell)
    build = _Build(notebook, header, options, load_step, inputs)
    for requirement in header.requirements:
        if (why := requirement_problem(requirement)) is not None:
            build.problem(why, "requirements", "write one PEP 508 requirement per entry, e.g. pandas>=2")
    pipeline = build.pipeline(identity.file_name)
    image = header.image or task_image(options, identity.namespace)
    if options.install == "pip" and (why := image_python_problem(image)) is not None:
        build.problem(why, "image" if header.image else None, "use python:3.11 or newer")
    if runtime is None and any(step.uses_runtime for step in pipeline.steps):
        build.problem("this flow's notebooks import kernel_ext, but nbops was not given its runtime module to ship",
                      hint="convert through the service layer (services/project_flows.convert_notebook)")
    tasks = pipeline_tasks(pipeline, options, image=image, requirements=build.requirements, runtime=runtime)
    flow = Flow(identity.flow_id, identity.namespace, tuple(tasks), _description(header, notebook),
                frozen_map(header.labels), tuple(inputs), triggers=tuple(_triggers(header)),
                outputs=tuple(_outputs(header, pipeline.last_task, build)))
    for key in sorted(set(header.kestra) & {"id", "namespace"}):
        build.problem(f"kestra.{key} cannot be set: it decides where the flow file lives", "kestra",
                      "set id: in the header; the namespace comes from the notebook's folder")
    target = options.kestra
    problems = [*identity.problems, *input_problems, *build.problems,
                *(p.located(cell=params_cell.index if params_cell else None) for p in _default_problems(inputs, target))]
    if problems:
        return Conversion(notebook, tuple(problems), header=header, parameters=tuple(params))
    written = flow_to_dict(flow)  # defaults as written: what nbops run passes
    document = {**_kestra_inputs(written, target), **header.kestra}  # what Kestra reads
    flow_found = flow_problems(document, target=target)
    if flow_found:
        located = tuple(_locate(p, header, params, params_cell) for p in flow_found)
        return Conversion(notebook, located, header=header, parameters=tuple(params))
    # raw keys may change what the model says; the model keeps the defaults as written
    model = flow_from_dict({**written, **header.kestra}) if header.kestra else flow
    untagged = tuple((nb.path, cells) for nb in (notebook, *build.steps.values())
                     if (cells := nb.cells_needing_skip_tag()))
    return Conversion(notebook, (), document, model, flow_file(identity.namespace, identity.flow_id, options),
                      render_flow(document, notebook.path) if render else None, untagged, header, tuple(params),
                      namespace=model.namespace, flow_id=model.id, pipeline=pipeline,
                      requirements=tuple(build.requirements))
