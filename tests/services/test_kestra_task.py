"""An exported task, run as Kestra runs it, gives the kernel the values ``nbops run`` gives it, and
needs no nbops: its working folder holds only its ``inputFiles`` (``params.json`` rendered as
Kestra's ``toJson`` writes it) and its namespace files, and its ``commands`` run with ``sh -c`` and
``set -e`` in a Python environment where nbops cannot be imported (issue 11, points 2 and 8).

Not replayed here: ``beforeCommands`` (the ``pip install`` of the requirements; the environment
already has papermill and ipykernel) and the Docker container.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kestra_jackson as kj
import pytest
import yaml
from conftest import Repo
from test_examples import _nbops_free_environment

from kernel_ext.core.outputs import read_outputs
from kernel_ext.core.tasks import PARAMS_FILE, RUNTIME_FILE

pytestmark = pytest.mark.slow
_SLOT = re.compile(r"\{\{ \(inputs\.(\w+) \?\? null\) \| toJson \}\}")
PARAMS = ("big = 12345678.5\ntiny = 1e-7\nlabel = 'say \"hi\" {{ not pebble }} \\\\ é'\n"
          "when = '2024-01-31T06:00:00+02:00'\nconfig = {'a': None, 'b': [1, None, 2.5e-8]}\n")
BODY = ("import kernel_ext\n"
        "kernel_ext.output(big=big, tiny=tiny, label=label, when=when, config=config,\n"
        "                  types=[type(v).__name__ for v in (big, tiny, label, when, config)])\n")


def kestra_inputs_from_defaults() -> dict[str, Any]:
    """The inputs of the flow below as Kestra types its defaults (``FlowInputOutput.parseType``):
    a FLOAT is a Float made from the Double's text, a DATETIME an Instant, a JSON a Map."""
    def as_float(number: float) -> kj.JFloat:
        return kj.JFloat(kj.java_float_value_of(kj.double_to_string(number)))
    return {"big": as_float(12345678.5), "tiny": as_float(1e-7), "label": 'say "hi" {{ not pebble }} \\ é',
            "when": "2024-01-31T04:00:00Z", "config": kj.java_json('{"a": null, "b": [1, null, 2.5e-8]}')}


def task_folder(repo: Repo, flow: str, folder: Path, inputs: dict[str, Any]) -> dict[str, Any]:
    """The working folder Kestra gives the flow's first task: its inputFiles (params.json rendered
    with Jackson's output) and the namespace files it includes; returns the task."""
    task = yaml.safe_load((repo.root / "_flows" / flow).read_text(encoding="utf-8"))["tasks"][0]
    folder.mkdir(parents=True)
    for name, content in task["inputFiles"].items():
        if name == PARAMS_FILE:
            content = _SLOT.sub(lambda m: kj.to_json_filter(inputs.get(m.group(1))), content)
        (folder / name).write_text(content, encoding="utf-8")
    namespace = repo.root / "notebooks" / Path(flow).parent
    for pattern in task["namespaceFiles"]["include"]:
        for path in namespace.glob(pattern):
            shutil.copy(path, folder / path.relative_to(namespace))
    return task


def run_commands(task: dict[str, Any], folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``sh -c`` over the task's commands with ``set -e``, as the Commands task runs them."""
    script = "\n".join(["set -e", *task["commands"]])
    assert "{{" not in script  # Kestra renders commands too: they must hold no expression
    return subprocess.run(["sh", "-c", script], cwd=folder, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def with_papermill_command(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The ``papermill`` command of that environment (its venv has only ``python``)."""
    shim = tmp_path / "venv" / "bin" / "papermill"
    shim.write_text('#!/bin/sh\nexec "$(dirname "$0")/python" -m papermill "$@"\n')
    shim.chmod(0o755)
    return env


def test_an_exported_task_gives_the_kernel_what_nbops_run_gives_it_without_nbops(repo: Repo, tmp_path: Path) -> None:
    repo.nb("values.ipynb", params=PARAMS, body=BODY)
    assert repo.cli("export").code == 0
    env = with_papermill_command(_nbops_free_environment(tmp_path), tmp_path)
    probe = subprocess.run(["python", "-c", "import kernel_ext"], env=env, cwd=tmp_path, capture_output=True, check=False)
    assert probe.returncode != 0  # nbops is not importable there

    folder = tmp_path / "task"
    task = task_folder(repo, "values.yml", folder, kestra_inputs_from_defaults())
    assert sorted(p.name for p in folder.iterdir()) == sorted(["values.ipynb", *task["inputFiles"]])
    assert "nbops" not in task["inputFiles"]["requirements.txt"].split()
    done = run_commands(task, folder, env)
    assert done.returncode == 0, done.stderr[-3000:]

    in_kestra = read_outputs(done.stdout)  # Kestra's own reading of the task's stdout
    assert in_kestra.warnings == ()
    assert in_kestra.outputs == {"big": 12345678.0, "tiny": 1e-7, "label": 'say "hi" {{ not pebble }} \\ é',
                                 "when": "2024-01-31T04:00:00Z", "config": {"b": [1, None, 2.5e-8]},
                                 "types": ["float", "float", "str", "str", "dict"]}
    # 12345678.0: Kestra's FLOAT is a 32-bit Java Float; the DATETIME an Instant in UTC; the JSON's null entry is gone

    local = repo.cli("run", "values", "--json")
    assert local.code == 0, local.out + local.err
    record = json.loads(local.out)
    assert record["outputs"] == in_kestra.outputs
    assert record["parameters"] == {k: v for k, v in in_kestra.outputs.items() if k != "types"}


def test_the_outputs_helper_shipped_with_a_step_works_without_nbops(repo: Repo, tmp_path: Path) -> None:
    repo.nb("pipe/main.ipynb", "steps:\n  - {notebook: _a.ipynb, outputs: [n]}\n", params="n = 1\n")
    body = ("import sys\nimport kernel_ext\nfrom kernel_ext import output\n"
            "output(n=n + 1, ok=True, module=kernel_ext.__file__, python=sys.executable)\n")
    repo.nb("pipe/_a.ipynb", params="n = 1\n", body=body)
    assert repo.cli("export").code == 0
    env = with_papermill_command(_nbops_free_environment(tmp_path), tmp_path)
    folder = tmp_path / "task"
    task = task_folder(repo, "pipe/main.yml", folder, {"n": 41})
    assert RUNTIME_FILE in task["inputFiles"]
    done = run_commands(task, folder, env)
    assert done.returncode == 0, done.stderr[-3000:]
    outputs = read_outputs(done.stdout).outputs
    assert (outputs["n"], outputs["ok"]) == (42, True)
    assert Path(outputs["module"]).resolve() == (folder / RUNTIME_FILE).resolve()  # the shipped file
    assert Path(outputs["python"]).parent == tmp_path / "venv" / "bin"  # the kernel runs where nbops is absent
    assert os.path.isfile(folder / task["outputFiles"][0])  # the executed notebook Kestra keeps
