"""`nbops run`, `runs` and `show` with real kernels (papermill/nbclient), a real SQLite history
and real Git repositories."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest

from conftest import Repo, write_notebook

pytestmark = pytest.mark.slow

OUTPUT = 'import json\nprint("::" + json.dumps({"outputs": {%s}}) + "::")\n'


def committed(repo: Repo) -> Repo:
    repo.git("add", "-A")
    repo.git("commit", "-qm", "flows")
    return repo


def history(repo: Repo, *args: str) -> list[dict]:
    return json.loads(repo.cli("runs", "--json", "--limit", "-1", *args).out)


def test_a_run_checks_types_runs_and_records_everything(repo: Repo) -> None:
    repo.nb("sales.ipynb", "schedule: '0 6 * * *'\n", params="region = 'eu'\ntop_n: int = 3\nday = '2024-01-01'\n",
            body=OUTPUT % '"total": top_n * 2, "region": region')
    committed(repo)
    result = repo.cli("run", "sales", "-p", "top_n=5", "-p", "region=us")
    assert result.code == 0, result.out + result.err
    (record,) = history(repo)
    assert record["status"] == "SUCCESS"
    assert record["parameters"] == {"top_n": 5, "region": "us", "day": "2024-01-01"}  # defaults too, as Kestra
    assert record["outputs"] == {"total": 10, "region": "us"}
    assert record["git_commit"] == repo.git("rev-parse", "HEAD").strip() and record["git_dirty"] is False
    step = record["steps"][0]
    assert step["output_notebook"] == f".nbops/runs/{record['id']}/run_notebook.ipynb" and step["duration"] > 0
    executed = json.loads((repo.root / step["output_notebook"]).read_text())
    assert any("injected-parameters" in c["metadata"].get("tags", []) for c in executed["cells"])
    assert record["id"] in repo.cli("runs", "sales").out and "SUCCESS" in repo.cli("show", record["id"][:17]).out


def test_every_parameter_problem_is_listed_before_any_kernel_starts(repo: Repo) -> None:
    repo.nb("p.ipynb", params="from typing import Literal\nn: int\nmode: Literal['a', 'b'] = 'a'\nday = '2024-01-01'\n")
    result = repo.cli("run", "notebooks/p.ipynb", "-p", "mode=c", "-p", "day=31/01/2024", "-p", "nm=1")
    assert result.code == 3
    for fragment in ("'c' is not one of a, b", "expected a date", "unknown parameter 'nm'", "did you mean 'n'",
                     "required input 'n' (INT) has no value"):
        assert fragment in result.err
    assert not (repo.root / ".nbops" / "runs").exists()


def test_parameters_from_a_yaml_file_keep_their_types(repo: Repo, tmp_path: Path) -> None:
    repo.nb("t.ipynb", params="tags = ['a']\nlimits = {'x': 1}\nrate = 0.5\n", body=OUTPUT % '"n": len(tags)')
    params = tmp_path / "p.yml"
    params.write_text("tags: [x, y, z]\nlimits: {x: 2}\nrate: 2\n")
    assert repo.cli("run", "notebooks/t.ipynb", "-f", str(params)).code == 0
    record = history(repo)[0]
    assert record["parameters"] == {"tags": ["x", "y", "z"], "limits": {"x": 2}, "rate": 2.0}
    assert record["outputs"] == {"n": 3}


def test_a_failing_cell_is_named_and_its_notebook_kept(repo: Repo) -> None:
    repo.nb("f.ipynb", body="print('before')\nraise ValueError('3 bad rows')\n")
    result = repo.cli("run", "notebooks/f.ipynb")
    assert result.code == 10 and "ValueError: 3 bad rows" in result.out
    record = history(repo)[0]
    step = record["steps"][0]
    assert record["status"] == "FAILED" and step["error"]["name"] == "ValueError"
    executed = json.loads((repo.root / step["output_notebook"]).read_text())  # partial, but valid
    failing = executed["cells"][step["error"]["cell"]]
    assert "raise ValueError" in "".join(failing["source"]) and failing["outputs"][-1]["output_type"] == "error"
    shown = repo.cli("show", record["id"]).out
    assert f"cell {step['error']['cell']}: ValueError: 3 bad rows" in shown and "Traceback" in shown


def test_a_dying_kernel_is_reported_within_seconds(repo: Repo) -> None:
    repo.nb("d.ipynb", body="import os\nos._exit(1)\n")
    started = time.monotonic()
    result = repo.cli("run", "notebooks/d.ipynb")
    assert result.code == 11 and time.monotonic() - started < 15
    step = history(repo)[0]["steps"][0]
    assert step["status"] == "KERNEL_DIED"
    json.loads((repo.root / step["output_notebook"]).read_text())  # the partial notebook is kept, valid


def test_an_endless_loop_stops_at_the_flows_timeout(repo: Repo) -> None:
    repo.nb("loop.ipynb", "timeout: PT2S\n", body="while True:\n    pass\n")
    started = time.monotonic()
    result = repo.cli("run", "notebooks/loop.ipynb")
    assert result.code == 12 and "timeout of 2 s" in result.out
    assert 2 <= time.monotonic() - started < 15
    assert history(repo)[0]["status"] == "TIMEOUT"


def test_retry_runs_a_failed_step_again_in_a_fresh_folder(repo: Repo, tmp_path: Path) -> None:
    body = ("from pathlib import Path\nimport os\nassert not os.path.exists('scratch')  # each attempt starts afresh\n"
            "open('scratch', 'w').write('x')\nmarker = Path(marker_dir) / 'attempted'\nif not marker.exists():\n"
            "    marker.write_text('1')\n    raise RuntimeError('flaky')\nprint('ok')\n")
    repo.nb("flaky.ipynb", "retry: {type: constant, interval: PT1S, maxAttempt: 3}\n", params="marker_dir = ''\n",
            body=body)
    assert repo.cli("run", "notebooks/flaky.ipynb", "-p", f"marker_dir={tmp_path}").code == 0
    step = history(repo)[0]["steps"][0]
    assert step["status"] == "SUCCESS" and step["attempts"] == 2


def test_a_default_overridden_in_the_header_is_what_the_notebook_gets(repo: Repo) -> None:
    repo.nb("d.ipynb", "inputs: {limit: {defaults: 7}}\n", params="limit = 100\n", body=OUTPUT % '"limit": limit')
    assert repo.cli("run", "notebooks/d.ipynb").code == 0
    assert history(repo)[0]["outputs"] == {"limit": 7}  # what Kestra would pass


def test_header_cells_never_run_even_untagged(repo: Repo) -> None:
    write_notebook(repo.root / "notebooks" / "u.ipynb", [
        ("code", "%load_ext kernel_ext", []), ("code", "%%flow\nid: untagged\n", []),
        ("code", "x = 1", ["parameters"]), ("code", OUTPUT % '"x": x', [])])
    assert repo.cli("run", "notebooks/u.ipynb", "-p", "x=4").code == 0
    assert history(repo)[0]["outputs"] == {"x": 4}
    cells = json.loads((repo.root / "notebooks" / "u.ipynb").read_text())["cells"]
    assert "tags" not in cells[0]["metadata"]  # the source notebook is left alone


def pipeline(repo: Repo, sleep: float = 0.0) -> None:
    header = ("steps:\n  - {notebook: _a.ipynb, produces: [out/a.txt], outputs: [rows]}\n"
              "  - parallel:\n      - {notebook: _b.ipynb, outputs: [doubled]}\n      - _c.ipynb\n  - _d.ipynb\n")
    repo.nb("pipe/main.ipynb", header, params="n = 2\n")
    nap = f"import time\ntime.sleep({sleep})\n"
    repo.nb("pipe/_a.ipynb", params="n = 1\n", body="import os\nos.makedirs('out', exist_ok=True)\n"
            "open('out/a.txt', 'w').write('a' * n)\nopen('scratch.txt', 'w').write('undeclared')\n" + OUTPUT % '"rows": n')
    repo.nb("pipe/_b.ipynb", params="rows = 0\n", body=nap + OUTPUT % '"doubled": rows * 2')
    repo.nb("pipe/_c.ipynb", params="n = 1\n", body=nap + "assert open('out/a.txt').read() == 'a' * n\n")
    repo.nb("pipe/_d.ipynb", params="doubled = 0\nn = 1\n", body="import os\nassert os.path.exists('out/a.txt') and not os.path.exists('scratch.txt')\n"
            + OUTPUT % '"result": doubled + n')


def test_a_pipeline_runs_its_groups_in_order_and_in_parallel(repo: Repo) -> None:
    pipeline(repo, sleep=1.0)
    assert repo.cli("export").code == 0
    result = repo.cli("run", "notebooks/pipe/main.ipynb", "-p", "n=5")
    assert result.code == 0, result.out
    record = history(repo)[0]
    steps = {s["step"]: s for s in record["steps"]}
    assert steps["b"]["parameters"] == {"rows": 5} and steps["d"]["parameters"] == {"doubled": 10, "n": 5}
    assert record["outputs"]["result"] == 15
    b, c = (show_step(repo, record["id"], name) for name in ("b", "c"))
    assert b["started"] < c["ended"] and c["started"] < b["ended"]  # B and C overlapped


def show_step(repo: Repo, execution: str, name: str) -> dict:
    from kernel_ext.adapters.store import RunStore

    with RunStore(repo.root / ".nbops" / "state.db") as store:
        step = next(s for s in store.get_execution(execution).steps if s.step == name)
    return {"started": step.started, "ended": step.ended}


def test_a_declared_product_that_is_not_made_fails_the_step(repo: Repo) -> None:
    repo.nb("pipe/main.ipynb", "steps:\n  - {notebook: _a.ipynb, produces: [missing.csv]}\n")
    repo.nb("pipe/_a.ipynb")
    result = repo.cli("run", "notebooks/pipe/main.ipynb")
    assert result.code == 10 and "declares file missing.csv but did not make it" in result.out


def test_a_missing_kernel_is_named_with_how_to_install_it(repo: Repo) -> None:
    (repo.root / "pyproject.toml").write_text('[tool.nbops]\nnamespace = "acme.data"\nkernel = "nosuchkernel"\n')
    repo.nb("k.ipynb")
    result = repo.cli("run", "notebooks/k.ipynb")
    assert result.code == 1 and "no Jupyter kernel named 'nosuchkernel'" in result.err
    assert "ipykernel install --user --name nosuchkernel" in result.err
    assert json.loads(repo.cli("runs", "--json").out) == []  # nothing left behind as RUNNING


def hear_ctrl_c() -> None:
    """In the child: SIGINT as a terminal gives it, even when this test runs where SIGINT is
    ignored (a background job inherits SIG_IGN, and Python then never raises KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _marked(mark: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["pid"]):
        try:
            if process.environ().get("NBOPS_TEST_MARK") == mark:
                found.append(process)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def test_a_killed_runner_leaves_no_kernel_behind(repo: Repo) -> None:
    repo.nb("slow.ipynb", body="import time\ntime.sleep(60)\n")
    mark = uuid.uuid4().hex
    env = {**os.environ, "NBOPS_TEST_MARK": mark}
    runner = subprocess.Popen([sys.executable, "-m", "kernel_ext.cli", "-C", str(repo.root), "run",
                               "notebooks/slow.ipynb"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any("ipykernel" in " ".join(p.cmdline()) or p.pid != runner.pid
                                                   for p in _marked(mark) if p.pid != runner.pid):
        time.sleep(0.2)
    assert len(_marked(mark)) >= 2, "the run's kernel never started"
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    deadline = time.monotonic() + 10
    while _marked(mark) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _marked(mark) == []


def test_ctrl_c_stops_a_pipeline_mid_parallel_group(repo: Repo) -> None:
    pipeline(repo, sleep=60.0)
    mark = uuid.uuid4().hex
    runner = subprocess.Popen([sys.executable, "-m", "kernel_ext.cli", "-C", str(repo.root), "run",
                               "notebooks/pipe/main.ipynb"], env={**os.environ, "NBOPS_TEST_MARK": mark},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=hear_ctrl_c)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (list(repo.root.glob(".nbops/runs/*/b")) and
                                               list(repo.root.glob(".nbops/runs/*/c"))):
        time.sleep(0.2)  # until B and C, the parallel group, are running
    time.sleep(2)
    started = time.monotonic()
    runner.send_signal(signal.SIGINT)
    out, err = runner.communicate(timeout=60)
    assert runner.returncode == 130 and time.monotonic() - started < 20, err[-2000:]
    assert "Traceback" not in err
    record = history(repo)[0]
    assert record["status"] == "INTERRUPTED"
    assert {s["step"]: s["status"] for s in record["steps"]} == {"a": "SUCCESS", "b": "INTERRUPTED",
                                                                  "c": "INTERRUPTED"}
    deadline = time.monotonic() + 10
    while _marked(mark) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _marked(mark) == []


def test_a_notebook_without_language_metadata_runs(repo: Repo) -> None:
    path = repo.nb("bare.ipynb", body=OUTPUT % '"x": x')
    data = json.loads(path.read_text())
    data["metadata"] = {}
    path.write_text(json.dumps(data))
    assert repo.cli("run", "notebooks/bare.ipynb", "-p", "x=3").code == 0
    assert history(repo)[0]["outputs"] == {"x": 3}


def test_secret_inputs_are_redacted_in_the_stored_notebook_and_the_history(repo: Repo) -> None:
    repo.nb("s.ipynb", "inputs: {api_token: {type: SECRET}}\n", params="api_token = ''\nregion = 'eu'\n",
            body=OUTPUT % '"length": len(api_token)')
    assert repo.cli("run", "notebooks/s.ipynb", "-p", "api_token=hunter2-very-secret").code == 0
    record = history(repo)[0]
    assert record["parameters"]["api_token"] == "***" and record["steps"][0]["parameters"]["api_token"] == "***"
    assert record["outputs"] == {"length": 19}  # the notebook did get the real value
    stored = (repo.root / record["steps"][0]["output_notebook"]).read_text()
    assert "hunter2-very-secret" not in stored and "***" in stored
    assert "hunter2" not in (repo.root / ".nbops" / "state.db").read_bytes().decode("latin-1")


def test_parallel_steps_each_run_in_their_own_folder(repo: Repo) -> None:
    """Steps of a parallel group start their kernels at the same moment from threads: each kernel
    must still get its own folder (papermill's cwd is a process-wide chdir, which they would race on)."""
    names = "abcdef"
    group = "".join(f"      - {{notebook: _{n}.ipynb, produces: [{n}.txt], outputs: [folder]}}\n" for n in names)
    repo.nb("par/main.ipynb", "steps:\n  - parallel:\n" + group)
    for n in names:
        repo.nb(f"par/_{n}.ipynb", params="", body=(
            "import os, pathlib\nimport kernel_ext\n"
            f"pathlib.Path('{n}.txt').write_text('{n}')\nkernel_ext.output(folder=os.path.basename(os.getcwd()))\n"))
    here, seen, results = os.getcwd(), set(), []
    runner = threading.Thread(target=lambda: results.append(repo.cli("run", "notebooks/par/main.ipynb")))
    runner.start()
    while runner.is_alive():  # the root cause, seen every time: a step must never move the whole process
        seen.add(os.getcwd())
        time.sleep(0.001)
    assert seen == {here} and results[0].code == 0, results[0].out
    steps = {s["step"]: s for s in history(repo)[0]["steps"]}
    assert {name: step["outputs"]["folder"] for name, step in steps.items()} == {n: n for n in names}
