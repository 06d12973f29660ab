"""The repositories and sites bench/catalog_bench.py builds (kept apart so the bench reads as what it times)."""
from __future__ import annotations

import copy
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from export_bench import generate  # the same 1,000 generated flow notebooks as the export bench

ASSETS = Path(__file__).resolve().parent.parent / "kernel_ext" / "catalog" / "assets"
GIT = ["git", "-c", "user.email=bench@example.com", "-c", "user.name=bench"]
# One configuration for every side: only the pages (and the plugin that makes them) differ.
THEME = """site_name: bench
theme:
  name: material
  font: false
  features: [content.code.copy, navigation.top, search.highlight, navigation.prune]
markdown_extensions:
  - tables
  - attr_list
  - admonition
  - pymdownx.details
  - pymdownx.highlight
  - pymdownx.superfences:
      custom_fences:
        - name: mermaid
          class: mermaid
          format: !!python/name:pymdownx.superfences.fence_code_format
"""


def _catalog_site(root: Path, plugins: str) -> Path:
    """The flow repository becomes a catalog site (no docs of its own), committed."""
    (root / "docs").mkdir()
    (root / "mkdocs.yml").write_text(THEME + f"plugins: {plugins}\n")
    (root / ".gitignore").write_text("site/\n.nbops/\n")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "flows"]):
        subprocess.run([*GIT, *args], cwd=root, check=True, capture_output=True)
    return root


def flow_repository(root: Path, flows: int) -> Path:
    """``flows`` exported, committed flow notebooks, with the catalog at the site root."""
    root.mkdir(parents=True)
    generate(root, flows)
    subprocess.run([Path(sys.executable).parent / "nbops", "-C", str(root), "export"], check=True, capture_output=True)
    return _catalog_site(root, "[search, tags, {nbops: {prefix: ''}}]")


def plain_site(folder: Path, repo: Path) -> Path:
    """The very Markdown the catalog generates for ``repo``, as plain files, with the same assets."""
    from kernel_ext.adapters.project import Project, load_options
    from kernel_ext.core.catalog_pages import render_catalog
    from kernel_ext.catalog.plugin import build_time
    from kernel_ext.services.catalog_data import gather

    site = render_catalog(gather(Project(repo, load_options(repo))), build_time())
    for path, markdown in site.pages.items():
        (folder / "docs" / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / "docs" / path).write_text(markdown)
    shutil.copytree(ASSETS, folder / "docs" / "assets" / "nbops", ignore=shutil.ignore_patterns("*.md", "*.LICENSE"))
    (folder / "mkdocs.yml").write_text(THEME + "plugins: [search, tags]\nextra_css: [assets/nbops/notebook.css]\n"
                                       "extra_javascript: [assets/nbops/mermaid.min.js]\n")
    return folder


def _template(root: Path) -> nbformat.NotebookNode:
    """One real executed notebook: Markdown, parameters, a print, a pandas table, a matplotlib PNG."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell("n = 0  # which report")
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Report\n\nA daily report with a table and a chart."),
        parameters,
        nbformat.v4.new_code_cell("import pandas as pd\nimport matplotlib\nmatplotlib.use('Agg')\n"
                                  "import matplotlib.pyplot as plt\nprint('report', n)"),
        nbformat.v4.new_code_cell("df = pd.DataFrame({'region': list('abcdefghij'), 'sales': range(10)})\ndf"),
        nbformat.v4.new_code_cell("df.plot(x='region', y='sales', kind='bar', figsize=(4, 2.5))\nplt.show()"),
    ]
    from nbclient import NotebookClient

    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(root)}}).execute()
    return nb


def _variant(template: nbformat.NotebookNode, i: int) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    """(the source notebook, its executed copy) for report ``i``: distinct content, so no cache shares work."""
    executed = copy.deepcopy(template)
    executed.cells[1].source = f"n = {i}  # which report"
    executed.cells[2].outputs[0]["text"] = f"report {i}\n"
    source = copy.deepcopy(executed)
    for cell in source.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return source, executed


def executed_repository(root: Path, count: int) -> Path:
    """``count`` flow notebooks, each with one successful run whose executed notebook is in the history."""
    from kernel_ext.adapters.store import RunStore
    from kernel_ext.core.runs import ExecutionRecord, RunStatus, StepRecord

    (root / "notebooks").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.nbops]\nnamespace = "bench.reports"\n')
    template = _template(root)
    (root / ".nbops").mkdir()
    with RunStore(root / ".nbops" / "state.db") as store:
        for i in range(count):
            source, executed = _variant(template, i)
            nbformat.write(source, root / "notebooks" / f"nb_{i:03d}.ipynb")
            output = f".nbops/runs/exec{i:03d}/nb_{i:03d}.ipynb"
            (root / output).parent.mkdir(parents=True)
            nbformat.write(executed, root / output)
            started = time.time() - 3600 + i
            step = StepRecord(f"nb_{i:03d}", f"notebooks/nb_{i:03d}.ipynb", RunStatus.SUCCESS, started, started + 2,
                              output_notebook=output, parameters={"n": i})
            store.save_execution(ExecutionRecord(f"exec{i:03d}", "bench.reports", f"nb_{i:03d}",
                                                 f"notebooks/nb_{i:03d}.ipynb", {"n": i}, RunStatus.SUCCESS, started,
                                                 started + 2, steps=(step,)))
    return _catalog_site(root, "[search, tags, nbops]")


def jupyter_site(folder: Path, repo: Path) -> Path:
    """mkdocs-jupyter rendering the same executed notebooks (not executing them: no cache involved)."""
    (folder / "docs").mkdir(parents=True)
    for path in sorted((repo / ".nbops" / "runs").rglob("*.ipynb")):
        shutil.copy(path, folder / "docs" / path.name)
    (folder / "mkdocs.yml").write_text(THEME + "plugins: [search, {mkdocs-jupyter: {execute: false}}]\n")
    return folder
