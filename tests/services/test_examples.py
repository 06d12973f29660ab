"""The repository's own example flows: they run under papermill, even where nbops is not installed,
and `nbops check` is green on the repository itself."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import ROOT, Repo

NOTEBOOKS = ROOT / "notebooks"
NBOPS_DISTS = ("kernel_ext", "nbops", "__editable__", "_nbops", "__pycache__")


def example_notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def test_the_repository_passes_its_own_check() -> None:
    result = Repo(ROOT).cli("check", "--json")
    data = json.loads(result.out)
    assert result.code == 0, data["findings"]
    assert data["notebooks"] >= 5 and data["flows"] >= 5


def test_examples_cover_what_users_need() -> None:
    import yaml

    flows = [yaml.safe_load(p.read_text()) for p in (ROOT / "_flows").rglob("*.yml")]
    namespaces = {f["namespace"] for f in flows}
    assert len(namespaces) >= 2
    triggers = [t["type"].rsplit(".", 1)[1] for f in flows for t in f.get("triggers", [])]
    assert "Schedule" in triggers and "Flow" in triggers
    assert any(t["type"].endswith("Parallel") for f in flows for t in f["tasks"])


def _nbops_free_environment(tmp_path: Path) -> dict[str, str]:
    """A new virtual environment that sees this one's packages except nbops itself."""
    shadow = tmp_path / "site"
    shadow.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.lower().startswith(NBOPS_DISTS) and entry.suffix != ".pth":
            (shadow / entry.name).symlink_to(entry)
    venv = tmp_path / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER"))}
    env.update(PYTHONPATH=str(shadow), HOME=str(home), JUPYTER_DATA_DIR=str(home / "jupyter"),
               PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    return env


@pytest.mark.slow
def test_an_example_runs_under_plain_papermill_without_nbops(tmp_path: Path) -> None:
    env = _nbops_free_environment(tmp_path)
    python = str(tmp_path / "venv" / "bin" / "python")
    probe = subprocess.run([python, "-c", "import kernel_ext"], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert probe.returncode != 0 and "No module named 'kernel_ext'" in probe.stderr
    work = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, work)
    source = work / "sales_report.ipynb"
    cells = json.loads(source.read_text())["cells"]
    assert cells[0]["source"] and "".join(cells[0]["source"]).startswith("%load_ext kernel_ext")
    run = subprocess.run([python, "-m", "papermill", str(source), str(tmp_path / "out.ipynb"), "-k", "python3",
                          "--cwd", str(work)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    executed = json.loads((tmp_path / "out.ipynb").read_text())["cells"]
    assert executed[0].get("execution_count") is None and executed[1].get("execution_count") is None  # skipped
    assert any(c.get("outputs") for c in executed[2:] if c["cell_type"] == "code")


def _run(notebook: Path, out: Path, **parameters: object) -> dict:
    import papermill

    return papermill.execute_notebook(str(notebook), str(out), parameters=parameters, cwd=str(notebook.parent),
                                      kernel_name="python3", progress_bar=False)


@pytest.mark.slow
@pytest.mark.parametrize("notebook", [p for p in example_notebooks() if not p.name.startswith("_")],
                         ids=lambda p: p.relative_to(NOTEBOOKS).as_posix())
def test_every_example_flow_runs(notebook: Path, tmp_path: Path) -> None:
    work = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, work)
    executed = _run(work / notebook.relative_to(NOTEBOOKS), tmp_path / "out.ipynb")
    code = [c for c in executed["cells"] if c["cell_type"] == "code"
            and "skip-execution" not in c["metadata"].get("tags", [])]
    assert code and all(c["execution_count"] for c in code)
    assert not [o for c in code for o in c["outputs"] if o["output_type"] == "error"]


@pytest.mark.slow
def test_the_pipeline_steps_run_in_their_declared_order(tmp_path: Path) -> None:
    from kernel_ext.adapters.notebooks import read_notebook
    from kernel_ext.core.flow_fields import find_cells
    from kernel_ext.core.header import parse_header

    work = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, work)
    folder = work / "pipeline"
    header_cell, _, _ = find_cells(read_notebook(folder / "daily_pipeline.ipynb", "daily_pipeline.ipynb"))
    header, problems = parse_header(header_cell, "nbops.examples.pipeline")
    assert problems == [] and [len(g.steps) for g in header.steps] == [1, 2, 1]
    for group in header.steps:
        for step in group.steps:
            _run(folder / step.notebook, tmp_path / f"{step.notebook}.out.ipynb", run_date="2024-01-02")
            for produced in step.produces:  # what the flow declares is what the step really writes
                assert (folder / produced).is_file(), produced


@pytest.mark.slow
def test_the_quality_check_fails_on_bad_rows(tmp_path: Path) -> None:
    import papermill

    work = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, work)
    with pytest.raises(papermill.PapermillExecutionError) as info:
        _run(work / "quality" / "check_orders.ipynb", tmp_path / "bad.ipynb", orders_csv="data/orders_bad.csv")
    assert info.value.ename == "ValueError" and "bad row" in info.value.evalue
