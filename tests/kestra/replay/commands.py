"""The ``io.kestra.plugin.scripts.python.Commands`` task: its properties, ``retry``, each attempt in a
working directory of its own, and the state it ends in (see the package README, "Running" and "State").

A non-zero exit code is FAILED (Docker runner ``TaskException``, K@58c1ca2d
script/.../runner/docker/Docker.java:482-490); before 0.23 an exit code 0 with any stderr line is WARNING
unless the task sets ``warningOnStdErr: false`` (AbstractExecScript.java:69-76; ScriptOutput.java:47-49); from
0.23 the exit code alone decides (kestra-io/plugin-scripts#233). ``retry`` runs a failed task again up to
``maxAttempt`` attempts in all (TaskRun.java:266-279), without waiting the interval here."""
from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from .context import ExecutionContext
from .errors import NOT_EMULATED_MARK, InputError, NotEmulated, RenderError
from .outputs import read_task_log
from .script import build_script, run_script, task_environment, unmet_dependency
from .state import TaskRun
from .task_files import collect_output_files, load_namespace_files, write_input_files
from .versions import STDERR_WARNING_UNTIL, Version

COMMANDS_TYPES = {"io.kestra.plugin.scripts.python.Commands"}
_COMMANDS_KEYS = {"id", "type", "description", "containerImage", "namespaceFiles", "inputFiles", "outputFiles",
                  "beforeCommands", "commands", "env", "timeout", "retry", "warningOnStdErr", "interpreter",
                  "failFast", "taskRunner", "targetOS", "disabled", "dependencies", "packageManager", "pythonVersion",
                  "dependencyCacheEnabled"}
_SINCE_0_23 = {"dependencies", "packageManager", "pythonVersion", "dependencyCacheEnabled"}  # PS commit 09e9606e
_RUNNERS = ("io.kestra.plugin.scripts.runner.docker.Docker", "io.kestra.plugin.core.runner.Process")
_RETRY_KEYS = {"type", "maxAttempt", "interval", "maxInterval", "minInterval", "delayFactor", "maxDuration",
               "warningOnRetry", "behavior"}


def run_commands(ctx: ExecutionContext, task: Mapping[str, Any]) -> str:
    """Runs the task, attempt after attempt while it fails and ``retry`` allows; records its run; its state."""
    _check_emulated(ctx, task)
    retry = task.get("retry") or {}
    if set(retry) - _RETRY_KEYS or retry.get("behavior", "RETRY_FAILED_TASK") != "RETRY_FAILED_TASK":
        raise NotEmulated(f"task {task['id']}: retry {retry}")
    max_attempts = int(retry.get("maxAttempt", 1)) if retry else 1
    runs: list[TaskRun] = []
    for number in range(1, max_attempts + 1):  # TaskRun.nextRetryDate: attempts < maxAttempt (no waiting here)
        runs.append(attempt(ctx, task, number))
        if runs[-1].state != "FAILED":
            break
    run = runs[-1]
    run.earlier = runs[:-1]
    if run.state == "SUCCESS" and run.attempts > 1 and retry.get("warningOnRetry"):
        run.state = "WARNING"
    ctx.task_runs[task["id"]] = run
    return run.state


def _check_emulated(ctx: ExecutionContext, task: Mapping[str, Any]) -> None:
    """Raises NotEmulated for a property this harness does not know (or that the version does not have)
    and for a task runner other than Docker or Process."""
    unknown = set(task) - _COMMANDS_KEYS
    if ctx.version < Version(0, 23):
        unknown |= set(task) & _SINCE_0_23
    if unknown:
        raise NotEmulated(f"task {task['id']}: properties {sorted(unknown)}")
    runner = (task.get("taskRunner") or {}).get("type", "io.kestra.plugin.scripts.runner.docker.Docker")
    if set(task.get("taskRunner") or {}) - {"type"} or runner not in _RUNNERS:
        raise NotEmulated(f"task {task['id']}: taskRunner {task.get('taskRunner')}")


def attempt(ctx: ExecutionContext, task: Mapping[str, Any], number: int) -> TaskRun:
    """One attempt of the task, in a working directory (and a fake container) of its own."""
    task_id = task["id"]
    container = ctx.work / "containers" / f"{task_id}-{number}"
    workdir = ctx.work / "workers" / f"{task_id}-{number}"
    workdir.mkdir(parents=True)
    run = TaskRun(task_id, "RUNNING", attempts=number, workdir=workdir)
    extra = {"workingDir": str(workdir)}  # Docker/Process runnerAdditionalVars (Docker.java:581)
    try:
        load_namespace_files(ctx, task, workdir)
        write_input_files(ctx, task, workdir, extra)
        argv = build_script(ctx, task, extra, workdir)
    except (RenderError, FileNotFoundError, InputError) as exc:
        run.state, run.error = "FAILED", f"{type(exc).__name__}: {exc}"
        return run
    run.script = argv
    env = task_environment(ctx, task, container, workdir)
    unmet = unmet_dependency(ctx, task, env, workdir)
    if unmet is not None:
        requirement, run.stderr = unmet
        run.state, run.error = "FAILED", f"dependency {requirement}"
        return run
    run.stdout, run.stderr, run.exit_code, run.error = run_script(argv, workdir, env, task.get("timeout"))
    if ctx.echo:
        sys.stderr.write(run.stdout + run.stderr)
    if NOT_EMULATED_MARK in run.stderr:
        raise NotEmulated(run.stderr.split(NOT_EMULATED_MARK, 1)[1].splitlines()[0].strip())
    run.vars, run.stdout_lines, run.stderr_lines = read_task_log(run.stdout, run.stderr)
    run.output_files = collect_output_files(ctx, task, workdir, extra)
    run.state = _final_state(ctx, task, run)
    return run


def _final_state(ctx: ExecutionContext, task: Mapping[str, Any], run: TaskRun) -> str:
    """The state of an attempt whose commands ran."""
    if run.error is not None or run.exit_code != 0:
        return "FAILED"
    if ctx.version < STDERR_WARNING_UNTIL and task.get("warningOnStdErr", True) is not False \
            and run.stderr_lines > 0:
        return "WARNING"  # ScriptOutput.finalState (0.21)
    return "SUCCESS"
