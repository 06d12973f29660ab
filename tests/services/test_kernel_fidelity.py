"""The executed notebook from `nbops run`, `nbops batch` and parallel pipeline steps (warm kernels
forked by the zygote) carries the same outputs as papermill's with a normally started kernel:
streams, display data with their mime types, matplotlib images, execute results, errors.

Charts used to vanish: the forked kernel lost the ``MPLBACKEND`` ipykernel sets at start-up, so
matplotlib fell back to Agg and drew nothing into the notebook (issue 11, point 4)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import papermill
import pytest

from conftest import NAMESPACE, CellSpec, Repo, write_notebook
from kernel_ext.adapters.kernels import KernelPool

pytestmark = pytest.mark.slow

CELLS: list[CellSpec] = [
    ("markdown", "# Outputs of every kind", []),
    ("code", "n = 3\n", ["parameters"]),
    ("code", 'print("to stdout", n)\n', []),
    ("code", 'import sys\nprint("to stderr", file=sys.stderr)\n', []),
    # ipykernel forwards a child's fd output from a thread: wait for it, so it lands in this cell under load too
    ("code", 'import subprocess, sys, time\nsubprocess.run(["echo", "from a child process"], check=True)\n'
             'time.sleep(0.5)\nsys.stdout.flush()\nNone\n', []),
    ("code", "import matplotlib.pyplot as plt\nplt.plot([1, 2, n])\nplt.title('a chart')\nplt.show()\n", []),
    ("code", "fig, ax = plt.subplots()\nax.bar(['a', 'b'], [n, 1])\n", []),  # drawn at the cell's end
    ("code", ("from IPython.display import HTML, JSON, Markdown, display\n"
              "display(HTML('<b>bold</b>'))\ndisplay(Markdown('*in Markdown*'))\ndisplay(JSON({'a': [1, 2]}))\n"), []),
    ("code", "import pandas as pd\npd.DataFrame({'x': [1, 2], 'y': ['a', 'b']})\n", []),
    ("code", "42\n", []),
    ("code", "import os\nprint(os.environ.get('MPLBACKEND'), os.environ.get('TERM'), os.environ.get('PAGER'))\n", []),
    ("code", "import os\nprint(sorted(p for p in os.listdir('.') if not p.startswith('.')))\n", []),
]
RAISES = ("code", 'raise ValueError("a cell fails")\n', ["raises-exception"])  # nbclient goes on after it
FAILS = ("code", 'raise ValueError("a cell fails")\n', [])  # nbclient stops there
AFTER = ("code", 'print("after the error")\n', [])


def outside_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kernels started from here capture what child processes write to fds 1 and 2, as everywhere
    else: ipykernel turns that off while PYTEST_CURRENT_TEST is set (ipykernel 7 iostream.py,
    OutStream.__init__), which pytest sets again before each test function runs."""
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)


def shape(notebook: dict[str, Any]) -> list[list[tuple[str, ...]]]:
    """Per cell, its outputs as (output_type, sorted mime types or stream name); consecutive writes
    to one stream are one output (how they are split into messages is timing, not content)."""
    cells = []
    for cell in notebook["cells"]:
        outputs: list[tuple[str, ...]] = []
        for out in cell.get("outputs", []):
            kind = out["output_type"]
            item = (kind, out["name"]) if kind == "stream" else \
                (kind, *sorted(out.get("data", {}))) if kind in ("display_data", "execute_result") else \
                (kind, out["ename"], out["evalue"])
            if not (kind == "stream" and outputs and outputs[-1] == item):
                outputs.append(item)
        cells.append(outputs)
    return cells


def texts(notebook: dict[str, Any]) -> list[str]:
    return ["".join(o["text"]) if isinstance(o["text"], list) else o["text"]
            for cell in notebook["cells"] for o in cell.get("outputs", []) if o["output_type"] == "stream"]


def papermill_run(source: Path, folder: Path, kernel: str = "python3") -> dict[str, Any]:
    """The reference: papermill with a kernel jupyter_client starts the usual way."""
    folder.mkdir(parents=True, exist_ok=True)
    output = folder.parent / f"{folder.name}.papermill.ipynb"
    try:
        papermill.execute_notebook(str(source), str(output), parameters={"n": 3}, kernel_name=kernel,
                                   cwd=str(folder), progress_bar=False)
    except papermill.PapermillExecutionError:
        pass
    return json.loads(output.read_text())


def executed(repo: Repo, record: dict[str, Any], step: int = 0) -> dict[str, Any]:
    return json.loads((repo.root / record["steps"][step]["output_notebook"]).read_text())


def same_outputs(ours: dict[str, Any], reference: dict[str, Any]) -> None:
    assert shape(ours) == shape(reference)
    assert [t.replace("\r\n", "\n") for t in texts(ours)] == [t.replace("\r\n", "\n") for t in texts(reference)]


def charts(notebook: dict[str, Any]) -> int:
    return sum("image/png" in o.get("data", {}) for cell in notebook["cells"] for o in cell.get("outputs", []))


def test_nbops_run_gives_the_outputs_papermill_gives(repo: Repo, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    outside_pytest(monkeypatch)
    source = write_notebook(repo.root / "notebooks" / "kinds.ipynb", CELLS)
    result = repo.cli("run", "notebooks/kinds.ipynb", "--json")
    assert result.code == 0, result.out + result.err
    ours = executed(repo, json.loads(result.out))
    reference = papermill_run(source, tmp_path / "pm" / "run_notebook")
    assert charts(reference) == 2, "the reference itself must draw both charts"
    assert shape(reference)[5] == [("stream", "stdout")]  # a child process's output reaches the notebook
    same_outputs(ours, reference)


@pytest.mark.parametrize("error", [RAISES, FAILS], ids=["raises-exception", "untagged"])
def test_a_failing_cell_gives_the_outputs_and_the_error_papermill_gives(
        repo: Repo, tmp_path: Path, error: CellSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    """papermill fails the run on any error output, tagged `raises-exception` or not (papermill 2.7
    execute.py, raise_for_execution_errors), so Kestra's task fails too; with the tag, nbclient
    runs the cells after it first."""
    outside_pytest(monkeypatch)
    source = write_notebook(repo.root / "notebooks" / "fails.ipynb", [*CELLS, error, AFTER])
    result = repo.cli("run", "notebooks/fails.ipynb", "--json")
    assert result.code == 10, result.out + result.err
    ours = executed(repo, json.loads(result.out))
    same_outputs(ours, papermill_run(source, tmp_path / "pm" / "run_notebook"))
    assert ("error", "ValueError", "a cell fails") in [o for cell in shape(ours) for o in cell]
    assert (shape(ours)[-1] == [("stream", "stdout")]) is (error is RAISES)


def test_sweeps_and_parallel_steps_give_the_outputs_papermill_gives(
        repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside_pytest(monkeypatch)
    source = write_notebook(repo.root / "notebooks" / "kinds.ipynb", CELLS)
    reference = papermill_run(source, tmp_path / "pm" / "run_notebook")
    grid = tmp_path / "grid.yml"
    grid.write_text("n: [3, 3]\n")
    result = repo.cli("batch", "notebooks/kinds.ipynb", "--grid", str(grid), "--workers", "2", "--json")
    assert result.code == 0, result.out + result.err
    for run in json.loads(result.out)["runs"]:
        same_outputs(executed(repo, run), reference)

    write_notebook(repo.root / "notebooks" / "pipe" / "_a.ipynb", CELLS)
    write_notebook(repo.root / "notebooks" / "pipe" / "_b.ipynb", CELLS)
    write_notebook(repo.root / "notebooks" / "pipe" / "main.ipynb",
                   [("code", "%%flow\nsteps:\n  - parallel: [_a.ipynb, _b.ipynb]\n", ["skip-execution"]),
                    ("code", "n = 3\n", ["parameters"])])
    result = repo.cli("run", "notebooks/pipe/main.ipynb", "--json")
    assert result.code == 0, result.out + result.err
    record = json.loads(result.out)
    for step, name in enumerate(("_a", "_b")):
        same_outputs(executed(repo, record, step), papermill_run(source, tmp_path / "pm" / name))


PROBE = r'''
import json, os, signal, sys, threading
cwd = os.getcwd()
def here(text):
    return str(text).replace(cwd, "<cwd>")
state = {
    "env": {k: here(v) for k, v in os.environ.items() if k not in ("JPY_PARENT_PID",)},
    "path": [here(p) for p in sys.path], "argv0": sys.argv[0], "args": sys.argv[1:2] + sys.argv[3:],
    "orig_argv": [a for a in sys.orig_argv if not a.endswith(".json")], "dh": [here(d) for d in _dh],
    "session": globals().get("__session__"), "session_leader": os.getsid(0) == os.getpid(),
    "group_leader": os.getpgid(0) == os.getpid(), "threads": sorted(t.name for t in threading.enumerate()),
    "signals": {s.name: repr(signal.getsignal(s)) for s in signal.Signals if s not in (signal.SIGKILL, signal.SIGSTOP)},
    "config": sorted((section, key) for section, values in get_ipython().config.items() for key in values),
    "history": str(get_ipython().history_manager.hist_file), "kernel_ext": "kernel_ext" in sys.modules,
}
print(json.dumps(state))
'''


def probed(notebook: dict[str, Any]) -> dict[str, Any]:
    return json.loads(texts(notebook)[-1])


def test_a_forked_kernel_is_the_kernel_jupyter_client_starts(repo: Repo, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The process as the notebook sees it: environment (MPLBACKEND, the terminal variables
    ipykernel sets), sys.path, sys.argv, _dh, session, threads, signal handlers, configuration."""
    outside_pytest(monkeypatch)
    source = write_notebook(repo.root / "notebooks" / "probe.ipynb", [("code", "n = 3\n", ["parameters"]),
                                                                      ("code", PROBE, [])])
    result = repo.cli("run", "notebooks/probe.ipynb", "--json")
    assert result.code == 0, result.out + result.err
    ours, reference = probed(executed(repo, json.loads(result.out))), probed(papermill_run(source, tmp_path / "pm"))
    assert reference["env"]["MPLBACKEND"] == "module://matplotlib_inline.backend_inline"
    assert ours == reference


def test_a_python_kernel_of_another_name_is_forked_as_jupyter_client_starts_it(
        repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """nbclient gives an in-memory history only to kernels named python/python3: a kernel of
    another name that runs this interpreter is still forked, with the arguments nbclient gives it."""
    outside_pytest(monkeypatch)
    spec = tmp_path / "jupyter" / "kernels" / "analysis"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Analysis", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))  # its history file goes there, not to ~
    (repo.root / "pyproject.toml").write_text(f'[tool.nbops]\nnamespace = "{NAMESPACE}"\nkernel = "analysis"\n')
    with KernelPool("analysis") as pool:
        assert pool.usable  # served by the zygote
    source = write_notebook(repo.root / "notebooks" / "probe.ipynb", [("code", "n = 3\n", ["parameters"]),
                                                                      ("code", PROBE, [])])
    result = repo.cli("run", "notebooks/probe.ipynb", "--json")
    assert result.code == 0, result.out + result.err
    ours = probed(executed(repo, json.loads(result.out)))
    reference = probed(papermill_run(source, tmp_path / "pm", kernel="analysis"))
    assert reference["history"].endswith("history.sqlite") and ours == reference
