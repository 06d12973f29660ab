"""`nbops batch`: sweeps in worker processes with warm kernels, Ctrl-C, concurrent histories, and
a real Dask LocalCluster with worker processes."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Repo
from test_run import hear_ctrl_c

pytestmark = pytest.mark.slow
OUTPUT = 'import json\nprint("::" + json.dumps({"outputs": {%s}}) + "::")\n'


def sweep_repo(repo: Repo, body: str = OUTPUT % '"y": x * k') -> Repo:
    repo.nb("sweep.ipynb", params="x = 1\nk: int = 2\nlabel = 'a'\n", body=body)
    return repo


def runs_of(repo: Repo, batch: str) -> list[dict]:
    return json.loads(repo.cli("runs", "--json", "--limit", "-1", "--batch", batch).out)


@pytest.mark.parametrize("name,text", [
    ("grid.yml", "x: [1, 2, 3]\nk: [10, 20]\n"),
    ("grid.json", '[{"x": 1, "k": 10}, {"x": 2, "k": 10}, {"x": 3, "k": 10}, {"x": 1, "k": 20}, '
                  '{"x": 2, "k": 20}, {"x": 3, "k": 20}]'),
    ("grid.csv", "x,k\n1,10\n2,10\n3,10\n1,20\n2,20\n3,20\n"),
])
def test_a_sweep_runs_every_set_and_records_it(repo: Repo, tmp_path: Path, name: str, text: str) -> None:
    sweep_repo(repo)
    grid = tmp_path / name
    grid.write_text(text)
    result = repo.cli("batch", "notebooks/sweep.ipynb", "--grid", str(grid), "--json")
    assert result.code == 0, result.out + result.err
    data = json.loads(result.out)
    assert len(data["runs"]) == 6 and {r["status"] for r in data["runs"]} == {"SUCCESS"}
    assert sorted(r["outputs"]["y"] for r in data["runs"]) == sorted(x * k for x in (1, 2, 3) for k in (10, 20))
    recorded = runs_of(repo, data["batch"])
    assert len(recorded) == 6 and all(r["steps"][0]["output_notebook"] for r in recorded)


def test_a_failed_run_makes_the_batch_fail_but_the_others_finish(repo: Repo, tmp_path: Path) -> None:
    sweep_repo(repo, body="assert x != 2, 'x must not be 2'\n" + OUTPUT % '"y": x')
    grid = tmp_path / "g.yml"
    grid.write_text("x: [1, 2, 3, 4]\n")
    result = repo.cli("batch", "notebooks/sweep.ipynb", "--grid", str(grid), "--workers", "2")
    assert result.code == 10
    assert "4 run(s), 1 failed" in result.out and result.out.count("SUCCESS") == 3


@pytest.mark.parametrize("text,fragment", [
    ("x: [1, 2\n", "invalid YAML"),
    ("x: 1\n", "expected a list of values"),
    ("- {x: 1}\n- {xx: 2}\n", "runs[1].xx: unknown parameter 'xx'"),
    ("k: [1, many]\n", "runs[1].k: expected a whole number"),
    ("[]\n", "the grid has no runs"),
])
def test_bad_grids_are_refused_before_anything_runs(repo: Repo, tmp_path: Path, text: str, fragment: str) -> None:
    sweep_repo(repo)
    grid = tmp_path / "g.yml"
    grid.write_text(text)
    result = repo.cli("batch", "notebooks/sweep.ipynb", "--grid", str(grid))
    assert result.code in (2, 3) and fragment in result.err
    assert not (repo.root / ".nbops" / "runs").exists()


def test_a_malformed_csv_names_the_row(repo: Repo, tmp_path: Path) -> None:
    sweep_repo(repo)
    grid = tmp_path / "g.csv"
    grid.write_text("x,k\n1,2\n3\n")
    result = repo.cli("batch", "notebooks/sweep.ipynb", "--grid", str(grid))
    assert result.code == 3 and "(line 3): row has 1 values for 2 columns" in result.err


def _batch_process(repo: Repo, grid: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "kernel_ext.cli", "-C", str(repo.root), "batch",
                             "notebooks/sweep.ipynb", "--grid", str(grid), "--no-progress", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=hear_ctrl_c)


def test_two_batches_write_the_history_at_once_without_losing_a_row(repo: Repo, tmp_path: Path) -> None:
    sweep_repo(repo)
    grid = tmp_path / "g.yml"
    grid.write_text("x: [1, 2, 3, 4, 5, 6]\n")
    first, second = _batch_process(repo, grid, "--workers", "1"), _batch_process(repo, grid, "--workers", "1")
    for process in (first, second):
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, out[-2000:] + err[-3000:]
    with sqlite3.connect(repo.root / ".nbops" / "state.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute("SELECT batch, status, COUNT(*) FROM executions GROUP BY batch, status").fetchall()
        steps = db.execute("SELECT COUNT(*) FROM steps").fetchone()[0]
    assert len(rows) == 2 and all(status == "SUCCESS" and count == 6 for _, status, count in rows)
    assert steps == 12


def test_ctrl_c_stops_cleanly(repo: Repo, tmp_path: Path) -> None:
    sweep_repo(repo, body="import time\ntime.sleep(x)\n" + OUTPUT % '"y": x')
    grid = tmp_path / "g.yml"
    grid.write_text("x: [0, 0, 30, 30, 30, 30]\n")
    process = _batch_process(repo, grid, "--workers", "2")
    db = repo.root / ".nbops" / "state.db"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list((repo.root / ".nbops").glob("runs/*/run_notebook"))) < 4:
        time.sleep(0.2)  # until both workers are in their first slow run
    time.sleep(1.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err[-2000:]
    assert "interrupted" in out
    with sqlite3.connect(db) as conn:
        statuses = sorted(s for (s,) in conn.execute("SELECT status FROM executions"))
    assert statuses.count("SUCCESS") == 2 and statuses.count("INTERRUPTED") == 4 and "RUNNING" not in statuses
    assert not list((repo.root / ".nbops").glob("runs/*/.*.partial.ipynb"))  # nothing half-written
    for notebook in (repo.root / ".nbops").glob("runs/*/*.ipynb"):
        json.loads(notebook.read_text())  # every kept notebook is complete
    time.sleep(1)
    assert not _kernels_of(repo)


def _kernels_of(repo: Repo) -> list[int]:
    import psutil

    found = []
    for process in psutil.process_iter(["pid", "cwd"]):
        try:
            if str(repo.root) in (process.info["cwd"] or "") and process.pid != os.getpid():
                found.append(process.pid)
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            continue
    return found


DASK_SCRIPT = """
import json, sys
from distributed import LocalCluster
from kernel_ext.cli import main

if __name__ == "__main__":
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert len(cluster.workers) == 2
        sys.exit(main(["-C", sys.argv[1], "batch", "notebooks/sweep.ipynb", "--grid", sys.argv[2], "--json",
                       "--executor", "dask", "--scheduler", cluster.scheduler_address]))
"""


def test_the_same_sweep_on_a_dask_cluster_with_worker_processes(repo: Repo, tmp_path: Path) -> None:
    sweep_repo(repo, body="import os\n" + OUTPUT % '"y": x * k, "pid": os.getppid()')
    grid = tmp_path / "g.yml"
    grid.write_text("x: [1, 2, 3, 4]\nk: [3]\n")
    script = tmp_path / "dask_batch.py"
    script.write_text(DASK_SCRIPT)
    result = subprocess.run([sys.executable, str(script), str(repo.root), str(grid)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(result.stdout[result.stdout.index("{"):])
    assert sorted(r["outputs"]["y"] for r in data["runs"]) == [3, 6, 9, 12]
    assert len(runs_of(repo, data["batch"])) == 4


def test_dask_without_a_scheduler_address_is_a_usage_error(repo: Repo, tmp_path: Path) -> None:
    sweep_repo(repo)
    grid = tmp_path / "g.yml"
    grid.write_text("x: [1]\n")
    result = repo.cli("batch", "notebooks/sweep.ipynb", "--grid", str(grid), "--executor", "dask")
    assert result.code == 2 and "needs --scheduler" in result.err
