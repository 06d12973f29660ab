"""Task runs and executions, and their states (see the package README, "State").

The execution's state is the worst of its task runs (K@58c1ca2d core/.../models/executions/Execution.java:564-594)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .jackson import round_trip
from .versions import Version

TERMINAL_STATES = ("SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "RETRIED", "SKIPPED")  # State.java:215-217
_STATE_ORDER = ("KILLED", "FAILED", "WARNING", "PAUSED")  # Execution.guessFinalState, Execution.java:564-594


def worst_state(states: Iterable[str]) -> str:
    states = list(states)
    return next((s for s in _STATE_ORDER if s in states), "SUCCESS")


@dataclass
class TaskRun:
    task_id: str
    state: str
    attempts: int = 0
    exit_code: int | None = None
    vars: dict[str, Any] = field(default_factory=dict)
    output_files: dict[str, str] = field(default_factory=dict)  # name → kestra:// URI
    stdout: str = ""
    stderr: str = ""
    stdout_lines: int = 0
    stderr_lines: int = 0
    workdir: Path | None = None
    script: list[str] = field(default_factory=list)
    error: str | None = None  # why it failed before or around the commands (rendering, a missing file, timeout)
    earlier: list[TaskRun] = field(default_factory=list)  # the failed attempts before this one (retry)

    def outputs(self) -> dict[str, Any]:
        """``outputs.<task>`` as later expressions see it (ScriptOutput, through JSON)."""
        return round_trip({"vars": self.vars, "exitCode": self.exit_code if self.exit_code is not None else 0,
                           "outputFiles": self.output_files})


@dataclass
class ExecutionResult:
    flow_id: str
    namespace: str
    version: Version
    state: str
    inputs: dict[str, Any]
    task_runs: dict[str, TaskRun]
    outputs: dict[str, Any] | None  # the flow's typed outputs; None when they failed to render
    error: str | None = None  # inputs refused, or the flow outputs' rendering error
    labels: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"{self.namespace}.{self.flow_id} on Kestra {self.version}: {self.state}"
                 + (f" ({self.error})" if self.error else "")]
        for run in self.task_runs.values():
            lines.append(f"  {run.task_id}: {run.state} exit={run.exit_code} attempts={run.attempts}"
                         f" stderr_lines={run.stderr_lines}" + (f" error={run.error}" if run.error else ""))
            for earlier in run.earlier:
                lines.append(f"    attempt {earlier.attempts}: {earlier.state} exit={earlier.exit_code} error={earlier.error}")
                lines += ["      stderr: " + s for s in earlier.stderr.splitlines()[-15:]]
            if run.state != "SUCCESS":
                lines += ["    stderr: " + s for s in run.stderr.splitlines()[-15:]]
        return "\n".join(lines)
