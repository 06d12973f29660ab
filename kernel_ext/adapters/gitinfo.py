"""What Git says about the working copy a run starts from (GitPython, imported on first use)."""
from __future__ import annotations

from pathlib import Path


def head_state(root: Path) -> tuple[str | None, bool | None]:
    """(HEAD commit, whether tracked files differ from it); (None, None) outside a repository or
    before the first commit."""
    import git

    try:
        repo = git.Repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None, None
    try:
        with repo:
            return repo.head.commit.hexsha, repo.is_dirty(untracked_files=False)
    except (ValueError, git.GitCommandError):  # no commit yet
        return None, None


def origin_and_branch(root: Path) -> tuple[str | None, str | None]:
    """The ``origin`` remote's URL and the checked-out branch (None for either when missing)."""
    import git

    try:
        repo = git.Repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None, None
    with repo:
        url = repo.remotes.origin.url if "origin" in [r.name for r in repo.remotes] else None
        branch = None if repo.head.is_detached else repo.active_branch.name
    return url, branch
