"""Benchmark: `nbops commit` versus `git add -A && git commit` of the same change.

A flow repository of 1,000 notebooks with their exported flows, committed; then 10 notebooks
change (a parameter default). Each side gets its own copy of that repository and commits the
change as one command: nbops also exports the 10 flows, validates them, strips outputs, scans for
secrets and stages exactly those files; git adds whatever changed. Medians of several rounds.

Goal (GitOps issue): nbops / git <= 1.5.

    python bench/commit_bench.py [--notebooks 1000] [--changed 10] [--runs 5]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_bench import generate  # noqa: E402  (the same generated notebooks as the export bench)

BIN = Path(sys.executable).parent
# The fixed cost of any Python command doing this job: the interpreter, Git access and the
# maintained secret detector (detect-secrets pulls in requests), with no work at all.
FLOOR = "import git, detect_secrets.plugins.keyword, detect_secrets.core.plugins.util"
GIT_ID = ["-c", "user.email=bench@example.com", "-c", "user.name=bench"]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *GIT_ID, *args], cwd=root, check=True, capture_output=True)


def prepare(base: Path, notebooks: int, changed: int) -> Path:
    """The committed repository, then the change: ``changed`` notebooks get a new default."""
    base.mkdir(parents=True)
    paths = generate(base, notebooks)
    subprocess.run([BIN / "nbops", "-C", str(base), "export"], check=True, capture_output=True)
    git(base, "init", "-q", "-b", "main")
    git(base, "add", "-A")
    git(base, "commit", "-qm", "flows")
    for path in paths[:: max(1, notebooks // changed)][:changed]:
        node = nbformat.read(path, as_version=4)
        node.cells[2].source = node.cells[2].source.replace("threshold = 0.25", "threshold = 0.3")
        nbformat.write(node, path)
    return base


def timed(root: Path, command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=root, check=True, capture_output=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", type=int, default=1000)
    parser.add_argument("--changed", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    nbops, plain, floor = [], [], []
    with tempfile.TemporaryDirectory(prefix="nbops-commit-bench-") as tmp:
        base = prepare(Path(tmp) / "base", args.notebooks, args.changed)
        for round_ in range(args.runs):  # interleaved: noise hits both sides alike
            a, b = Path(tmp) / f"n{round_}", Path(tmp) / f"g{round_}"
            shutil.copytree(base, a, symlinks=True)
            shutil.copytree(base, b, symlinks=True)
            nbops.append(timed(a, ["env", "GIT_AUTHOR_NAME=bench", "GIT_AUTHOR_EMAIL=bench@example.com",
                                   "GIT_COMMITTER_NAME=bench", "GIT_COMMITTER_EMAIL=bench@example.com",
                                   str(BIN / "nbops"), "commit", "-m", "change"]))
            plain.append(timed(b, ["sh", "-c", "git add -A && git -c user.email=b@x -c user.name=b commit -qm change"]))
            floor.append(timed(b, [sys.executable, "-c", FLOOR]))
            committed = subprocess.run(["git", "show", "--name-only", "--format=", "HEAD"], cwd=a, check=True,
                                       capture_output=True, text=True).stdout.split()
            assert len(committed) == 2 * args.changed, committed  # the notebooks and their flows
    n, g, f = statistics.median(nbops), statistics.median(plain), statistics.median(floor)
    print(f"repository: {args.notebooks} flows, {args.changed} changed notebooks; {args.runs} rounds, medians")
    print(f"  nbops commit (export, validate, strip, scan, commit): {n:.3f} s")
    print(f"  git add -A && git commit:                              {g:.3f} s")
    print(f"  floor: a Python that only imports what the work needs:  {f:.3f} s  (ratio to git {f / g:.2f})")
    print(f"  ratio nbops / git: {n / g:.2f}  (goal <= 1.5: goal {'met' if n / g <= 1.5 else 'missed'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
