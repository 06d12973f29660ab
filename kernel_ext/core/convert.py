"""Notebook → Kestra flow: header + parameters cell + defaults → validated flow document, and the
pipeline (core/pipeline.py) its tasks are emitted from and ``nbops run`` follows. The pipeline is
wired in core/flow_build.py, the flow's inputs, triggers and outputs made in core/flow_fields.py;
:func:`convert` assembles, validates and renders the flow."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import Problem
from .emit import render_flow
from .flow_build import FlowBuild, StepLoader, no_steps
from .flow_fields import (as_written, default_problems, find_cells, flow_description, flow_inputs, flow_outputs,
                          flow_triggers, kestra_inputs, parameters_of)
from .flow_validation import flow_problems
from .header import Header, parse_header
from .identity import flow_file, flow_identity, namespace_for, snake_case
from .mapping import flow_from_dict, flow_to_dict
from .model import Flow, frozen_map
from .notebook import Cell, NotebookSource
from .options import Options
from .parameters_cell import Parameter
from .pipeline import Pipeline
from .requirements import image_python_problem, requirement_problem
from .tasks import pipeline_tasks, task_image

# snake_case, namespace_for and flow_file live in .identity, no_steps in .flow_build, as_written and
# parameters_of in .flow_fields; their importers find them here too
__all__ = ["Conversion", "as_written", "convert", "flow_file", "namespace_for", "no_steps", "parameters_of", "snake_case"]


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
    cell, params_cell, problems = find_cells(notebook)
    header, found = parse_header(cell, namespace_for(notebook.path, options)[0])
    params, param_problems = parameters_of(notebook)
    problems += found + [p for p in param_problems if p not in problems]
    if problems:
        return Conversion(notebook, tuple(problems), header=header)
    identity = flow_identity(notebook, options, header)
    inputs, input_problems = flow_inputs(params, header, header.cell)
    build = FlowBuild(notebook, header, options, load_step, inputs)
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
    flow = Flow(identity.flow_id, identity.namespace, tuple(tasks), flow_description(header, notebook),
                frozen_map(header.labels), tuple(inputs), triggers=tuple(flow_triggers(header)),
                outputs=tuple(flow_outputs(header, pipeline.last_task, build)))
    for key in sorted(set(header.kestra) & {"id", "namespace"}):
        build.problem(f"kestra.{key} cannot be set: it decides where the flow file lives", "kestra",
                      "set id: in the header; the namespace comes from the notebook's folder")
    target = options.kestra
    problems = [*identity.problems, *input_problems, *build.problems,
                *(p.located(cell=params_cell.index if params_cell else None) for p in default_problems(inputs, target))]
    if problems:
        return Conversion(notebook, tuple(problems), header=header, parameters=tuple(params))
    written = flow_to_dict(flow)  # defaults as written: what nbops run passes
    document = {**kestra_inputs(written, target), **header.kestra}  # what Kestra reads
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
