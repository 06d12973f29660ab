"""The pre-commit hooks nbops offers point at real commands with the documented options."""
from __future__ import annotations

import shlex

import yaml

from conftest import ROOT, Repo


def hooks() -> list[dict]:
    return yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())


def test_hooks_have_what_pre_commit_requires() -> None:
    for hook in hooks():
        assert {"id", "name", "entry", "language"} <= set(hook)
        assert hook["language"] == "python" and shlex.split(hook["entry"])[0] == "nbops"


def test_the_check_hook_runs_the_ci_gate(repo: Repo) -> None:
    (check,) = [h for h in hooks() if h["id"] == "nbops-check"]
    repo.nb("report.ipynb")
    args = shlex.split(check["entry"])[1:]
    assert repo.cli(*args).code == 4  # the flow is missing: the hook fails the commit
    assert repo.cli("export").code == 0 and repo.cli(*args).code == 0


def test_the_export_hook_takes_the_staged_notebooks(repo: Repo) -> None:
    (export,) = [h for h in hooks() if h["id"] == "nbops-export"]
    notebook = repo.nb("report.ipynb")
    assert repo.cli(*shlex.split(export["entry"])[1:], str(notebook)).code == 0
    assert list(repo.files()) == ["_flows/report.yml"]
