"""Benchmark: `nbops export` of 1,000 generated notebooks versus papermill's own inspection.

`nbops export` does everything a real export does: read, parse header and parameters, build and
validate the Kestra flow, render YAML and write every file atomically (_flows/ is removed before
each run, so every file is really written). papermill's side is `papermill.inspect_notebook` on
each notebook, in one process: reading it and inferring its parameters.

Two comparisons, each the median of several interleaved runs on the same notebooks:
- commands: a fresh `nbops export` process versus a fresh Python process that imports papermill
  and inspects every notebook: what a user or CI job waits for, imports included;
- in-process loops: both already imported, only the per-notebook work timed.

Goal (issue #2): export / inspection <= 1.0.

    python bench/export_bench.py [--notebooks 1000] [--runs 5]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

HEADER = """%%flow
labels:
  team: team_{team}
  tier: "{tier}"
schedule: "{minute} 6 * * 1-5"
timezone: Europe/Paris
retry:
  type: constant
  interval: PT1M
  maxAttempt: 2
timeout: PT1H
"""
PARAMS = """start_date = "2024-01-01"  # first day of the report
end_date = "2024-01-31"  # last day
region = "eu"  # sales region
top_n: int = {n}  # how many products to show
threshold = 0.25  # alert threshold
dry_run = False  # do not publish
"""
BODY = [
    "import pandas as pd\nimport matplotlib.pyplot as plt\n",
    "df = pd.read_csv('data/sales.csv', parse_dates=['day'])\ndf = df[(df.day >= start_date) & (df.day <= end_date)]\n",
    "top = df.groupby('product').revenue.sum().nlargest(top_n)\ntop.plot.bar()\nplt.title(f'Top {top_n} in {region}')\n",
    "total = float(df.revenue.sum())\nprint(f'::{{\"outputs\": {{\"total\": {total}}}}}::')\n",
]


def make_notebook(index: int) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    header = nbformat.v4.new_code_cell(HEADER.format(team=index % 7, tier=index % 3, minute=index % 60))
    header.metadata["tags"] = ["skip-execution"]
    params = nbformat.v4.new_code_cell(PARAMS.format(n=5 + index % 10))
    params.metadata["tags"] = ["parameters"]
    nb.cells = [header, nbformat.v4.new_markdown_cell(f"# Report {index}\n\nRevenue by product, region and day."),
                params, *(nbformat.v4.new_code_cell(src) for src in BODY)]
    return nb


def generate(root: Path, count: int) -> list[Path]:
    (root / "pyproject.toml").write_text('[tool.nbops]\nnamespace = "bench.flows"\n')
    paths = []
    for i in range(count):
        path = root / "notebooks" / f"team_{i % 10}" / f"report_{i:04d}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(make_notebook(i), path)
        paths.append(path)
    return paths


def time_export(root: Path) -> float:
    from kernel_ext.adapters.project import find_project
    from kernel_ext.services.export import export

    shutil.rmtree(root / "_flows", ignore_errors=True)
    start = time.perf_counter()
    result = export(find_project(root))
    elapsed = time.perf_counter() - start
    assert result.ok and len(result.written) == len(list((root / "notebooks").rglob("*.ipynb"))), result.failed[:1]
    return elapsed


def time_inspect(paths: list[Path]) -> float:
    import papermill

    start = time.perf_counter()
    for path in paths:
        papermill.inspect_notebook(str(path))
    return time.perf_counter() - start


INSPECT_SCRIPT = """
import sys, papermill
for path in sys.argv[1:]:
    papermill.inspect_notebook(path)
"""


def time_commands(root: Path, paths: list[Path]) -> tuple[float, float]:
    nbops = Path(sys.executable).with_name("nbops")
    shutil.rmtree(root / "_flows", ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([str(nbops), "-C", str(root), "export"], check=True, capture_output=True)
    export_s = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", INSPECT_SCRIPT, *map(str, paths)], check=True, capture_output=True)
    return export_s, time.perf_counter() - start


def _report(label: str, export_s: float, inspect_s: float, count: int) -> None:
    print(f"{label}")
    print(f"  nbops export (read, validate, write):   {export_s:.3f} s  ({export_s / count * 1e3:.3f} ms/notebook)")
    print(f"  papermill.inspect_notebook (read only): {inspect_s:.3f} s  ({inspect_s / count * 1e3:.3f} ms/notebook)")
    print(f"  ratio export / inspect: {export_s / inspect_s:.2f}  (goal <= 1.0)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nbops-bench-") as tmp:
        root = Path(tmp)
        paths = generate(root, args.notebooks)
        commands = [time_commands(root, paths) for _ in range(args.runs)]  # interleaved: noise hits both
        time_export(root), time_inspect(paths[:10])  # warm imports and caches on both sides
        loops = [(time_export(root), time_inspect(paths)) for _ in range(args.runs)]
    print(f"notebooks: {args.notebooks}, runs: {args.runs}, medians; {os.cpu_count()} cores")
    for label, pairs in (("commands (fresh processes, imports included):", commands),
                         ("in-process loops (imports excluded):", loops)):
        _report(label, statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs),
                args.notebooks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
