"""A flow's local run plan: which notebooks run, in which groups, with which parameters, files
and upstream outputs, exactly mirroring the tasks of the Kestra flow nbops generates."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..adapters.notebooks import read_notebook
from ..adapters.project import Project
from ..core.convert import Conversion, parameters_of
from ..core.header import Step
from ..core.model import Retry, Task
from ..core.rules import duration_seconds


@dataclass(frozen=True)
class StepPlan:
    name: str  # the Kestra task id
    notebook: Path
    params: tuple[str, ...]  # flow inputs this step takes
    takes: tuple[tuple[str, str], ...] = ()  # (parameter, step) fed by an earlier step's output
    produces: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # namespace-file globs, relative to ``base``
    upstream_files: tuple[tuple[str, str], ...] = ()  # (file, step) written by an earlier step
    base: Path = Path(".")  # the flow notebook's folder: the namespace files' root


@dataclass(frozen=True)
class RunPlan:
    groups: tuple[tuple[StepPlan, ...], ...]  # run one after another; the steps of a group in parallel
    retry: Retry | None
    timeout: float | None

    @property
    def width(self) -> int:
        return max(len(g) for g in self.groups)


def _task_groups(tasks: tuple[Task, ...]) -> list[list[Task]]:
    return [list(t.tasks) if t.tasks else [t] for t in tasks]


def plan_for(project: Project, conv: Conversion) -> RunPlan:
    """The plan of a converted notebook (``conv`` must be a full, successful conversion)."""
    assert conv.flow is not None
    header, folder = conv.header, (project.root / conv.notebook.path).parent
    inputs = [i.id for i in conv.flow.inputs]
    retry = conv.flow.tasks[0].retry if conv.flow.tasks else None
    timeout = duration_seconds(header.timeout) if header.timeout else None
    if not header.steps:
        step = StepPlan(conv.flow.tasks[0].id, project.root / conv.notebook.path, tuple(inputs), files=header.files,
                        base=folder)
        return RunPlan(((step,),), retry, timeout)
    groups: list[tuple[StepPlan, ...]] = []
    vars_from: dict[str, str] = {}
    files_from: dict[str, str] = {}
    for group, tasks in zip(header.steps, _task_groups(conv.flow.tasks), strict=True):
        plans = tuple(_step_plan(folder, step, task, inputs, vars_from, files_from, header.files)
                      for step, task in zip(group.steps, tasks, strict=True))
        groups.append(plans)
        for plan in plans:
            vars_from.update((name, plan.name) for name in plan.outputs)
            files_from.update((file, plan.name) for file in plan.produces)
    return RunPlan(tuple(groups), retry, timeout)


def _step_plan(folder: Path, step: Step, task: Task, inputs: list[str], vars_from: dict[str, str],
               files_from: dict[str, str], files: tuple[str, ...]) -> StepPlan:
    source = read_notebook(folder / step.notebook, step.notebook)
    names = [p.name for p in parameters_of(source)[0]]
    takes = tuple((n, vars_from[n]) for n in names if n in vars_from)
    params = tuple(n for n in names if n in inputs and n not in vars_from)
    return StepPlan(task.id, folder / step.notebook, params, takes, step.produces, step.outputs, files,
                    tuple(files_from.items()), folder)
