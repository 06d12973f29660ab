"""Replaying a flow: its inputs, its tasks in order (``Parallel``/``Sequential`` groups included), the
execution's state and the flow's outputs (see the package README, "State" and "Outputs").

A failed task ends the execution once its ``Parallel`` group is done (all its children were started);
children of a Parallel are run one after the other here, not at the same time. The execution's state is
the worst of its task runs (K@58c1ca2d core/.../models/executions/Execution.java:564-594). The flow's
``outputs`` are rendered at the end even after a failure; a rendering or typing error turns the execution
FAILED (K@58c1ca2d core/.../runners/ExecutorService.java:369-397, FlowInputOutput.typedOutputs)."""
from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .commands import COMMANDS_TYPES, run_commands
from .context import ExecutionContext
from .errors import InputError, NotEmulated, RenderError
from .flow_yaml import load_flow
from .image import FakeImage, default_image
from .inputs import resolve_inputs
from .jackson import round_trip
from .java_types import parse_type
from .pebble import render
from .state import ExecutionResult, worst_state
from .versions import Version

PARALLEL_TYPES = {"io.kestra.plugin.core.flow.Parallel", "io.kestra.core.tasks.flows.Parallel"}
SEQUENTIAL_TYPES = {"io.kestra.plugin.core.flow.Sequential", "io.kestra.core.tasks.flows.Sequential"}
_FLOW_KEYS = {"id", "namespace", "description", "labels", "inputs", "tasks", "triggers", "outputs", "disabled",
              "concurrency", "revision"}


def run_tasks(ctx: ExecutionContext, tasks: Sequence[Mapping[str, Any]]) -> str:
    for task in tasks:
        state = run_task(ctx, task)
        if state == "FAILED":
            return "FAILED"
    return "SUCCESS"


def run_task(ctx: ExecutionContext, task: Mapping[str, Any]) -> str:
    kind = task.get("type")
    if task.get("disabled"):
        return "SUCCESS"
    if task.get("allowFailure") or task.get("allowWarning") or task.get("runIf"):
        raise NotEmulated(f"task {task['id']}: allowFailure/allowWarning/runIf")
    if kind in COMMANDS_TYPES:
        return run_commands(ctx, task)
    if kind in PARALLEL_TYPES | SEQUENTIAL_TYPES:
        children = task.get("tasks") or []
        states = []
        for child in children:  # a Parallel's children all start; here one after the other
            state = run_task(ctx, child)
            states.append(state)
            if state == "FAILED" and kind in SEQUENTIAL_TYPES:
                break
        state = worst_state(states)
        ctx.parent_states.append(state)
        return state
    raise NotEmulated(f"task type {kind}")


def flow_outputs(ctx: ExecutionContext) -> tuple[dict[str, Any] | None, str | None]:
    """The flow's typed outputs, or (None, why) when they fail to render or to be typed."""
    declared = ctx.flow.get("outputs")
    if declared is None:
        return {}, None
    variables = ctx.base_variables()
    variables["inputs"] = ctx.inputs
    variables["outputs"] = {tid: run.outputs() for tid, run in ctx.task_runs.items() if run.attempts}
    typed: dict[str, Any] = {}
    try:
        for output in declared:
            text = render(str(output["value"]), variables)
            kind = output.get("type")
            typed[output["id"]] = text if kind is None else parse_type(str(kind), text, ctx.version)
    except (RenderError, InputError) as exc:
        return None, f"Failed to render output values: {exc}"
    return round_trip(typed), None


def replay(flow: Mapping[str, Any] | Path, *, project_root: Path, version: Version | str, work: Path,
           inputs: Mapping[str, Any] | None = None, image: FakeImage | None = None, echo: bool = False) -> ExecutionResult:
    """Run ``flow`` as Kestra ``version`` would, with namespace files from ``project_root``'s notebooks.

    ``inputs`` are the execution's inputs as given to Kestra (text as from the API, or typed values as a
    trigger passes them); missing ones take their defaults. A folder of ``work`` holds the working
    directories and the stand-in for internal storage."""
    flow = load_flow(flow) if isinstance(flow, Path) else dict(flow)
    version = Version.of(version)
    unknown = set(flow) - _FLOW_KEYS
    if unknown:
        raise NotEmulated(f"flow properties {sorted(unknown)}")
    execution_id = uuid.uuid4().hex[:22]
    ctx = ExecutionContext(flow, project_root, version, work / f"{flow['id']}-{execution_id[:8]}",
                           image or default_image(), execution_id, echo)
    labels = {str(k): str(v) for k, v in (flow.get("labels") or {}).items()} if isinstance(flow.get("labels"), Mapping) else {}
    try:
        ctx.inputs = resolve_inputs(flow, inputs, version, ctx.base_variables())
    except (InputError, RenderError) as exc:
        return ExecutionResult(flow["id"], flow["namespace"], version, "FAILED", {}, {}, None, str(exc), labels)
    run_tasks(ctx, flow.get("tasks") or [])
    final = worst_state([run.state for run in ctx.task_runs.values()] + ctx.parent_states)
    outputs, error = flow_outputs(ctx)
    if error is not None:
        final = "FAILED"  # ExecutorService.onEnd (K@58c1ca2d ExecutorService.java:377-396)
    return ExecutionResult(flow["id"], flow["namespace"], version, final, ctx.inputs, ctx.task_runs, outputs,
                           error, labels)
