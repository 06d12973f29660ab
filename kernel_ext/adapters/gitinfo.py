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
