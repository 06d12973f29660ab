"""Commit a built site to a ``gh-pages``-style branch, as ``mkdocs gh-deploy`` does, but with
Git's plumbing only: the folder is added through a private index (``GIT_INDEX_FILE``) with the
site as the work tree, so the user's index, working tree and checked-out branch stay untouched;
the branch moves with ``update-ref`` only if it still points where it did."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import NbopsError
from . import remote as remotes

if TYPE_CHECKING:
    from .repo import GitRepo

EMPTY_SHA = "0" * 40


@dataclass(frozen=True)
class Published:
    branch: str
    commit: str
    changed: bool  # False: the branch already held exactly this site
    pushed: bool = False


def branch_commit(repo: GitRepo, branch: str) -> str | None:
    result = repo.run("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}", check=False)
    return result.out.strip() if result.status == 0 and result.out.strip() else None


def commit_folder(repo: GitRepo, folder: Path, branch: str, message: str, parent: str | None = None) -> Published:
    """One commit whose tree is exactly ``folder`` (ignore rules do not apply: a site is published
    whole), on top of ``parent`` (default: the branch's commit); no commit when nothing changed."""
    repo.validate_branch_name(branch)
    if not folder.is_dir():
        raise NbopsError("the site folder does not exist", file=str(folder), hint="build the catalog first")
    old = branch_commit(repo, branch)
    parent = parent or old
    fd, index = tempfile.mkstemp(prefix="nbops-publish-index-")
    os.close(fd)
    os.unlink(index)  # git creates it
    env = {"GIT_INDEX_FILE": index}
    try:
        repo.run(f"--work-tree={folder.resolve()}", "add", "--all", "--force", env=env)
        tree = repo.run("write-tree", env=env).out.strip()
    finally:
        Path(index).unlink(missing_ok=True)
    if parent and repo.run("rev-parse", f"{parent}^{{tree}}").out.strip() == tree:
        if parent != old:
            repo.run("update-ref", f"refs/heads/{branch}", parent, old or EMPTY_SHA)
        return Published(branch, parent, changed=False)
    commit = repo.run("commit-tree", tree, *(["-p", parent] if parent else []), "-m", message).out.strip()
    repo.run("update-ref", "-m", f"nbops catalog publish: {message}", f"refs/heads/{branch}", commit, old or EMPTY_SHA)
    return Published(branch, commit, changed=True)


def remote_parent(repo: GitRepo, branch: str) -> str | None:
    """What to publish on: the local branch when it is ahead of the remote one (a publish not yet
    pushed), else the remote's commit (fetched): when the local branch is missing, behind or has
    diverged, building on the local one would be rejected at every push. A site is rebuilt whole,
    so a diverged local publish loses nothing (its commit stays in the reflog)."""
    if remotes.remote_head(repo, branch) is None:
        return None
    remote = remotes.fetch(repo, branch)
    local = branch_commit(repo, branch)
    if local is not None and repo.run("merge-base", "--is-ancestor", remote, local, check=False).status == 0:
        return local
    return remote


def push_branch(repo: GitRepo, branch: str, commit: str) -> None:
    """Push the commit to the remote branch (never forced); counts once ls-remote shows it."""
    url = repo.remote_url()
    if url is None:
        raise NbopsError(f"no remote '{repo.remote}'", hint=f"git remote add {repo.remote} URL")
    repo.validate_remote_url(url)
    result = repo.run("push", "--porcelain", "--", repo.remote, f"{commit}:refs/heads/{branch}",
                      network=True, check=False)
    if result.status != 0:
        refused = [line.split("\t")[-1] for line in result.out.splitlines() if line.startswith("!")]
        if refused:
            raise remotes.PushRejected(f"push to {repo.remote}/{branch} rejected: {refused[0]}", branch=branch,
                                         reason=refused[0], hint="someone published meanwhile: publish again")
        raise NbopsError(f"push to {repo.remote}/{branch} failed: {result.err.strip() or result.out.strip()}")
    if remotes.remote_head(repo, branch) != commit:
        raise NbopsError(f"push to {repo.remote}/{branch} not confirmed", hint="fetch and look")
