"""The Git layer (kernel_ext.adapters.git, GitRepo) against real repositories: a work tree in tmp_path
and bare remotes reached by path. No mocks: every assertion is about what git itself now holds.
Commits are made with plain git here; nbops' own commit path is tested through ``nbops commit``."""
from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Repo, flow_notebook

from kernel_ext.adapters.git import BACKUP_REFS, GitRepo, PushRejected
from kernel_ext.errors import ConfigError, ConflictError, NbopsError


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def write(root: Path, rel: str, text: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


@pytest.fixture
def gr(repo: Repo) -> Iterator[GitRepo]:
    """The conftest repository with a first commit (pyproject.toml, a flow, a notebook)."""
    write(repo.root, "_flows/a.yml", "id: a\nnamespace: acme.data\n")
    write(repo.root, "notebooks/a.ipynb", '{"cells": []}\n')
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", "first")
    with GitRepo.open(repo.root) as opened:
        yield opened


@pytest.fixture
def remote(tmp_path: Path, gr: GitRepo) -> Path:
    """A bare remote, added as origin (by path), holding main."""
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(gr.root, "remote", "add", "origin", str(bare))
    git(gr.root, "push", "-q", "origin", "main")
    return bare


def commit_paths(root: Path, message: str, *paths: str) -> str:
    """Setup with plain git: commit exactly ``paths`` (deletions too), whatever else is staged; the new HEAD."""
    git(root, "add", "-A", "--", *paths)
    git(root, "commit", "-q", "-m", message, "--only", "--", *paths)
    return git(root, "rev-parse", "HEAD")


def staged(root: Path) -> list[str]:
    return git(root, "diff", "--cached", "--name-only").splitlines()


def fsck_clean(root: Path) -> None:
    result = subprocess.run(["git", "fsck", "--strict", "--no-progress"], cwd=root, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in (result.stdout + result.stderr).lower()


# ---- opening, state ------------------------------------------------------------------------------

def test_open_refuses_a_folder_that_is_no_repository(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(NbopsError, match="not a Git repository") as info:
        GitRepo.open(tmp_path / "plain")
    assert info.value.hint and "git init" in info.value.hint


def test_state_before_first_commit_and_after(repo: Repo) -> None:
    fresh = GitRepo.open(repo.root)
    assert fresh.head_commit() is None
    assert fresh.branch() == "main"
    sha = commit_paths(repo.root, "first", "pyproject.toml")
    assert sha == fresh.head_commit() == git(repo.root, "rev-parse", "HEAD")


def test_open_from_a_sub_folder_finds_the_work_tree(gr: GitRepo) -> None:
    assert GitRepo.open(gr.root / "_flows").root == gr.root


# ---- what GitRepo.commit once guarded, now through the product path (nbops commit) ----------------
# nbops commit builds its commit in a private index (kernel_ext.adapters.git.commit); most of its
# guards are tested in test_gitflow.py, these are the ones tested nowhere else.

@pytest.fixture
def started(repo: Repo) -> Repo:
    """The conftest repository with a first commit, and one flow notebook ready to commit."""
    commit_paths(repo.root, "first", "pyproject.toml")
    repo.nb("a.ipynb")
    return repo


def unchanged(repo: Repo, head: str) -> bool:
    """Nothing committed, nothing staged."""
    return git(repo.root, "rev-parse", "HEAD") == head and staged(repo.root) == []


@pytest.mark.parametrize(("where", "message"), [
    ("absolute", "is outside the repository"), ("relative", "is outside the repository"),
    ("symlinked-folder", "is outside the repository"), ("git-dir", "is not a notebook"),
    ("typo", "no such file")])
def test_commit_refuses_paths_it_must_not_commit(started: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 where: str, message: str) -> None:
    monkeypatch.chdir(started.root)  # relative paths as typed in the repository
    outside = flow_notebook(tmp_path / "outside" / "secret.ipynb")
    os.symlink(outside.parent, started.root / "notebooks" / "linked")
    path = {"absolute": str(outside), "relative": "../outside/secret.ipynb", "git-dir": ".git/config",
            "symlinked-folder": "notebooks/linked/secret.ipynb", "typo": "notebooks/typo.ipynb"}[where]
    head = git(started.root, "rev-parse", "HEAD")
    result = started.cli("commit", path)
    assert result.code == 2 and message in result.err
    assert unchanged(started, head)


def test_conflict_markers_name_every_file_and_its_line(started: Repo) -> None:
    lines = {}
    for name in ("b", "c"):
        path = started.nb(f"{name}.ipynb")
        text = path.read_text().splitlines()
        at = next(i for i, line in enumerate(text) if '"x = 1' in line)
        text[at:at + 1] = ["<<<<<<< HEAD", text[at], "=======", text[at].replace("x = 1", "x = 2"), ">>>>>>> theirs"]
        path.write_text("\n".join(text) + "\n")  # as a line-wise merge leaves a notebook
        lines[name] = at + 1
    head = git(started.root, "rev-parse", "HEAD")
    result = started.cli("commit")
    said = result.out + result.err
    assert result.code == 3
    for name, line in lines.items():
        assert f"notebooks/{name}.ipynb has a merge-conflict marker at line {line}" in said
    assert unchanged(started, head)  # notebooks/a.ipynb, clean, is not committed alone either


@pytest.mark.parametrize("author", ["Eve <evil@x> <e@x>", "<e@x>", "Eve"])
def test_a_malformed_author_is_refused(started: Repo, author: str) -> None:
    (started.root / "pyproject.toml").write_text(f'[tool.nbops]\nnamespace = "acme.data"\nauthor = "{author}"\n')
    head = git(started.root, "rev-parse", "HEAD")
    result = started.cli("commit")
    assert result.code == 2 and "is not 'Name <email>'" in result.err
    assert unchanged(started, head)


def test_without_an_author_the_commit_is_gits_configured_user(started: Repo) -> None:
    assert started.cli("commit").code == 0
    assert git(started.root, "log", "-1", "--format=%an <%ae>|%cn") == "Test <test@example.com>|Test"


def test_commit_on_a_detached_head_is_refused(started: Repo) -> None:
    git(started.root, "checkout", "-q", "--detach")
    head = git(started.root, "rev-parse", "HEAD")
    result = started.cli("commit")
    assert result.code == 1 and "HEAD is detached" in result.err
    assert unchanged(started, head)


def test_a_live_index_lock_is_waited_for(started: Repo) -> None:
    lock = started.root / ".git" / "index.lock"
    lock.write_bytes(b"")  # another git at work: young, so not stale
    threading.Timer(0.4, lock.unlink).start()  # ... and it finishes while nbops waits
    result = started.cli("commit")
    assert result.code == 0, result.err
    assert git(started.root, "ls-tree", "-r", "--name-only", "HEAD").splitlines() == \
        ["_flows/a.yml", "notebooks/a.ipynb", "pyproject.toml"]
    assert git(started.root, "status", "--porcelain") == ""  # the index was refreshed once the lock was gone
    fsck_clean(started.root)


def test_a_blank_commit_message_is_refused(started: Repo) -> None:
    head = git(started.root, "rev-parse", "HEAD")
    result = started.cli("commit", "-m", "  ")
    assert result.code != 0 and unchanged(started, head)


# ---- remotes: URLs, branch names -------------------------------------------------------------------

HOSTILE = ["ext::sh -c touch% {m}", "fd::17", "--upload-pack=touch {m}", "-oProxyCommand=touch {m}",
           "ssh://-oProxyCommand=touch%20{m}/repo", "git@-oProxyCommand=x:repo", "helper::https://x/y",
           "ftp://example.com/repo.git", " https://example.com/x", "https://example.com/x\nfoo"]


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_remote_urls_are_refused_and_nothing_runs(gr: GitRepo, tmp_path: Path, url: str) -> None:
    marker = tmp_path / "pwned"
    url = url.format(m=marker)
    with pytest.raises(ConfigError):
        GitRepo.validate_remote_url(url)
    if url == url.strip() and "\n" not in url:  # what git config can hold
        with (gr.git_dir / "config").open("a") as config:
            config.write(f'[remote "origin"]\n\turl = {url}\n')
        for operation in (lambda: gr.remote_head("main"), lambda: gr.fetch("main"), lambda: gr.push("main")):
            with pytest.raises(ConfigError):
                operation()
    assert not marker.exists()


def test_git_itself_refuses_ext_even_past_validation(gr: GitRepo, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    result = gr.run("ls-remote", "--", f"ext::sh -c touch% {marker}", network=True, check=False)
    assert result.status != 0 and not marker.exists()


@pytest.mark.parametrize("url", ["https://github.com/acme/flows.git", "http://gitea.local/a/b", "git@github.com:a/b.git",
                                 "ssh://git@host:2222/a/b.git", "git://host/a.git", "file:///srv/git/a.git",
                                 "/srv/git/a.git", "../remote.git", "C:/repos/a.git"])
def test_ordinary_remote_urls_are_accepted(url: str) -> None:
    assert GitRepo.validate_remote_url(url) == url


@pytest.mark.parametrize("name", ["-x", "--force", "a..b", "a b", "refs/heads/x", "@{-1}", "x.lock", "", "HEAD",
                                  "a:b", "a~1", "feat/", "/x"])
def test_hostile_or_odd_branch_names_are_refused(gr: GitRepo, name: str) -> None:
    with pytest.raises(ConfigError):
        gr.validate_branch_name(name)


@pytest.mark.parametrize("name", ["main", "flows/dev", "release-1.2", "user_x"])
def test_plain_branch_names_are_accepted(gr: GitRepo, name: str) -> None:
    assert gr.validate_branch_name(name) == name


def test_no_remote_is_a_clear_error(gr: GitRepo) -> None:
    assert gr.remote_url() is None
    for operation in (lambda: gr.remote_head("main"), lambda: gr.fetch("main"), lambda: gr.push("main")):
        with pytest.raises(ConfigError, match="no remote 'origin': add one with git remote add origin URL"):
            operation()


def test_detached_head_is_a_clear_error_for_branch_operations(gr: GitRepo, remote: Path) -> None:
    git(gr.root, "checkout", "-q", "--detach")
    assert gr.branch() is None and gr.head_commit() is not None
    with pytest.raises(NbopsError, match="HEAD is detached; check out a branch"):
        gr.push("main")
    assert gr.remote_head("main") == gr.head_commit()  # reading needs no branch


# ---- remote_head, push, fetch ----------------------------------------------------------------------

def test_push_creates_the_branch_and_verifies_it(gr: GitRepo, remote: Path) -> None:
    assert gr.remote_url() == str(remote)
    write(gr.root, "_flows/b.yml", "id: b\n")
    sha = commit_paths(gr.root, "Add b", "_flows/b.yml")
    assert gr.remote_head("flows/dev") is None
    with pytest.raises(NbopsError, match="does not exist"):
        gr.push("flows/dev", create=False)
    assert gr.push("flows/dev") == sha
    assert git(remote, "rev-parse", "refs/heads/flows/dev") == sha == gr.remote_head("flows/dev")
    assert gr.push("main", create=False) == sha == git(remote, "rev-parse", "refs/heads/main")
    assert gr.push("main") == sha  # nothing new: still verified


def test_push_to_a_diverged_remote_is_rejected_and_changes_nothing(gr: GitRepo, remote: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    write(other, "_flows/theirs.yml", "id: theirs\n")
    git(other, "add", "_flows/theirs.yml")
    git(other, "-c", "user.name=O", "-c", "user.email=o@x", "commit", "-q", "-m", "theirs")
    git(other, "push", "-q", "origin", "main")
    theirs = git(other, "rev-parse", "HEAD")
    write(gr.root, "_flows/mine.yml", "id: mine\n")
    mine = commit_paths(gr.root, "mine", "_flows/mine.yml")
    with pytest.raises(PushRejected) as info:
        gr.push("main")
    assert info.value.exit_code == 7 and "main" in str(info.value) and info.value.hint
    assert "non-fast-forward" in info.value.reason or "fetch first" in info.value.reason
    assert gr.head_commit() == mine and git(remote, "rev-parse", "refs/heads/main") == theirs
    assert gr.fetch("main") == theirs
    assert gr.files_at("origin/main", "_flows") == {"_flows/a.yml": b"id: a\nnamespace: acme.data\n",
                                                     "_flows/theirs.yml": b"id: theirs\n"}


def test_remote_head_missing_branch_is_none_unreachable_remote_raises(gr: GitRepo, remote: Path,
                                                                       tmp_path: Path) -> None:
    assert gr.remote_head("nope") is None
    with pytest.raises(NbopsError, match="does not exist on origin"):
        gr.fetch("nope")
    git(gr.root, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    with pytest.raises(NbopsError, match="ls-remote failed") as info:
        gr.remote_head("main")
    assert info.value.hint
    with pytest.raises(NbopsError):
        gr.push("main")


# ---- reading revisions ------------------------------------------------------------------------------

def test_files_at_reads_a_folder_at_a_revision(gr: GitRepo) -> None:
    first = gr.head_commit()
    assert first is not None
    write(gr.root, "_flows/sub/b.yml", b"id: b\r\n\x00binary-ok")
    write(gr.root, "_flowsX/c.yml", "id: c\n")
    commit_paths(gr.root, "more", "_flows/sub/b.yml", "_flowsX/c.yml")
    assert gr.files_at("HEAD", "_flows/") == {"_flows/a.yml": b"id: a\nnamespace: acme.data\n",
                                              "_flows/sub/b.yml": b"id: b\r\n\x00binary-ok"}
    assert list(gr.files_at(first, "_flows")) == ["_flows/a.yml"]
    assert gr.files_at("HEAD", "missing") == {} and gr.files_at("HEAD", "pyproject.toml") == {}
    assert set(gr.files_at("main", "")) == {"pyproject.toml", "_flows/a.yml", "_flows/sub/b.yml", "_flowsX/c.yml",
                                            "notebooks/a.ipynb"}
    with pytest.raises(NbopsError, match="unknown revision 'origin/nope'"):
        gr.files_at("origin/nope", "_flows")
    with pytest.raises(ConfigError):
        gr.files_at("--output=/tmp/x", "_flows")
    with pytest.raises(ConflictError):
        gr.files_at("HEAD", "../")


# ---- backups ---------------------------------------------------------------------------------------

def test_backup_keeps_local_work_without_touching_anything_and_restore_brings_it_back(gr: GitRepo) -> None:
    write(gr.root, "_flows/a.yml", "id: a\r\nlocal edit\r\n")  # modified (CRLF kept byte for byte)
    write(gr.root, "_flows/new.yml", "id: new\n")  # untracked
    script = write(gr.root, "notebooks/run.sh", "#!/bin/sh\n")  # untracked, executable
    script.chmod(0o755)
    os.symlink("a.yml", gr.root / "_flows/link.yml")  # kept as a link, not as what it points to
    git(gr.root, "add", "_flows/new.yml")
    def state() -> tuple[object, ...]:
        return (git(gr.root, "rev-parse", "HEAD"), git(gr.root, "status", "--porcelain"),
                git(gr.root, "ls-files", "--stage"), gr.files_at("HEAD", ""))

    before = state()
    paths = ["_flows/a.yml", "_flows/new.yml", "notebooks/run.sh", "_flows/gone.yml", "_flows/link.yml"]
    ref = gr.backup(paths, "sync")
    assert ref.startswith(BACKUP_REFS) and ref.endswith("-sync")
    assert state() == before and (gr.root / "_flows/a.yml").read_bytes() == b"id: a\r\nlocal edit\r\n"
    assert git(gr.root, "rev-parse", f"{ref}^") == before[0]
    assert gr.files_at(ref, "_flows")["_flows/a.yml"] == b"id: a\r\nlocal edit\r\n"
    # a sync overwrites and deletes; restore puts the local work back
    write(gr.root, "_flows/a.yml", "id: a\nfrom remote\n")
    (gr.root / "_flows/new.yml").unlink()
    script.unlink()
    (gr.root / "_flows/link.yml").unlink()
    assert gr.restore(ref) == ["_flows/a.yml", "_flows/new.yml", "notebooks/run.sh", "_flows/link.yml"]
    assert os.readlink(gr.root / "_flows/link.yml") == "a.yml"
    assert (gr.root / "_flows/a.yml").read_bytes() == b"id: a\r\nlocal edit\r\n"
    assert (gr.root / "_flows/new.yml").read_text() == "id: new\n"
    assert os.access(script, os.X_OK) and not (gr.root / "_flows/gone.yml").exists()
    assert gr.restore(ref.removeprefix(BACKUP_REFS), ["_flows/new.yml"]) == ["_flows/new.yml"]
    fsck_clean(gr.root)


def test_backups_are_listed_newest_first(gr: GitRepo) -> None:
    assert gr.backups() == []
    first = gr.backup(["_flows/a.yml"], "sync")
    second = gr.backup(["notebooks/a.ipynb"], "manual")
    listed = gr.backups()
    assert [b.ref for b in listed] == [second, first]
    assert listed[0].message == "nbops backup: manual" and listed[0].date.tzinfo is not None
    ref, _, message = listed[1]
    assert (ref, message) == (first, "nbops backup: sync")
    with pytest.raises(NbopsError, match="no backup"):
        gr.restore("20000101T000000.000000Z-nope")
    with pytest.raises(ConfigError):
        gr.backup(["_flows/a.yml"], "../evil")


def test_backup_works_before_the_first_commit_and_without_an_identity(repo: Repo) -> None:
    git(repo.root, "config", "--unset", "user.email")
    git(repo.root, "config", "--unset", "user.name")
    fresh = GitRepo.open(repo.root)
    env = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith(("GIT_AUTHOR", "GIT_COMMITTER", "EMAIL"))}
    try:
        ref = fresh.backup(["pyproject.toml"], "first")
    finally:
        os.environ.update(env)
    assert fresh.head_commit() is None
    assert fresh.files_at(ref, "") == {"pyproject.toml": (repo.root / "pyproject.toml").read_bytes()}
