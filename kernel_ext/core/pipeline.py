"""A flow's pipeline: which notebooks run, in which groups, fed by which inputs, earlier outputs and
files. The converter builds it once; the Kestra tasks are emitted from it and ``nbops run`` follows
it, so the local run and the generated flow cannot disagree."""
from __future__ import annotations

from dataclasses import dataclass

from .kernel_choice import KernelChoice
from .model import Retry


@dataclass(frozen=True)
class PipelineStep:
    """One notebook task. Paths are relative to the flow notebook's folder (the namespace files' root)."""

    task_id: str  # the Kestra task id, and the step's name in the run history
    notebook: str
    feeds: tuple[tuple[str, str | None], ...] = ()  # (parameter, producing task id; None: the flow input)
    produces: tuple[str, ...] = ()  # files later steps read
    outputs: tuple[str, ...] = ()  # outputs later steps take as parameters
    files: tuple[str, ...] = ()  # namespace-file globs it reads
    upstream_files: tuple[tuple[str, str], ...] = ()  # (file, producing task id)
    uses_runtime: bool = False  # its notebook imports kernel_ext: the task ships kernel_ext/runtime.py
    kernel: KernelChoice = KernelChoice()  # the kernel it runs in (its notebook's), and that kernel's image

    @property
    def params(self) -> tuple[str, ...]:
        """The flow inputs it takes."""
        return tuple(name for name, task in self.feeds if task is None)

    @property
    def takes(self) -> tuple[tuple[str, str], ...]:
        """(parameter, producing task id) fed by an earlier step's output."""
        return tuple((name, task) for name, task in self.feeds if task is not None)


@dataclass(frozen=True)
class PipelineGroup:
    """Steps that run together; ``parallel_id`` names the Kestra Parallel task holding them, if any."""

    steps: tuple[PipelineStep, ...]
    parallel_id: str | None = None


@dataclass(frozen=True)
class Pipeline:
    groups: tuple[PipelineGroup, ...]  # one after another; the steps of a group in parallel
    retry: Retry | None = None  # every step's policy
    timeout: str | None = None  # every step's, an ISO-8601 duration

    @property
    def steps(self) -> tuple[PipelineStep, ...]:
        return tuple(step for group in self.groups for step in group.steps)

    @property
    def width(self) -> int:
        """The most steps that run at once."""
        return max((len(g.steps) for g in self.groups), default=1)

    @property
    def last_task(self) -> str | None:
        """The task whose outputs the flow's outputs default to."""
        return self.groups[-1].steps[-1].task_id if self.groups else None
