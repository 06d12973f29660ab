"""The Kestra tasks that run notebooks with papermill (kestra-reference.md §5).

User values never reach the shell line: parameters travel in ``params.json`` (a Pebble template of
``toJson`` filters over the flow's inputs) and requirements in ``requirements.txt``, both passed as
``inputFiles``; the only command-line words are fixed flags, shell-quoted file names and one fixed
program (:data:`PARAMS_TO_YAML`).

Why that program: ``toJson`` is Jackson, which writes a double of 1e7 or more, or below 1e-3, in
E notation (``1.23456785E7``, ``1.0E-7``: ``Double.toString``), and papermill reads
``--parameters_file`` with a YAML 1.1 loader (papermill ``cli.py``/``iorw.read_yaml_file``:
``NoDatesSafeLoader``), where ``1.23456785E7`` (no sign in the exponent) is a *string*. So the task
reads ``params.json`` with a JSON parser and writes the values with PyYAML's dumper, which that
loader reads back exactly (the same resolvers on both sides); papermill then gets the very values
``nbops run`` hands its API (tests/core/test_kestra_transport.py).
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from .kestra_version import Feature, KestraVersion, has
from .kernel_choice import KernelChoice
from .model import Retry, Task, frozen_map
from .options import Options
from .pipeline import Pipeline, PipelineStep

COMMANDS = "io.kestra.plugin.scripts.python.Commands"
PARALLEL = "io.kestra.plugin.core.flow.Parallel"
PARAMS_FILE = "params.json"
PARAMS_YAML = "params.yaml"  # what papermill reads: params.json re-written by a YAML dumper
RUNTIME_FILE = "kernel_ext.py"  # kernel_ext/runtime.py's text, for notebooks that import kernel_ext
# static (no user value, no Pebble delimiters): params.json → params.yaml, with the container's Python
# sort_keys=False: papermill injects the parameters in the file's order, which is the notebook's (as nbops run)
PARAMS_TO_YAML = (f'import json, pathlib, yaml; text = pathlib.Path("{PARAMS_FILE}").read_text(encoding="utf-8"); '
                  f'pathlib.Path("{PARAMS_YAML}").write_text('
                  'yaml.safe_dump(json.loads(text), sort_keys=False), encoding="utf-8")')
REQUIREMENTS_FILE = "requirements.txt"
CONSTRAINTS_FILE = "constraints.txt"
SAFE_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_ ./-]*\Z")


def params_template(sources: Mapping[str, str]) -> str:
    """A JSON object Kestra renders: for each parameter, ``toJson`` of its source expression
    (``inputs.x`` for a flow input, ``outputs.<task>.vars.x`` for an earlier step's output)."""
    fields = ", ".join(f'"{name}": {{{{ {source} | toJson }}}}' for name, source in sources.items())
    return "{" + fields + "}"


def input_source(name: str) -> str:
    """An input's expression: null when the input has no value (an optional input left empty is
    absent from ``inputs``, and Kestra renders with strict variables; ``??`` is Kestra's
    null-coalescing operator, K core/.../runners/pebble/Extension.java:68)."""
    return f"(inputs.{name} ?? null)"


def output_source(task_id: str, name: str) -> str:
    return f"outputs.{task_id}.vars.{name}"


def papermill_command(notebook: str, output: str, kernel: str, with_params: bool) -> str:
    words = ["papermill", notebook, output, "--kernel", kernel]
    if with_params:
        words += ["--parameters_file", PARAMS_YAML]
    words += ["--stdout-file", "/dev/stdout", "--no-progress-bar", "--log-level", "WARNING"]
    return shlex.join(words)


def params_commands(with_params: bool) -> list[str]:
    """What turns the rendered ``params.json`` into the file papermill reads (none without parameters)."""
    return [shlex.join(["python", "-c", PARAMS_TO_YAML])] if with_params else []


def output_file_ref(task_id: str, file: str) -> str:
    """The Kestra expression of a file another task kept with ``outputFiles``."""
    return f"{{{{ outputs.{task_id}.outputFiles['{file}'] }}}}"


def stderr_properties(target: KestraVersion) -> dict[str, Any]:
    """What keeps stderr from deciding the task's state on ``target``.

    Before Kestra 0.23 a script task that exits 0 but wrote to stderr ends WARNING
    (``warningOnStdErr`` defaults to true: kestra-io/kestra@58c1ca2d script/.../exec/AbstractExecScript.java:76,
    exec/scripts/models/ScriptOutput.java:49), and ipykernel writes to stderr at every kernel start, so
    the task (and the Flow trigger of an ``after:`` flow waiting for SUCCESS) would never succeed. From
    0.23 the exit code alone decides and the property is deprecated and ignored (kestra-io/kestra PR
    #8321, kestra-io/plugin-scripts@9220b015, docs migration-guide/v0.23.0/script-warnings), so it is
    left out. Either way a failing cell still fails the task: papermill exits non-zero and a non-zero
    exit is FAILED on every version."""
    return {"warningOnStdErr": False} if has(target, Feature.STDERR_MAKES_WARNING) else {}


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
                  produces: Sequence[str] = (), runtime: str | None = None,
                  kernel: KernelChoice | None = None) -> Task:
    """One Commands task running ``notebook`` (a namespace-file path) with papermill. Files that
    earlier tasks produced arrive through ``inputFiles``; the files this one produces leave
    through ``outputFiles`` (each Kestra task has a working folder of its own). ``runtime`` is the
    text of the module ``kernel_ext`` the notebook imports, shipped as ``kernel_ext.py``."""
    output = f"{task_id}.output.ipynb"
    container, kernel_name, install = kernel_runtime(kernel, options, image)
    input_files = {**(upstream_files or {}), **(install_files(requirements, options) if install else {})}
    if params:
        input_files[PARAMS_FILE] = params_template(params)
    if runtime is not None:
        input_files[RUNTIME_FILE] = runtime
    properties = {
        "containerImage": container,
        "namespaceFiles": {"enabled": True, "include": list(dict.fromkeys([notebook, *files]))},
        "inputFiles": dict(sorted(input_files.items())),
        "beforeCommands": install_commands(options) if install else [],
        "commands": [*params_commands(bool(params)),
                     papermill_command(notebook, output, kernel_name, bool(params))],
        **stderr_properties(options.kestra),
        "outputFiles": [output, *produces],
    }
    if not properties["inputFiles"]:
        del properties["inputFiles"]
    if not properties["beforeCommands"]:
        del properties["beforeCommands"]
    return Task(task_id, COMMANDS, frozen_map(properties), retry=retry, timeout=timeout)


def task_image(options: Options, namespace: str) -> str:
    """The ``containerImage`` of a flow's tasks when its header names none: ``[tool.nbops] image``,
    ``{namespace}`` replaced by the flow's namespace (one image per namespace, see ``nbops image``)."""
    return options.image.replace("{namespace}", namespace)


def install_files(requirements: Sequence[str], options: Options) -> dict[str, str]:
    """The ``inputFiles`` the install step reads: ``requirements.txt`` and, when the project has one,
    ``constraints.txt``; none when the image already has everything (``install = "image"``).
    Kestra renders ``inputFiles`` values as Pebble: requirements and constraints were checked to
    hold no delimiter (core/requirements.py)."""
    if options.install == "image":
        return {}
    files = {REQUIREMENTS_FILE: "".join(f"{r}\n" for r in requirements)}
    if options.constraint_lines:
        files[CONSTRAINTS_FILE] = "".join(f"{c}\n" for c in options.constraint_lines)
    return files


def install_commands(options: Options) -> list[str]:
    """The ``beforeCommands`` that install the requirements in the task's container at run time;
    none with ``install = "image"``. pip's notices (a newer pip, running as root) need no flags:
    the Python Commands task sets ``PIP_ROOT_USER_ACTION=ignore`` and
    ``PIP_DISABLE_PIP_VERSION_CHECK=1`` itself since plugin-scripts 0.15 (kestra-io/plugin-scripts@f1982b24
    plugin-script-python/src/main/java/io/kestra/plugin/scripts/python/Commands.java:336-337)."""
    if options.install == "image":
        return []
    words = ["pip", "install", "--quiet", "--requirement", REQUIREMENTS_FILE]
    if options.constraint_lines:
        words += ["--constraint", CONSTRAINTS_FILE]
    return [shlex.join(words)]


def parallel_task(task_id: str, children: Sequence[Task]) -> Task:
    return Task(task_id, PARALLEL, tasks=tuple(children))


def step_task(step: PipelineStep, pipeline: Pipeline, options: Options, *, image: str | None,
              requirements: Sequence[str], runtime: str | None = None) -> Task:
    sources = {name: output_source(task, name) if task else input_source(name) for name, task in step.feeds}
    upstream = {file: output_file_ref(task, file) for file, task in step.upstream_files}
    return notebook_task(step.task_id, step.notebook, sources, options, image=image, requirements=requirements,
                         retry=pipeline.retry, timeout=pipeline.timeout, files=step.files, upstream_files=upstream,
                         produces=step.produces, runtime=runtime if step.uses_runtime else None,
                         kernel=step.kernel)


def pipeline_tasks(pipeline: Pipeline, options: Options, *, image: str | None,
                   requirements: Sequence[str], runtime: str | None = None) -> list[Task]:
    """The flow's tasks: a Commands task per step, the steps of a parallel group inside a Parallel task."""
    tasks: list[Task] = []
    for group in pipeline.groups:
        children = [step_task(s, pipeline, options, image=image, requirements=requirements, runtime=runtime)
                    for s in group.steps]
        if group.parallel_id is not None:
            tasks.append(parallel_task(group.parallel_id, children))
        else:
            tasks.extend(children)
    return tasks
