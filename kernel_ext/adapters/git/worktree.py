"""What the work tree holds and where it stands, for :class:`repo.GitRepo`: status, listed and
grepped files, the HEAD state a run records, a fast-forward (``nbops sync``) and a new
repository's first commit (``nbops demo``).

The HEAD state, the origin URL and the first commit are read or made with GitPython, whose
answers (``is_dirty``, the configured URL as written, a commit without hooks) nbops records as
they are; everything else runs git through :meth:`repo.GitRepo.run`.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from .repo import GitRepo


class HeadState(NamedTuple):
    """The working copy a run starts from: HEAD's commit and whether tracked files differ from it
    (both None outside a repository or before the first commit)."""

    commit: str | None
    dirty: bool | None


class GrepHit(NamedTuple):
    """One matching line of ``git grep``: the repository-relative file, the line number, the line."""

    path: str
    line: int
    text: str


def head_state(repo: Any) -> HeadState:
    """(HEAD commit, whether tracked files differ from it) of a GitPython ``Repo``."""
    import git

    try:
        return HeadState(repo.head.commit.hexsha, repo.is_dirty(untracked_files=False))
    except (ValueError, git.GitCommandError):  # no commit yet
        return HeadState(None, None)


def origin_and_branch(repo: Any) -> tuple[str | None, str | None]:
    """The ``origin`` remote's URL as configured and the checked-out branch (None when missing)."""
    url = repo.remotes.origin.url if "origin" in [r.name for r in repo.remotes] else None
    branch = None if repo.head.is_detached else repo.active_branch.name
    return url, branch


def status(repo: GitRepo, pathspecs: Sequence[str]) -> list[str]:
    """Porcelain status entries (``XY path``), untracked files listed one by one."""
    out = repo.run("status", "--porcelain", "-z", "--untracked-files=all", "--", *pathspecs).out
    return [entry for entry in out.split("\0") if len(entry) > 3]


def ls_files(repo: GitRepo, pathspecs: Sequence[str]) -> list[str]:
    """Files Git sees under ``pathspecs``: tracked or untracked, never ignored."""
    out = repo.run("ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *pathspecs).out
    return [name for name in out.split("\0") if name]


def not_checked_out(repo: GitRepo, pathspecs: Sequence[str]) -> set[str]:
    """Tracked files under ``pathspecs`` that Git keeps out of the work tree on purpose: outside the
    sparse-checkout patterns, or marked skip-worktree (``git ls-files -t`` tags them ``S``). Their
    absence from the disk is no deletion: ``git status`` and ``git ls-files --deleted`` ignore them."""
    out = repo.run("--literal-pathspecs", "ls-files", "-z", "-t", "--cached", "--", *pathspecs).out
    return {entry[2:] for entry in out.split("\0") if entry.startswith("S ")}


def grep_first(repo: GitRepo, pattern: str, pathspecs: Sequence[str]) -> list[GrepHit]:
    """Each text file's first line matching the extended regex ``pattern`` (tracked or untracked,
    never ignored), found in one git process."""
    result = repo.run("grep", "-z", "-n", "-I", "--untracked", "-m1", "-E", pattern, "--", *pathspecs, check=False)
    if result.status == 1:  # no match
        return []
    if result.status != 0:
        from .safety import git_failure

        raise git_failure(("grep",), result.err)
    hits = []
    for line in result.out.splitlines():
        path, number, text = line.split("\0", 2)
        hits.append(GrepHit(path, int(number), text))
    return hits


def fast_forward(repo: GitRepo, rev: str) -> str | None:
    """``git merge --ff-only rev``; None when the branch moved, else why not (git's first line)."""
    merged = repo.run("merge", "--ff-only", "-q", rev, check=False)
    if not merged.status:
        return None
    said = (merged.err or merged.out).strip()
    return said.splitlines()[0] if said else "git merge --ff-only failed"


def add_and_commit(repo: Any, paths: Sequence[str], message: str, author: tuple[str, str]) -> str:
    """Stage ``paths`` with git's own index writer (GitPython's is much slower) and commit the
    index as ``author`` (GitPython's commit: no hooks run); the new commit."""
    import git

    name, email = author
    repo.git.add("--", *paths)
    made = repo.index.commit(message, author=git.Actor(name, email), committer=git.Actor(name, email))
    return str(made.hexsha)
