"""What a run is: statuses, per-step records, executions (pure data; the store persists them)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..errors import ExitCode
from .model import EMPTY


class RunStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"  # a cell raised
    KERNEL_DIED = "KERNEL_DIED"
    TIMEOUT = "TIMEOUT"
    INTERRUPTED = "INTERRUPTED"  # Ctrl-C, or the batch was stopped

    @property
    def exit_code(self) -> ExitCode:
        return _EXIT_CODES[self]

    @property
    def finished(self) -> bool:
        return self is not RunStatus.RUNNING


# a distinct exit code per way a run can end (a run still RUNNING has not ended: a plain error)
_EXIT_CODES = {RunStatus.SUCCESS: ExitCode.OK, RunStatus.RUNNING: ExitCode.ERROR, RunStatus.FAILED: ExitCode.RUN_FAILED,
               RunStatus.KERNEL_DIED: ExitCode.KERNEL_DIED, RunStatus.TIMEOUT: ExitCode.TIMEOUT,
               RunStatus.INTERRUPTED: ExitCode.INTERRUPTED}


def worst(statuses: list[RunStatus]) -> RunStatus:
    """The status that sums up several: any failure beats success, an interruption beats all."""
    order = [RunStatus.SUCCESS, RunStatus.RUNNING, RunStatus.FAILED, RunStatus.TIMEOUT, RunStatus.KERNEL_DIED,
             RunStatus.INTERRUPTED]
    return max(statuses, key=order.index, default=RunStatus.SUCCESS)


@dataclass(frozen=True)
class CellError:
    """Where and how a notebook failed: the failing cell's index in the executed notebook."""

    cell: int | None
    name: str
    message: str
    traceback: str = ""


@dataclass(frozen=True)
class StepRecord:
    """One notebook of an execution (a single-notebook flow has one step, named after its task)."""

    step: str
    notebook: str  # repository-relative source notebook
    status: RunStatus
    started: float  # Unix time
    ended: float | None = None
    attempts: int = 1
    output_notebook: str | None = None  # .nbops/runs/<execution>/<step>.ipynb, repository-relative
    parameters: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    outputs: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    error: CellError | None = None
    warnings: tuple[str, ...] = ()  # what Kestra would do differently than a user may expect, e.g. drop an outputs line

    @property
    def duration(self) -> float | None:
        return None if self.ended is None else self.ended - self.started


@dataclass(frozen=True)
class ExecutionRecord:
    id: str
    namespace: str
    flow_id: str
    notebook: str
    parameters: Mapping[str, Any]
    status: RunStatus
    started: float
    ended: float | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    batch: str | None = None  # the sweep this execution belongs to
    steps: tuple[StepRecord, ...] = ()

    @property
    def duration(self) -> float | None:
        return None if self.ended is None else self.ended - self.started

    @property
    def outputs(self) -> dict[str, Any]:
        """Every step's outputs, later steps winning on equal names."""
        merged: dict[str, Any] = {}
        for step in self.steps:
            merged.update(step.outputs)
        return merged
