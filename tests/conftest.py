"""Shared fixtures: real Git repositories in temp folders, real notebooks written with nbformat,
and the CLI called in-process through ``main(argv)``."""
from __future__ import annotations

import contextlib
import io
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from kernel_ext.cli import main

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE = "acme.data"

CellSpec = tuple[str, str, Sequence[str]]  # (kind, source, tags)


def write_notebook(path: Path, cells: Sequence[CellSpec]) -> Path:
    """A real nbformat 4 notebook at ``path`` (parents created)."""
    make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
            "raw": nbformat.v4.new_raw_cell}
    node = nbformat.v4.new_notebook()
    node.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for kind, source, tags in cells:
        cell = make[kind](source)
        if tags:
            cell.metadata["tags"] = list(tags)
        node.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(node, path)
    return path


def flow_notebook(path: Path, header: str | None = None, params: str = "x = 1\n", body: str = "print(x)\n",
                  title: str = "# A flow\n\nWhat it does.") -> Path:
    """The usual shape: %%flow header (tagged), a Markdown description, a parameters cell, code."""
    cells: list[CellSpec] = []
    if header is not None:
        cells.append(("code", "%%flow\n" + header, ["skip-execution"]))
    cells += [("markdown", title, []), ("code", params, ["parameters"]), ("code", body, [])]
    return write_notebook(path, cells)


def clone(remote: Path, folder: Path) -> Repo:
    """A teammate's clone of ``remote`` at ``folder``, with a Git identity of its own."""
    subprocess.run(["git", "clone", "-q", str(remote), str(folder)], check=True)
    for key, value in (("user.email", "c@example.com"), ("user.name", "C")):
        subprocess.run(["git", "config", key, value], cwd=folder, check=True)
    return Repo(folder)


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@dataclass
class Repo:
    root: Path

    def nb(self, relative: str, header: str | None = None, **kwargs: str) -> Path:
        return flow_notebook(self.root / "notebooks" / relative, header, **kwargs)

    def cli(self, *args: str) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err):
            code = main(["-C", str(self.root), *args], out=out)
        return CliResult(code, out.getvalue(), err.getvalue())

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.root, check=True, capture_output=True, text=True).stdout

    def files(self, folder: str = "_flows") -> dict[str, bytes]:
        base = self.root / folder
        return {p.relative_to(self.root).as_posix(): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()} \
            if base.exists() else {}


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """A fresh Git repository configured as a flow repository of namespace acme.data."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pyproject.toml").write_text(f'[tool.nbops]\nnamespace = "{NAMESPACE}"\n')
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run(["git", "config", "user.email", "test@example.com"], cwd=root, check=True)
    subprocess.run(["git", "config", "user.name", "Test"], cwd=root, check=True)
    return Repo(root)
