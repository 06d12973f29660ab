"""Notebooks made for issue 11's points, each run twice: replayed as Kestra runs the exported flow
(``replay/``) and with ``nbops run``. The promise is that both end in the same state, with the same
outputs and the same parameter values in the kernel; where today's nbops breaks it, the test is an
expected failure naming the helper whose change makes it pass (``strict``: it fails loudly once it
passes, so the marker goes)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import replay as r
from conftest import Repo

from kernel_ext.adapters.project import load_options

pytestmark = pytest.mark.slow

REPORT = 'import json\nprint("::" + json.dumps({"outputs": {%s}}) + "::")\n'  # Kestra's protocol, no nbops


def seen(name: str) -> str:
    """A cell reporting the value the kernel received for ``name``, and its type."""
    return REPORT % f'"seen": repr({name}), "type": type({name}).__name__'


def _both(repo: Repo, tmp_path: Path, name: str, params: str, body: str) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """(state, outputs) as Kestra gives them (replayed exported flow) and as ``nbops run`` does."""
    repo.nb(f"{name}.ipynb", params=params, body=body)
    exported = repo.cli("export")
    assert exported.code == 0, exported.out + exported.err
    flow = repo.root / "_flows" / f"{name}.yml"
    kestra = r.replay(flow, project_root=repo.root, version=load_options(repo.root).kestra_version,
                      work=tmp_path / "replay")
    announced = [run.vars for run in kestra.task_runs.values()]  # none when Kestra refuses the inputs
    assert len(announced) <= 1
    repo.cli("run", f"notebooks/{name}.ipynb")
    (record,) = json.loads(repo.cli("runs", "--json", "--limit", "-1").out)

    def canonical(outputs: dict[str, Any]) -> str:
        return json.dumps(outputs, sort_keys=True)  # NaN == NaN here
    return ((kestra.state, canonical(announced[0] if announced else {})),
            (record["status"], canonical(record["outputs"] or {})))


def test_a_large_float_parameter_reaches_the_kernel_as_in_nbops_run(repo: Repo, tmp_path: Path) -> None:
    kestra, local = _both(repo, tmp_path, "big", "big = 12345678.5\n", seen("big"))
    assert kestra == local


def test_a_nan_output_is_treated_alike(repo: Repo, tmp_path: Path) -> None:
    kestra, local = _both(repo, tmp_path, "nan", "x = 1\n", "import kernel_ext\nkernel_ext.output(x=float('nan'))\n")
    assert kestra == local


def test_a_notebook_using_kernel_ext_for_outputs_succeeds_in_both(repo: Repo, tmp_path: Path) -> None:
    kestra, local = _both(repo, tmp_path, "helper", "n = 3\n", "import kernel_ext\nkernel_ext.output(total=n * 2)\n")
    assert kestra == local == ("SUCCESS", json.dumps({"total": 6}))


def test_a_failing_cell_fails_in_both(repo: Repo, tmp_path: Path) -> None:
    kestra, local = _both(repo, tmp_path, "failing", "n = 3\n",
                          "print('before')\nraise ValueError(f'{n} bad rows')\n")
    assert kestra == local and kestra[0] == "FAILED"


def test_a_string_default_with_braces_reaches_the_kernel_as_typed(repo: Repo, tmp_path: Path) -> None:
    kestra, local = _both(repo, tmp_path, "braces", 'greeting = "Hello {{ name }}"\n', seen("greeting"))
    assert kestra == local
