"""The wiring of one notebook's pipeline (core/pipeline.py): which notebooks run, in which groups,
fed by what (flow inputs, earlier steps' outputs and files), with the problems found on the way."""
from __future__ import annotations

from collections.abc import Callable, Mapping

from ..errors import Problem
from .flow_fields import parameters_of
from .header import Header, Step
from .identity import snake_case
from .kernel_choice import kernel_choice
from .mapping import retry_from_dict
from .model import Input
from .notebook import NotebookSource
from .options import Options
from .pipeline import Pipeline, PipelineGroup, PipelineStep
from .requirements import flow_requirements, requirement_conflicts
from .tasks import SAFE_FILE_NAME

StepLoader = Callable[[str], "NotebookSource | None"]  # step path (relative to the notebook) → notebook


def no_steps(path: str) -> NotebookSource | None:
    return None


class FlowBuild:
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
