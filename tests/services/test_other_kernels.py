"""Notebooks in other languages run in their own kernel, locally and in the exported flow, or are
refused naming their language (issue 11, point 5). A real bash kernel (bash_kernel, from PyPI)
runs end to end; its kernelspec is installed into a temporary JUPYTER_PATH, never the user's."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import NAMESPACE, Repo

pytestmark = pytest.mark.slow

BASH_IMAGE = "acme/bash-notebooks:1"


def other_notebook(path: Path, kernel: str, language: str, cells: list[tuple[str, list[str]]]) -> Path:
    node = nbformat.v4.new_notebook()
    node.metadata["kernelspec"] = {"name": kernel, "display_name": language, "language": language}
    node.metadata["language_info"] = {"name": language}
    node.cells = [nbformat.v4.new_code_cell(source, metadata={"tags": tags} if tags else {}) for source, tags in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(node, path)
    return path


def bash_notebook(repo: Repo, name: str = "sh.ipynb") -> Path:
    return other_notebook(repo.root / "notebooks" / name, "bash", "bash", [
        ("%%flow\ndescription: A flow in bash\n", []),  # untagged: nbops run must skip it all the same
        ("n=3\n", ["parameters"]),
        ('echo "n is $n"\n', []),
        ('echo "::{\\"outputs\\": {\\"doubled\\": $((n * 2))}}::"\n', []),
    ])


def configure(repo: Repo, kernels: str) -> None:
    (repo.root / "pyproject.toml").write_text(f'[tool.nbops]\nnamespace = "{NAMESPACE}"\n\n{kernels}')


@pytest.fixture
def bash_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    pytest.importorskip("bash_kernel")
    prefix = tmp_path / "jupyter-prefix"
    subprocess.run([sys.executable, "-m", "bash_kernel.install", "--prefix", str(prefix)], check=True,
                   capture_output=True)
    monkeypatch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    return "bash"


def test_a_bash_notebook_runs_in_the_bash_kernel_and_exports_for_its_image(repo: Repo, bash_kernel: str) -> None:
    configure(repo, f'[tool.nbops.kernels.bash]\nimage = "{BASH_IMAGE}"\ninstall = false\n')
    bash_notebook(repo)
    result = repo.cli("run", "notebooks/sh.ipynb", "-p", "n=5", "--json")
    assert result.code == 0, result.out + result.err
    record = json.loads(result.out)
    assert record["status"] == "SUCCESS" and record["outputs"] == {"doubled": 10}
    executed = json.loads((repo.root / record["steps"][0]["output_notebook"]).read_text())
    assert executed["metadata"]["kernelspec"]["name"] == "bash"
    header = next(c for c in executed["cells"] if "".join(c["source"]).startswith("%%flow"))
    assert header["outputs"] == [] and header.get("execution_count") is None  # skipped, not run by bash
    streams = "".join("".join(o.get("text", "")) for c in executed["cells"] for o in c.get("outputs", []))
    assert "n is 5" in streams

    result = repo.cli("export")
    assert result.code == 0, result.out + result.err
    flow = yaml.safe_load((repo.root / "_flows" / "sh.yml").read_text())
    (task,) = flow["tasks"]
    assert task["containerImage"] == BASH_IMAGE and "beforeCommands" not in task
    assert "--kernel bash" in task["commands"][-1]


def test_a_notebook_in_another_language_is_refused_until_its_image_is_configured(repo: Repo) -> None:
    bash_notebook(repo)
    for command in (("run", "notebooks/sh.ipynb"), ("export",)):
        result = repo.cli(*command)
        assert result.code == 3, result.out + result.err
        said = result.out + result.err
        assert "the bash kernel 'bash'" in said and "[tool.nbops.kernels.bash]" in said
    assert not (repo.root / "_flows").exists() and not (repo.root / ".nbops" / "runs").exists()


def test_a_kernel_not_installed_here_is_named_before_anything_runs(repo: Repo) -> None:
    configure(repo, '[tool.nbops.kernels.ir]\nimage = "jupyter/r-notebook:2024-05-27"\n')
    other_notebook(repo.root / "notebooks" / "r.ipynb", "ir", "R", [("n <- 1\n", []), ("print(n)\n", [])])
    result = repo.cli("run", "notebooks/r.ipynb")
    assert result.code == 1, result.out + result.err
    assert "no Jupyter kernel named 'ir' is installed (the R kernel of notebooks/r.ipynb)" in result.err
    assert "install the R kernel under the name 'ir'" in result.err
    assert not list((repo.root / ".nbops" / "runs").glob("*/*.ipynb"))
