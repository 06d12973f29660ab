"""Nothing lost: ``nbops commit`` takes deletions from Git's view of the work tree (a sparse
checkout or a skip-worktree file is no deletion), ``check`` does not call files that are not
checked out orphans, and mass deletions by ``commit`` or ``sync --delete`` need ``--force``.
Real repositories, real bare remotes, real ``git sparse-checkout``."""
from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import Repo, clone

NAMES = ("a", "b", "c")


def published(repo: Repo, tmp_path: Path) -> Path:
    """Three flows committed and pushed by nbops to a bare remote; the remote's path."""
    (repo.root / "README.md").write_text("flows\n")
    repo.git("add", "README.md", "pyproject.toml")
    repo.git("commit", "-qm", "start")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    for name in NAMES:
        repo.nb(f"{name}.ipynb")
    assert repo.cli("commit").code == 0 and repo.cli("push").code == 0
    return remote


def tracked(repo: Repo) -> set[str]:
    return set(repo.git("ls-files").split())


def remote_files(remote: Path) -> set[str]:
    out = subprocess.run(["git", "--git-dir", str(remote), "ls-tree", "-r", "--name-only", "main"],
                         check=True, capture_output=True, text=True).stdout
    return set(out.split())


EVERYTHING = {f"{folder}/{name}.{ext}" for name in NAMES for folder, ext in (("notebooks", "ipynb"), ("_flows", "yml"))}


def test_commit_in_a_sparse_checkout_deletes_nothing(repo: Repo, tmp_path: Path) -> None:
    remote = published(repo, tmp_path)
    mine = clone(remote, tmp_path / "mine")
    mine.git("sparse-checkout", "set", "--no-cone", "/_flows/", "/pyproject.toml")
    assert not (mine.root / "notebooks").exists() and (mine.root / "_flows" / "a.yml").exists()
    before = mine.git("rev-parse", "HEAD")
    result = mine.cli("commit")
    assert result.code == 1 and "nothing to commit" in result.err, result.out + result.err
    assert mine.git("rev-parse", "HEAD") == before and EVERYTHING <= tracked(mine)
    assert (mine.root / "_flows" / "a.yml").exists()  # the checked-out flows stay on disk
    mine.cli("push")
    assert EVERYTHING <= remote_files(remote)


def test_a_real_deletion_inside_a_sparse_checkout_still_commits(repo: Repo, tmp_path: Path) -> None:
    remote = published(repo, tmp_path)
    mine = clone(remote, tmp_path / "mine")
    mine.git("sparse-checkout", "set", "--no-cone", "/_flows/", "/pyproject.toml", "/notebooks/a.ipynb")
    (mine.root / "notebooks" / "a.ipynb").unlink()
    result = mine.cli("commit")
    assert result.code == 0, result.err
    assert tracked(mine) & EVERYTHING == EVERYTHING - {"notebooks/a.ipynb", "_flows/a.yml"}


def test_commit_with_skip_worktree_files_deletes_nothing(repo: Repo, tmp_path: Path) -> None:
    published(repo, tmp_path)
    for name in NAMES:
        repo.git("update-index", "--skip-worktree", f"notebooks/{name}.ipynb")
        (repo.root / "notebooks" / f"{name}.ipynb").unlink()
    before = repo.git("rev-parse", "HEAD")
    result = repo.cli("commit")
    assert result.code == 1 and "nothing to commit" in result.err, result.out + result.err
    assert repo.git("rev-parse", "HEAD") == before and EVERYTHING <= tracked(repo)
    assert all((repo.root / "_flows" / f"{name}.yml").exists() for name in NAMES)


def test_check_in_a_sparse_checkout_reports_what_it_did_not_check(repo: Repo, tmp_path: Path) -> None:
    remote = published(repo, tmp_path)
    mine = clone(remote, tmp_path / "mine")
    mine.git("sparse-checkout", "set", "--no-cone", "/_flows/", "/pyproject.toml")
    result = mine.cli("check")
    assert result.code == 0, result.out
    assert "orphan" not in result.out and "sparse checkout: 3 notebook or flow file(s)" in result.out
    assert "notebooks/a.ipynb" in result.out
    mine.git("sparse-checkout", "set", "--no-cone", "/notebooks/", "/pyproject.toml")  # flows off the disk
    result = mine.cli("check")
    assert result.code == 0 and "missing" not in result.out and "sparse checkout: 3" in result.out, result.out


def test_commit_refuses_to_delete_most_flows_without_force(repo: Repo, tmp_path: Path) -> None:
    remote = published(repo, tmp_path)
    before = repo.git("rev-parse", "HEAD")
    for name in ("a", "b"):
        (repo.root / "notebooks" / f"{name}.ipynb").unlink()
    refused = repo.cli("commit")
    assert refused.code == 1, refused.out + refused.err
    assert "would delete 2 of 3 flows" in refused.err and "--force" in refused.err
    assert "_flows/a.yml" in refused.err
    assert repo.git("rev-parse", "HEAD") == before and (repo.root / "_flows" / "a.yml").exists()
    forced = repo.cli("commit", "--force")
    assert forced.code == 0, forced.err
    assert tracked(repo) & EVERYTHING == {"notebooks/c.ipynb", "_flows/c.yml"}
    assert not (repo.root / "_flows" / "a.yml").exists()
    assert repo.cli("push").code == 0 and "_flows/a.yml" not in remote_files(remote)


def test_sync_delete_guards_notebooks_as_well_as_flows(repo: Repo, tmp_path: Path) -> None:
    remote = published(repo, tmp_path)
    mine = clone(remote, tmp_path / "mine")
    repo.git("rm", "-q", "--cached", *(f"notebooks/{name}.ipynb" for name in NAMES))  # flows kept
    repo.git("commit", "-qm", "drop the notebooks, keep the flows")
    repo.git("push", "-q", "origin", "main")
    refused = mine.cli("sync", "--delete")
    assert refused.code == 1, refused.out + refused.err
    assert "would delete 3 of 3 notebooks" in refused.err and "more than 50%" in refused.err
    assert all((mine.root / "notebooks" / f"{name}.ipynb").exists() for name in NAMES)
    forced = mine.cli("sync", "--delete", "--force")
    assert forced.code == 0, forced.err
    assert not any((mine.root / "notebooks" / f"{name}.ipynb").exists() for name in NAMES)
    assert all((mine.root / "_flows" / f"{name}.yml").exists() for name in NAMES)
