"""Benchmark: `nbops check` and `nbops commit` with one 45 MB notebook among 1,000 small ones.

Two repositories of 1,000 generated flow notebooks, exported and committed; each then gets one new
flow notebook: a 45 MB one (a third a PNG image, a third a printed log, a third an HTML table, as an
executed data notebook has) or the same notebook without its outputs. Each command runs as its own
process; its wall time and its peak resident memory (``ru_maxrss`` of that process, from
``os.wait4`` in a small launcher) are printed for both repositories, with the ratio big / small. Medians of several runs.

What it shows (issue 12): the big notebook's outputs are never held whole in memory (export, check
and commit read it one cell at a time, outputs skipped where they are not needed), so the peak is
that of the largest cell, not of the file; what time remains is the secret scan of its text outputs.

    python bench/large_notebook_bench.py [--notebooks 1000] [--megabytes 45] [--runs 3]
"""
from __future__ import annotations

import argparse
import base64
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_bench import generate, make_notebook

NBOPS = [sys.executable, "-m", "kernel_ext.cli"]  # the kernel_ext on PYTHONPATH (or installed)
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}


def big_notebook(path: Path, megabytes: int) -> None:
    """An executed-looking notebook of about ``megabytes`` MB: image, log and table outputs."""
    node = make_notebook(9999)
    rnd = random.Random(1)
    part = megabytes * 925_000 // 3  # the JSON around them adds the rest
    png = base64.b64encode(rnd.randbytes(part * 3 // 4)).decode()
    log = "".join(f"row {i}: value={rnd.random():.6f} ok\n" for i in range(part // 34))
    html = "<table>" + "".join(f"<tr><td>{i}</td><td>{rnd.random():.8f}</td></tr>" for i in range(part // 40))
    node.cells[3].outputs = [nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Fig>"})]
    node.cells[4].outputs = [nbformat.v4.new_output("stream", name="stdout", text=log)]
    node.cells[5].outputs = [nbformat.v4.new_output("execute_result", data={"text/html": html + "</table>"},
                                                    execution_count=1)]
    path.write_text(nbformat.writes(node).replace("\n ", "\n"))  # less indentation: megabytes as asked


def prepare(base: Path, notebooks: int) -> Path:
    base.mkdir(parents=True)
    generate(base, notebooks)
    subprocess.run([*NBOPS, "-C", str(base), "export"], check=True, capture_output=True)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "flows"]):
        subprocess.run(["git", *args], cwd=base, check=True, capture_output=True, env={**os.environ, **GIT_ENV})
    return base


# The command is started by a small launcher process: a child's peak RSS starts at its parent's RSS
# when forked (Linux keeps the old memory's high-water mark across exec), and this bench holds the
# generated notebook's text; the launcher is a fresh interpreter of a few MB.
LAUNCH = """import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
open(sys.argv[1], "w").write(f"{usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def measured(root: Path, command: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one command run as its own process."""
    figures = root / ".bench-rusage"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-S", "-c", LAUNCH, str(figures), *command], cwd=root,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **GIT_ENV}, check=False)
    elapsed = time.perf_counter() - start
    maxrss, code = map(int, figures.read_text().split())
    figures.unlink()
    if code not in (0, 4):  # check: 4 (drift) is not expected, but a figure all the same
        raise SystemExit(f"{' '.join(command)} failed ({code}): {done.stderr.decode()}")
    return elapsed, maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", type=int, default=1000)
    parser.add_argument("--megabytes", type=int, default=45)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="nbops-large-bench-") as tmp:
        base = prepare(Path(tmp) / "base", args.notebooks)
        new = Path("notebooks") / "team_0" / "big_report.ipynb"
        size = 0
        for round_ in range(args.runs):
            for kind in ("small", "big"):
                root = Path(tmp) / f"{kind}{round_}"
                shutil.copytree(base, root, symlinks=True)
                if kind == "big":
                    big_notebook(root / new, args.megabytes)
                    size = (root / new).stat().st_size
                else:
                    nbformat.write(make_notebook(9999), root / new)
                subprocess.run([*NBOPS, "export"], cwd=root, check=True, capture_output=True)
                figures.setdefault((kind, "check"), []).append(measured(root, [*NBOPS, "check"]))
                figures.setdefault((kind, "commit"), []).append(measured(root, [*NBOPS, "commit", "-m", "new"]))
                shutil.rmtree(root)
    print(f"repository: {args.notebooks} small flow notebooks + 1 new one, committed by nbops commit; "
          f"the big one is {size / 1e6:.1f} MB; medians of {args.runs} runs")
    print(f"  {'command':<14}{'without big: s':>16}{'MB':>8}{'with big: s':>14}{'MB':>8}{'ratio s':>9}{'ratio MB':>10}")
    for command in ("check", "commit"):
        small = [statistics.median(v) for v in zip(*figures[("small", command)])]
        big = [statistics.median(v) for v in zip(*figures[("big", command)])]
        print(f"  nbops {command:<8}{small[0]:>16.2f}{small[1]:>8.0f}{big[0]:>14.2f}{big[1]:>8.0f}"
              f"{big[0] / small[0]:>9.2f}{big[1] / small[1]:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
