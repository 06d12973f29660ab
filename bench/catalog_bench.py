"""Benchmark: the nbops catalog against plain MkDocs pages, and against mkdocs-jupyter.

Two parts, each the median of several interleaved rounds, both sides with the same theme and
settings (Material, ``font: false``, search, the same Markdown extensions):

- ``pages``: a generated repository of 1,000 flows (notebooks exported and committed). The catalog
  build (``mkdocs build`` with the nbops plugin: it converts every notebook, reads Git history,
  writes and sanitizes every page) against ``mkdocs build`` of the same number of plain Markdown
  pages of the same size: the very Markdown the catalog generates, written as files. Goal <= 1.2.
  Also: the rebuild after one notebook changes, as ``mkdocs serve`` does it (in the same process).
- ``notebooks``: 100 executed notebooks (text, a pandas table, a matplotlib PNG). The catalog pages
  that embed them (from the run history in ``.nbops/state.db``) against mkdocs-jupyter rendering
  the same 100 notebooks (``execute: false``: it has no cache then). Build time goal <= 0.5x, page
  size goal <= 1/3. The catalog is timed cold (rendered-notebook cache emptied) and warm.

    python bench/catalog_bench.py [--part pages|notebooks|all] [--flows 1000] [--notebooks 100] [--runs 3]
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog_bench_setup import (  # noqa: E402  (bench/ is not a package)
    executed_repository,
    flow_repository,
    jupyter_site,
    plain_site,
)

PYTHON = sys.executable


def mkdocs_build(folder: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run([PYTHON, "-m", "mkdocs", "build", "-q", "-f", str(folder / "mkdocs.yml")], cwd=folder,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"mkdocs build failed in {folder}:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def serve_rebuild(repo: Path, notebook: Path) -> float:
    """Build once in this process, change one notebook, time the second build: what `mkdocs serve`
    does on a change (it reloads the config and rebuilds in the same process)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    def once() -> float:
        start = time.perf_counter()
        build(load_config(str(repo / "mkdocs.yml")), dirty=False)
        return time.perf_counter() - start

    once()
    notebook.write_text(notebook.read_text().replace("threshold = 0.25", "threshold = 0.35"))
    return once()


def page_sizes(site: Path, pattern: str) -> float:
    pages = [p for p in site.glob(pattern) if p.name == "index.html"]
    assert pages, f"no pages under {site}/{pattern}"
    return statistics.mean(p.stat().st_size for p in pages)


def part_pages(tmp: Path, flows: int, runs: int) -> None:
    repo = flow_repository(tmp / "catalog", flows)
    plain = plain_site(tmp / "plain", repo)
    catalog_times, plain_times = [], []
    for _ in range(runs):  # interleaved: noise hits both sides alike
        catalog_times.append(mkdocs_build(repo))
        plain_times.append(mkdocs_build(plain))
    c, p = statistics.median(catalog_times), statistics.median(plain_times)
    rebuild = serve_rebuild(repo, next((repo / "notebooks").rglob("*.ipynb")))
    print(f"pages: {flows} flows; {runs} rounds, medians")
    print(f"  catalog build (mkdocs build + nbops plugin):      {c:7.2f} s  ({c / flows * 1000:.1f} ms per flow)")
    print(f"  plain pages (same Markdown, same theme):          {p:7.2f} s")
    print(f"  ratio catalog / plain: {c / p:.2f}  (goal <= 1.2: goal {'met' if c / p <= 1.2 else 'missed'})")
    print(f"  rebuild after one notebook changed (as under serve): {rebuild:.2f} s")


def part_notebooks(tmp: Path, count: int, runs: int) -> None:
    repo = executed_repository(tmp / "executed", count)
    jupyter = jupyter_site(tmp / "jupyter", repo)
    cold, warm, theirs = [], [], []
    for _ in range(runs):
        shutil.rmtree(repo / ".nbops" / "catalog-cache", ignore_errors=True)
        cold.append(mkdocs_build(repo))
        warm.append(mkdocs_build(repo))
        theirs.append(mkdocs_build(jupyter))
    c, w, j = statistics.median(cold), statistics.median(warm), statistics.median(theirs)
    flow_pages = [p for p in (repo / "site").glob("catalog/**/index.html") if "nbops-notebook" in p.read_text()]
    assert len(flow_pages) == count, f"{len(flow_pages)} catalog pages embed a notebook, expected {count}"
    ours_size = statistics.mean(p.stat().st_size for p in flow_pages)
    their_size = page_sizes(jupyter / "site", "nb_*/index.html")
    print(f"notebooks: {count} executed notebooks; {runs} rounds, medians")
    print(f"  catalog, cold cache:  {c:6.2f} s  ({c / count * 1000:.0f} ms per page)")
    print(f"  catalog, warm cache:  {w:6.2f} s  ({w / count * 1000:.0f} ms per page)")
    print(f"  mkdocs-jupyter:       {j:6.2f} s  ({j / count * 1000:.0f} ms per page)")
    print(f"  time ratio catalog / mkdocs-jupyter: cold {c / j:.2f}, warm {w / j:.2f}  "
          f"(goal <= 0.5: goal {'met' if c / j <= 0.5 else 'missed'} cold, {'met' if w / j <= 0.5 else 'missed'} warm)")
    print(f"  page size: catalog {ours_size / 1024:.0f} KB, mkdocs-jupyter {their_size / 1024:.0f} KB; "
          f"ratio {ours_size / their_size:.2f} (goal <= 0.33: goal {'met' if ours_size / their_size <= 1 / 3 else 'missed'})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["pages", "notebooks", "all"], default="all")
    parser.add_argument("--flows", type=int, default=1000)
    parser.add_argument("--notebooks", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nbops-catalog-bench-") as folder:
        tmp = Path(folder)
        if args.part in ("pages", "all"):
            part_pages(tmp, args.flows, args.runs)
        if args.part in ("notebooks", "all"):
            part_notebooks(tmp, args.notebooks, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
