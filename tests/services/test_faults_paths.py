"""Nothing written outside the repository (docs/faults.md): export refuses symlinked flow folders
leading out, a flows folder inside .git, and two notebooks that would write one flow file."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
from conftest import Repo


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


def test_export_refuses_a_flows_folder_symlinked_out(repo: Repo, outside: Path) -> None:
    repo.nb("a.ipynb")
    (repo.root / "_flows").symlink_to(outside)
    result = repo.cli("export")
    assert result.code == 3, result
    assert "_flows/a.yml" in result.out and "outside the repository" in result.out
    assert "Traceback" not in result.out + result.err
    assert list(outside.iterdir()) == []
    # --keep-going still refuses that file, and writes the others
    assert repo.cli("export", "--keep-going").code == 3 and list(outside.iterdir()) == []


def test_export_refuses_a_child_folder_symlinked_out_and_writes_nothing(repo: Repo, outside: Path) -> None:
    repo.nb("a.ipynb")
    repo.nb("ext/b.ipynb")
    (repo.root / "_flows").mkdir()
    (repo.root / "_flows" / "ext").symlink_to(outside)
    result = repo.cli("export")
    assert result.code == 3 and "_flows/ext/b.yml" in result.out and "outside the repository" in result.out
    assert list(outside.iterdir()) == [] and not (repo.root / "_flows" / "a.yml").exists()
    assert "Traceback" not in result.out + result.err


def test_export_refuses_a_flows_folder_symlinked_into_git(repo: Repo) -> None:
    repo.nb("a.ipynb")
    (repo.root / "_flows").symlink_to(repo.root / ".git" / "hooks")
    result = repo.cli("export")
    assert result.code == 3 and "_flows/a.yml" in result.out
    assert not (repo.root / ".git" / "hooks" / "a.yml").exists()


@pytest.mark.parametrize("setting", ["flows", "notebooks"])
@pytest.mark.parametrize("value", [".git", ".git/hooks", "sub/.GIT/x"])
def test_a_folder_setting_inside_git_is_refused(repo: Repo, setting: str, value: str) -> None:
    repo.nb("a.ipynb")
    with (repo.root / "pyproject.toml").open("a") as handle:
        handle.write(f'{setting} = "{value}"\n')
    result = repo.cli("export")
    assert result.code == 2 and "pyproject.toml" in result.err and ".git" in result.err, result
    assert "Traceback" not in result.out + result.err
    assert not list((repo.root / ".git").rglob("*.yml"))


@pytest.mark.parametrize(("first", "second"), [("c./a.ipynb", "c/a.ipynb"), ("a..b/x.ipynb", "a/b/x.ipynb")])
def test_two_folders_mapping_to_one_flow_file_are_both_reported(repo: Repo, first: str, second: str) -> None:
    repo.nb(first)
    repo.nb(second)
    result = repo.cli("export")
    assert result.code == 3, result
    for notebook in (first, second):
        assert f"notebooks/{notebook}:" in result.out
    assert "also claimed by" in result.out and "the same file" in result.out
    assert repo.files() == {}
    check = repo.cli("check")
    assert check.code == 3 and f"notebooks/{first}" in check.out and f"notebooks/{second}" in check.out


def test_flow_ids_differing_only_by_case_are_warned_about(repo: Repo, caplog: pytest.LogCaptureFixture) -> None:
    repo.nb("daily.ipynb", "id: Daily\n")
    repo.nb("other.ipynb", "id: daily\n")
    with caplog.at_level(logging.WARNING):
        result = repo.cli("export")
    assert result.code == 0  # a warning, not a failure: Kestra's ids are case-sensitive
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "differ only by case" in warned and "notebooks/daily.ipynb" in warned and "notebooks/other.ipynb" in warned
