"""`nbops demo`: the example flows run, exported, committed and catalogued in a repository of their
own, with real kernels, a real Git repository and a real MkDocs build; the project is not touched."""
from __future__ import annotations

import contextlib
import io
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT
from kernel_ext.cli import main

pytestmark = pytest.mark.slow


def demo(target: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["-C", str(ROOT), "demo", str(target)], out=out)
    return code, out.getvalue(), err.getvalue()


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def test_demo_runs_exports_commits_and_catalogues_the_examples(tmp_path: Path) -> None:
    before = git(ROOT, "status", "--porcelain", "--untracked-files=no")
    target = tmp_path / "demo"
    code, out, err = demo(target)
    assert code == 0, out + err
    examples = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").rglob("*.ipynb")
                      if not any(part.startswith(("_", ".")) for part in p.relative_to(ROOT / "notebooks").parts))
    assert out.count(": SUCCESS in ") == len(examples) == 6
    assert out.index("ingest.load_sales") < out.index("examples.sales_report")  # upstream flows run first
    committed = git(target, "show", "--name-only", "--format=%an %s", "HEAD").split("\n")
    assert committed[0] == "nbops demo nbops demo: the example flows and their Kestra YAML"
    assert set(examples) <= set(committed) and sum(p.startswith("_flows/") for p in committed) == 6
    assert git(target, "status", "--porcelain") == ""  # runs and site are ignored: the demo is clean
    index = (target / "site" / "index.html").read_text()
    assert "sales_report" in index and "load_sales" in index
    assert "Open the catalog: " in out and str(target / "site" / "index.html") in out
    page = next((target / "site").rglob("sales_report/index.html")).read_text()
    assert 'class="nbops-notebook"' in page and "SUCCESS" in page  # the last run and its executed notebook
    assert git(ROOT, "status", "--porcelain", "--untracked-files=no") == before  # the project is untouched


def test_a_clean_demo_is_replaced_and_one_with_work_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    assert demo(target)[0] == 0
    first = git(target, "rev-parse", "HEAD")
    assert demo(target)[0] == 0 and (target / ".git").is_dir()
    assert git(target, "rev-list", "--count", "HEAD").strip() == "2" and git(target, "rev-parse", "HEAD") != first
    mine = target / "notebooks" / "mine.ipynb"
    mine.write_text("{}")  # the user's own work in the demo
    code, _, err = demo(target)
    assert code != 0 and "changes of yours" in err and mine.read_text() == "{}"


def test_a_folder_that_is_not_a_demo_is_never_replaced(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    code, _, err = demo(target)
    assert code != 0 and "not a demo" in err and (target / "notes.txt").read_text() == "keep me"
