"""Benchmark: `nbops batch` and `nbops run` versus papermill and Ploomber on the same notebooks.

Everything is generated in a temporary flow repository and runs in this project's environment.
The sweep notebook has a `parameters` cell (x, y, name) and three light cells: arithmetic, a
string print, and Kestra's output line `::{"outputs": {...}}::`. One parameter set per value of x.

Sweep (each side a whole run of all parameter sets, the same notebook):
- (a) one `papermill NB OUT -p x i -k python3` process per set, one after another (a shell loop);
- (b) `papermill.execute_notebook` per set in a loop in this process (papermill already imported);
- (c) one `nbops batch NB --grid grid.yml --no-progress` process, default workers (one per core),
      cold start, warm-kernel zygote and history writes included;
- (d) one `ploomber build --force` process: a single task with Ploomber's `grid` over x and the
      Parallel executor with 2 processes (its copy of the notebook adds `upstream = None` to the
      parameters cell, which Ploomber requires; telemetry and version checks off).
Goals on a 2-core machine: (a)/(c) >= 10, (b)/(c) >= 3, (d)/(c) >= 2.

Pipeline A -> (B, C) -> D, declared as `steps:` of a flow (B and C sleep 0.5 s each), compared
like with like: nbops' run service in this process versus the four step notebooks by
`papermill.execute_notebook` in sequence in this process (imports done on both sides), and the
`nbops run` command versus four `papermill` commands in sequence. Goal nbops / papermill <= 0.7.
(The mixed ratio, a cold `nbops run` command over the warm in-process papermill loop, is printed
too; it measures start-up, not the pipeline.)

Single run: `nbops run NB -p x=1` versus `papermill NB OUT -p x 1`, both whole commands.
Goal: nbops adds < 10 % over bare papermill.

Each figure is the median of several runs, interleaved so that machine noise hits every side.

    python bench/run_bench.py [--sets 40] [--runs 3] [--quick] [--part sweep|pipeline|single ...]
"""
from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat

BIN = Path(sys.executable).parent
PARAMS = 'x = 1\ny = 2.0\nname = "a"\n'
BODY = [
    "z = x * y + 3\nw = z ** 2 - x\n",
    'label = f"{name}-{x}"\nprint(label.upper())\n',
    'import json\nprint("::" + json.dumps({"outputs": {"z": z, "label": label}}) + "::")\n',
]
PIPELINE_HEADER = "%%flow\nsteps:\n  - _a.ipynb\n  - parallel: [_b.ipynb, _c.ipynb]\n  - _d.ipynb\n"
NAP = "import time\ntime.sleep(0.5)\n"
STEPS = {"_a": "print(n + 1)\n", "_b": NAP + "print(n * 2)\n", "_c": NAP + "print(n * 3)\n", "_d": "print(n - 1)\n"}
PLOOMBER_YAML = """executor:
  dotted_path: ploomber.executors.Parallel
  processes: 2
tasks:
  - source: sweep.ipynb
    name: sweep-[[x]]
    product: out/sweep.ipynb  # Ploomber appends the grid index: out/sweep-0.ipynb, ...
    grid:
      x: {values}
"""
ENV = {**os.environ, "PLOOMBER_STATS_ENABLED": "false", "PLOOMBER_VERSION_CHECK_DISABLED": "true"}


def write_notebook(path: Path, params: str, body: list[str], header: str | None = None) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cells = []
    if header:
        cells.append(nbformat.v4.new_code_cell(header, metadata={"tags": ["skip-execution"]}))
    cells.append(nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}))
    nb.cells = cells + [nbformat.v4.new_code_cell(src) for src in body]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def generate(root: Path, sets: int) -> None:
    (root / "pyproject.toml").write_text('[tool.nbops]\nnamespace = "bench.runs"\n')
    write_notebook(root / "notebooks" / "sweep.ipynb", PARAMS, BODY)
    (root / "grid.yml").write_text(f"x: {list(range(sets))}\n")
    write_notebook(root / "notebooks" / "pipe" / "main.ipynb", "n = 1\n", [], header=PIPELINE_HEADER)
    for name, body in STEPS.items():
        write_notebook(root / "notebooks" / "pipe" / f"{name}.ipynb", "n = 1\n", [body])
    write_notebook(root / "ploomber" / "sweep.ipynb", PARAMS + "upstream = None\n", BODY)
    (root / "ploomber" / "pipeline.yaml").write_text(PLOOMBER_YAML.format(values=list(range(sets))))
    (root / "out").mkdir()


def run(*cmd: str | Path, cwd: Path) -> None:
    done = subprocess.run([str(c) for c in cmd], check=False, cwd=cwd, env=ENV, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(map(str, cmd))}\n{done.stdout}\n{done.stderr}")


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


@contextlib.contextmanager
def quiet_kernels() -> Iterator[None]:
    """Kernels started in this process inherit its stderr: keep their start-up warnings off the report."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def papermill_cli_loop(root: Path, sets: int) -> None:
    for i in range(sets):
        run(BIN / "papermill", "notebooks/sweep.ipynb", f"out/a-{i}.ipynb", "-p", "x", str(i), "-k", "python3",
            cwd=root)


def papermill_loop(root: Path, sets: int) -> None:
    import papermill

    with quiet_kernels():
        for i in range(sets):
            papermill.execute_notebook(str(root / "notebooks" / "sweep.ipynb"), str(root / "out" / f"b-{i}.ipynb"),
                                       parameters={"x": i}, progress_bar=False, kernel_name="python3", cwd=str(root))


def nbops_batch(root: Path) -> None:
    run(BIN / "nbops", "batch", "notebooks/sweep.ipynb", "--grid", "grid.yml", "--no-progress", cwd=root)


def ploomber_build(root: Path, sets: int) -> None:
    run(BIN / "ploomber", "build", "--force", cwd=root / "ploomber")
    made = list((root / "ploomber" / "out").glob("sweep-*.ipynb"))
    assert len(made) == sets, f"Ploomber made {len(made)} notebooks, expected {sets}"


def pipeline_papermill(root: Path, cli: bool) -> None:
    import papermill

    for name in STEPS:
        source, out = root / "notebooks" / "pipe" / f"{name}.ipynb", root / "out" / f"pipe{name}.ipynb"
        if cli:
            run(BIN / "papermill", source, out, "-p", "n", "1", "-k", "python3", cwd=root / "out")
        else:
            with quiet_kernels():
                papermill.execute_notebook(str(source), str(out), parameters={"n": 1}, progress_bar=False,
                                           kernel_name="python3", cwd=str(root / "out"))


def pipeline_nbops_in_process(root: Path) -> None:
    from kernel_ext.adapters.project import find_project
    from kernel_ext.services.run import run as nbops_run

    with quiet_kernels():
        record = nbops_run(find_project(root), "notebooks/pipe/main.ipynb", {})
    assert record.status.value == "SUCCESS", record


def one_round(root: Path, sets: int, ploomber: bool, parts: set[str]) -> dict[str, float]:
    """Every measurement once, one after another."""
    t: dict[str, float] = {}
    if "sweep" in parts:
        t.update(a=timed(lambda: papermill_cli_loop(root, sets)), b=timed(lambda: papermill_loop(root, sets)),
                 c=timed(lambda: nbops_batch(root)))
        if ploomber:
            t["d"] = timed(lambda: ploomber_build(root, sets))
    if "pipeline" in parts:
        t.update(_pipeline_round(root))
    if "single" in parts:
        t.update(_single_round(root))
    return t


def _pipeline_round(root: Path) -> dict[str, float]:
    t = {"pipe_nbops": timed(lambda: run(BIN / "nbops", "run", "notebooks/pipe/main.ipynb", cwd=root))}
    t["pipe_nbops_in"] = timed(lambda: pipeline_nbops_in_process(root))
    t["pipe_pm"] = timed(lambda: pipeline_papermill(root, cli=False))
    t["pipe_pm_cli"] = timed(lambda: pipeline_papermill(root, cli=True))
    return t


def _single_round(root: Path) -> dict[str, float]:
    t: dict[str, float] = {}
    singles = [(timed(lambda: run(BIN / "nbops", "run", "notebooks/sweep.ipynb", "-p", "x=1", cwd=root)),
                timed(lambda: run(BIN / "papermill", "notebooks/sweep.ipynb", "out/single.ipynb", "-p", "x", "1",
                                  "-k", "python3", cwd=root)))
               for _ in range(3)]
    t["single_nbops"] = statistics.median(s[0] for s in singles)
    t["single_pm"] = statistics.median(s[1] for s in singles)
    return t


def have_ploomber() -> bool:
    try:
        import ploomber  # noqa: F401
    except ImportError:
        print("note: Ploomber is not installed, (d) is skipped: pip install -e '.[bench]'")
        return False
    return True


def verdict(ratio: float, goal: float, at_least: bool) -> str:
    met = ratio >= goal if at_least else ratio <= goal
    return f"(goal {'>=' if at_least else '<='} {goal:g}: goal {'met' if met else 'missed'})"


def report(m: dict[str, float], sets: int) -> None:
    if "a" in m:
        _report_sweep(m, sets)
    if "pipe_nbops" in m:
        _report_pipeline(m)
    if "single_nbops" in m:
        _report_single(m)


def _report_sweep(m: dict[str, float], sets: int) -> None:
    print(f"sweep of {sets} parameter sets (whole runs):")
    print(f"  (a) papermill CLI, one process per set:      {m['a']:7.2f} s  ({m['a'] / sets:.3f} s/set)")
    print(f"  (b) papermill.execute_notebook loop:         {m['b']:7.2f} s  ({m['b'] / sets:.3f} s/set)")
    print(f"  (c) nbops batch, default workers:            {m['c']:7.2f} s  ({m['c'] / sets:.3f} s/set)")
    if "d" in m:
        print(f"  (d) ploomber build, grid + Parallel(2):      {m['d']:7.2f} s  ({m['d'] / sets:.3f} s/set)")
    print(f"  ratio (a)/(c): {m['a'] / m['c']:6.2f}  {verdict(m['a'] / m['c'], 10, True)}")
    print(f"  ratio (b)/(c): {m['b'] / m['c']:6.2f}  {verdict(m['b'] / m['c'], 3, True)}")
    if "d" in m:
        print(f"  ratio (d)/(c): {m['d'] / m['c']:6.2f}  {verdict(m['d'] / m['c'], 2, True)}")


def _report_pipeline(m: dict[str, float]) -> None:
    print("pipeline A -> (B, C) -> D, B and C sleep 0.5 s; like with like:")
    print(f"  nbops run, in this process (imports done):   {m['pipe_nbops_in']:7.2f} s")
    print(f"  4 x papermill.execute_notebook in sequence:  {m['pipe_pm']:7.2f} s")
    ratio = m["pipe_nbops_in"] / m["pipe_pm"]
    print(f"  ratio in-process: {ratio:.2f}  {verdict(ratio, 0.7, False)}")
    print(f"  nbops run (whole command):                   {m['pipe_nbops']:7.2f} s")
    print(f"  4 x papermill CLI in sequence:               {m['pipe_pm_cli']:7.2f} s")
    ratio = m["pipe_nbops"] / m["pipe_pm_cli"]
    print(f"  ratio commands: {ratio:.2f}  {verdict(ratio, 0.7, False)}")
    print(f"  (cold nbops command / warm papermill loop, mixed bases: {m['pipe_nbops'] / m['pipe_pm']:.2f})")


def _report_single(m: dict[str, float]) -> None:
    print("single run of the sweep notebook (whole commands):")
    print(f"  nbops run -p x=1:                            {m['single_nbops']:7.2f} s")
    print(f"  papermill -p x 1:                            {m['single_pm']:7.2f} s")
    overhead = (m["single_nbops"] - m["single_pm"]) / m["single_pm"]
    met = "met" if overhead < 0.10 else "missed"
    print(f"  overhead (nbops - papermill) / papermill: {overhead:+.1%}  (goal < 10 %: goal {met})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", type=int, default=40, help="parameter sets in the sweep")
    parser.add_argument("--runs", type=int, default=3, help="interleaved rounds; medians are reported")
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 sets, 1 round")
    parser.add_argument("--part", action="append", choices=("sweep", "pipeline", "single"),
                        help="measure only these parts (repeatable; default: all)")
    args = parser.parse_args(argv)
    parts = set(args.part or ("sweep", "pipeline", "single"))
    sets, runs = (10, 1) if args.quick else (args.sets, args.runs)
    ploomber = have_ploomber()
    import papermill  # noqa: F401  (b) and the in-process pipeline basis time execution, not the import

    with tempfile.TemporaryDirectory(prefix="nbops-run-bench-") as tmp:
        root = Path(tmp)
        generate(root, sets)
        rounds = []
        for i in range(runs):
            started = time.perf_counter()
            rounds.append(one_round(root, sets, ploomber, parts))
            print(f"round {i + 1}/{runs}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    medians = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    print(f"parameter sets: {sets}, rounds: {runs}, medians; {os.cpu_count()} cores; python {sys.version.split()[0]}")
    if ploomber:
        import ploomber as pl
        print(f"ploomber {pl.__version__}: one grid task over x, executor Parallel(processes=2), its copy of the "
              "notebook adds `upstream = None` (required by Ploomber) to the parameters cell")
    report(medians, sets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
