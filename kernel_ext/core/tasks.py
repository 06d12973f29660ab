"""The Kestra tasks that run notebooks with papermill (kestra-reference.md §5).

User values never reach the shell line: parameters travel in ``params.json`` (a Pebble template of
``toJson`` filters over the flow's inputs) and requirements in ``requirements.txt``, both passed as
``inputFiles``; the only command-line words are fixed flags and shell-quoted file names.
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence

from .kernel_choice import KernelChoice
from .model import Retry, Task, frozen_map
from .options import Options
from .pipeline import Pipeline, PipelineStep

COMMANDS = "io.kestra.plugin.scripts.python.Commands"
PARALLEL = "io.kestra.plugin.core.flow.Parallel"
RUNNER_REQUIREMENTS = ("papermill", "ipykernel")  # what running a notebook needs, always installed
PARAMS_FILE = "params.json"
REQUIREMENTS_FILE = "requirements.txt"
SAFE_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_ ./-]*\Z")


def params_template(sources: Mapping[str, str]) -> str:
    """A JSON object Kestra renders: for each parameter, ``toJson`` of its source expression
    (``inputs.x`` for a flow input, ``outputs.<task>.vars.x`` for an earlier step's output)."""
    fields = ", ".join(f'"{name}": {{{{ {source} | toJson }}}}' for name, source in sources.items())
    return "{" + fields + "}"


def input_source(name: str) -> str:
    return f"inputs.{name}"


def output_source(task_id: str, name: str) -> str:
    return f"outputs.{task_id}.vars.{name}"


def papermill_command(notebook: str, output: str, kernel: str, with_params: bool) -> str:
    words = ["papermill", notebook, output, "--kernel", kernel]
    if with_params:
        words += ["--parameters_file", PARAMS_FILE]
    words += ["--stdout-file", "/dev/stdout", "--no-progress-bar", "--log-level", "WARNING"]
    return shlex.join(words)


def output_file_ref(task_id: str, file: str) -> str:
    """The Kestra expression of a file another task kept with ``outputFiles``."""
    return f"{{{{ outputs.{task_id}.outputFiles['{file}'] }}}}"


def kernel_runtime(kernel: KernelChoice | None, options: Options, image: str | None) -> tuple[str, str, bool]:
    """(containerImage, ``--kernel`` name, whether a pip install step runs) for a notebook in
    ``kernel``: a kernel configured in ``[tool.nbops.kernels]`` runs in its own image; otherwise
    the header's ``image`` or ``[tool.nbops] image``, with ``[tool.nbops] kernel``. The task stays a
    python.Commands task whatever the kernel: papermill is a Python program, and the task only runs
    its commands (after ``beforeCommands``) with ``sh -c`` in ``containerImage``
    (kestra-io/plugin-scripts@f1982b24af050f73df8d77035fea3914504d5f34:
    plugin-script-python/src/main/java/io/kestra/plugin/scripts/python/Commands.java, run())."""
    kernel = kernel or KernelChoice(options.kernel)
    return kernel.image or image or options.image, kernel.name, kernel.install


def notebook_task(task_id: str, notebook: str, params: Mapping[str, str], options: Options, *, image: str | None,
                  requirements: Sequence[str], retry: Retry | None, timeout: str | None,
                  files: Sequence[str] = (), upstream_files: Mapping[str, str] | None = None,
                  produces: Sequence[str] = (), kernel: KernelChoice | None = None) -> Task:
    """One Commands task running ``notebook`` (a namespace-file path) with papermill. Files that
    earlier tasks produced arrive through ``inputFiles``; the files this one produces leave
    through ``outputFiles`` (each Kestra task has a working folder of its own)."""
    output = f"{task_id}.output.ipynb"
    container, kernel_name, install = kernel_runtime(kernel, options, image)
    input_files = dict(upstream_files or {})
    if install:
        input_files[REQUIREMENTS_FILE] = "".join(f"{r}\n" for r in requirements)
    if params:
        input_files[PARAMS_FILE] = params_template(params)
    properties = {
        "containerImage": container,
        "namespaceFiles": {"enabled": True, "include": list(dict.fromkeys([notebook, *files]))},
        "inputFiles": dict(sorted(input_files.items())),
        "beforeCommands": [f"pip install --quiet --requirement {REQUIREMENTS_FILE}"] if install else None,
        "commands": [papermill_command(notebook, output, kernel_name, bool(params))],
        "outputFiles": [output, *produces],
    }
    properties = {key: value for key, value in properties.items() if value}  # no empty inputFiles/beforeCommands
    return Task(task_id, COMMANDS, frozen_map(properties), retry=retry, timeout=timeout)


def parallel_task(task_id: str, children: Sequence[Task]) -> Task:
    return Task(task_id, PARALLEL, tasks=tuple(children))


def step_task(step: PipelineStep, pipeline: Pipeline, options: Options, *, image: str | None,
              requirements: Sequence[str]) -> Task:
    sources = {name: output_source(task, name) if task else input_source(name) for name, task in step.feeds}
    upstream = {file: output_file_ref(task, file) for file, task in step.upstream_files}
    return notebook_task(step.task_id, step.notebook, sources, options, image=image, requirements=requirements,
                         retry=pipeline.retry, timeout=pipeline.timeout, files=step.files, upstream_files=upstream,
                         produces=step.produces, kernel=step.kernel)


def pipeline_tasks(pipeline: Pipeline, options: Options, *, image: str | None,
                   requirements: Sequence[str]) -> list[Task]:
    """The flow's tasks: a Commands task per step, the steps of a parallel group inside a Parallel task."""
    tasks: list[Task] = []
    for group in pipeline.groups:
        children = [step_task(s, pipeline, options, image=image, requirements=requirements) for s in group.steps]
        if group.parallel_id is not None:
            tasks.append(parallel_task(group.parallel_id, children))
        else:
            tasks.extend(children)
    return tasks
