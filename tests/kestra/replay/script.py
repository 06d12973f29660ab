"""Building and running a Commands task's script (see the package README, "Running").

``beforeCommands`` and ``commands`` are rendered, ``set -e`` is put first when ``failFast`` (default
true), and everything is joined with newlines into one argument of the interpreter ``/bin/sh -c``
(K@58c1ca2d script/.../exec/AbstractExecScript.java:85-94,169-199; K@58c1ca2d
core/.../tasks/runners/ScriptService.java:148-160; PS@v0.21.2 and PS@v1.5.0
plugin-script-python/.../python/Commands.java ``run``: ``withBeforeCommandsWithOptions(true)``; K@09229b93
CommandsWrapper.java ``run``/``getBeforeCommandsWithOptions``). The task's environment: the image's, then
``env``, then ``PYTHONUNBUFFERED=true``, ``PIP_ROOT_USER_ACTION=ignore``, ``PIP_DISABLE_PIP_VERSION_CHECK=1``
(Commands.java ``run``), then ``WORKING_DIR`` (K@58c1ca2d core/.../tasks/runners/TaskRunner.java:85-109); the
working directory is the task's own. ``timeout`` kills the task."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .context import ExecutionContext
from .errors import NotEmulated
from .java_types import parse_duration
from .pebble import render


def build_script(ctx: ExecutionContext, task: Mapping[str, Any], extra: Mapping[str, Any], workdir: Path) -> list[str]:
    """The task's command line: the interpreter and the joined script (``ScriptService.scriptCommands``)."""
    variables = ctx.variables(task, extra)

    def rendered(key: str, default: Sequence[str] = ()) -> list[str]:
        value = task.get(key, default)
        if isinstance(value, str):
            value = [value]
        return [replace_internal_storage(ctx, render(str(c), variables), workdir) for c in value or []]
    interpreter = rendered("interpreter", ("/bin/sh", "-c"))
    before = rendered("beforeCommands")
    commands = rendered("commands")
    if task.get("targetOS", "AUTO") not in ("AUTO", "LINUX"):
        raise NotEmulated(f"targetOS {task['targetOS']}")
    effective = (["set -e"] + before) if task.get("failFast", True) is not False else before
    if not before and not interpreter:
        return commands
    return [*interpreter, "\n".join([*effective, *commands])]  # ScriptService.scriptCommands


def replace_internal_storage(ctx: ExecutionContext, command: str, workdir: Path) -> str:
    """``ScriptService.replaceInternalStorage``: each ``kestra://`` URI in a command becomes a local copy."""
    def local(match: re.Match[str]) -> str:
        copy = workdir / f"kestra-{uuid.uuid4().hex[:8]}"
        shutil.copyfile(ctx.fetch(match.group(1)), copy)
        return str(copy)
    return re.sub(r"(kestra:\/\/[-a-zA-Z0-9%._+~#=/]*)", local, command)


def task_environment(ctx: ExecutionContext, task: Mapping[str, Any], container: Path, workdir: Path) -> dict[str, str]:
    """The image's environment, then the task's rendered ``env``, then what Commands and the runner add."""
    env = ctx.image.environment(container)
    env.update({k: render(str(v), ctx.variables(task)) for k, v in (task.get("env") or {}).items()})
    env.update({"PYTHONUNBUFFERED": "true", "PIP_ROOT_USER_ACTION": "ignore", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                "WORKING_DIR": str(workdir)})
    return env


def unmet_dependency(ctx: ExecutionContext, task: Mapping[str, Any], env: Mapping[str, str],
                     workdir: Path) -> tuple[str, str] | None:
    """The first of the task's ``dependencies`` the image's pip finds unsatisfied, with pip's stderr; or None."""
    for requirement in task.get("dependencies") or []:  # plugin-scripts ≥0.23 installs them with uv: checked
        checked = subprocess.run([str(ctx.image.python), "-m", "pip", "install", "-q", str(requirement)],
                                 env=env, cwd=workdir, capture_output=True, text=True, check=False)
        if checked.returncode:
            return str(requirement), checked.stderr
    return None


def run_script(argv: Sequence[str], workdir: Path, env: Mapping[str, str],
               timeout: Any) -> tuple[str, str, int | None, str | None]:
    """Runs the command line in a process group of its own: (stdout, stderr, exit code, error). After
    ``timeout`` (an ISO-8601 duration) the group is killed: then the error says so and there is no exit code."""
    seconds = _duration_seconds(timeout)
    started = time.monotonic()
    process = subprocess.Popen(argv, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    error = None
    try:
        out, err = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the process group this replay started
        out, err = process.communicate()
        error = f"timeout after {timeout} ({time.monotonic() - started:.0f} s)"
    exit_code = process.returncode if error is None else None
    return out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), exit_code, error


def _duration_seconds(text: str | None) -> float | None:
    if not text:
        return None
    d = parse_duration(str(text))
    return d.seconds + d.nanos / 1e9
