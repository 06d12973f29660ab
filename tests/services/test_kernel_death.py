"""A kernel that dies mid-run (killed by the notebook itself, as an out-of-memory kill would): the run
record and the saved executed notebook both name the cell that was running (issue 12, item 8)."""
from __future__ import annotations

import json

import pytest
from conftest import Repo, write_notebook

pytestmark = pytest.mark.slow


def test_the_cell_running_when_the_kernel_died_is_named_and_marked(repo: Repo) -> None:
    write_notebook(repo.root / "notebooks" / "oom.ipynb", [
        ("markdown", "# Dies", []), ("code", "x = 1\n", ["parameters"]), ("code", "print('before', x)\n", []),
        ("code", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)\nprint('never')\n", []),
        ("code", "print('after')\n", [])])
    result = repo.cli("run", "notebooks/oom.ipynb")
    assert result.code == 11, result.err
    record = json.loads(repo.cli("runs", "--json").out)[0]
    step = record["steps"][0]
    assert step["status"] == "KERNEL_DIED"
    error = step["error"]
    assert error["cell"] is not None and "os.kill(os.getpid(), signal.SIGKILL)" in error["message"]
    executed = json.loads((repo.root / step["output_notebook"]).read_text())
    dead = executed["cells"][error["cell"]]
    assert "os.kill" in "".join(dead["source"])
    assert dead["metadata"]["papermill"]["status"] == "failed" and dead["metadata"]["papermill"]["exception"] is True
    assert dead["outputs"][-1]["output_type"] == "error" and dead["outputs"][-1]["ename"] == error["name"]
    assert executed["metadata"]["papermill"]["exception"] is True
    # papermill's red note at the top and its anchor just before the cell, as for a cell that raised
    assert "An Exception was encountered" in "".join(executed["cells"][0]["source"])
    assert "papermill-error-cell" in "".join(executed["cells"][error["cell"] - 1]["source"])
    before = next(c for c in executed["cells"] if "print('before'" in "".join(c["source"]))
    after = next(c for c in executed["cells"] if "print('after')" in "".join(c["source"]))
    assert before["metadata"]["papermill"]["status"] == "completed"
    assert after["metadata"]["papermill"]["start_time"] is None and not after["outputs"]  # never ran
    import nbformat

    nbformat.validate(nbformat.reads(json.dumps(executed), as_version=4))  # still a valid notebook
    shown = repo.cli("show", record["id"]).out
    assert f"cell {error['cell']}: DeadKernelError" in shown and "os.kill(os.getpid()" in shown
