"""The one door to Git: :class:`GitRepo`. Git stays the single source of truth, so every write
here is checked (no escape from the work tree, no hostile remote), verified (a push counts once
the remote says so) and recoverable (backup refs). ``nbops commit`` builds its commit in a
private index (:mod:`commit`); the other modules of this package do the work behind the methods.

Every git call goes through GitPython's ``execute`` with an argv list (never a shell string) and
``LC_ALL=C``; a failure becomes an :class:`NbopsError` carrying git's own message and what to do.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Self, cast

from ...errors import ConfigError, NbopsError
from . import backup as _backup
from . import commit as _commit
from . import history, publish, safety, worktree
from . import remote as _remote
from .backup import Backup
from .publish import Published
from .worktree import GrepHit, HeadState

if TYPE_CHECKING:
    import git

    from ...core.catalog_model import Commit

_REMOTE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class GitResult(NamedTuple):
    """What one git command did: exit status, stdout and stderr (text, trailing newline cut)."""

    status: int
    out: str
    err: str


class GitRepo:
    """A Git work tree (found from ``root`` or a folder below it, as git does, unless ``search`` is
    False) and its remote."""

    def __init__(self, root: Path | str, *, remote: str = "origin", network_timeout: float = 120.0,
                 search: bool = True):
        import git  # GitPython, imported on first use: importing nbops stays fast

        try:
            repo = git.Repo(root, search_parent_directories=search)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            hint = f"create one: git init {root}" if search else "git init, then commit a first time"  # nbops commit
            raise NbopsError("not a Git repository", file=str(root), hint=hint) from None
        if repo.bare or repo.working_tree_dir is None:
            raise NbopsError("is a bare Git repository (no working tree)", file=str(root),
                             hint="clone it and work in the clone")
        if not _REMOTE_NAME.fullmatch(remote):
            raise ConfigError(f"invalid remote name {remote!r}", hint="use a name such as origin")
        self._repo: git.Repo = repo
        self.root = Path(repo.working_tree_dir).resolve()
        self.remote, self.network_timeout = remote, network_timeout

    @classmethod
    def open(cls, root: Path | str, *, remote: str = "origin", search: bool = True) -> GitRepo:
        """The repository at ``root`` (or above it, unless ``search`` is False: then ``root`` must be
        the work tree itself); an :class:`NbopsError` (hint ``git init``) when there is none."""
        return cls(root, remote=remote, search=search)

    @classmethod
    def find(cls, root: Path | str, *, search: bool = True) -> GitRepo | None:
        """Like :meth:`open`, but None when there is no work tree there (nothing to read: fine)."""
        try:
            return cls(root, search=search)
        except NbopsError:
            return None

    @classmethod
    def init(cls, root: Path, *, branch: str = "main") -> GitRepo:
        """A new repository in ``root`` (``git init``) whose first branch is ``branch``."""
        import git

        git.Repo.init(root, initial_branch=branch).close()
        return cls(root, search=False)

    @classmethod
    def head_state_at(cls, root: Path) -> HeadState:
        """:meth:`head_state` of the work tree exactly at ``root``; (None, None) when there is none."""
        repo = cls.find(root, search=False)
        if repo is None:
            return HeadState(None, None)
        with repo:
            return repo.head_state()

    @classmethod
    def origin_and_branch_at(cls, root: Path) -> tuple[str | None, str | None]:
        """:meth:`origin_and_branch` of the work tree exactly at ``root``; (None, None) when there is none."""
        repo = cls.find(root, search=False)
        if repo is None:
            return None, None
        with repo:
            return repo.origin_and_branch()

    @property
    def git_dir(self) -> Path:
        """This work tree's Git folder (``.git``, or the worktree's folder for ``git worktree``)."""
        return Path(self._repo.git_dir)

    def close(self) -> None:
        """Stop GitPython's persistent ``cat-file`` helpers."""
        self._repo.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- running git -------------------------------------------------------------------------

    def run(self, *args: str, env: dict[str, str] | None = None, check: bool = True,
            network: bool = False) -> GitResult:
        """git with an argv list; network commands get a protocol allow-list, no prompts, a timeout."""
        import git

        if network:
            env = {**safety.NETWORK_ENV, **(env or {})}
        try:
            status, out, err = cast(tuple[int, str, str], self._repo.git.execute(
                [git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git", *args], with_extended_output=True,
                with_exceptions=False, env=env, kill_after_timeout=self.network_timeout if network else None))
        except git.GitCommandNotFound:
            raise NbopsError("git is not installed or not on PATH", hint="install Git 2.25 or newer") from None
        if check and status != 0:
            raise safety.git_failure(args, err or out)
        return GitResult(status, out, err)

    # ---- state -------------------------------------------------------------------------------

    def relpath(self, path: str | os.PathLike[str]) -> str:
        """``path`` relative to the work tree, refused when it leaves it (see :mod:`safety`)."""
        return safety.repo_relative(self.root, path)

    def head_commit(self) -> str | None:
        """HEAD's commit, None before the first commit."""
        result = self.run("rev-parse", "--verify", "-q", "HEAD^{commit}", check=False)
        return result.out.strip() if result.status == 0 else None

    def branch(self) -> str | None:
        """The checked-out branch (also before its first commit), None when HEAD is detached."""
        result = self.run("symbolic-ref", "-q", "HEAD", check=False)
        ref = result.out.strip()
        return ref.removeprefix("refs/heads/") if result.status == 0 and ref.startswith("refs/heads/") else None

    def require_branch(self) -> str:
        """The current branch, or a clear error: commits and pushes from a detached HEAD get lost."""
        name = self.branch()
        if name is None:
            raise NbopsError("HEAD is detached; check out a branch",
                             hint="git switch <branch> (or git switch -c <new-branch> to keep this commit)")
        return name

    def head_state(self) -> HeadState:
        """HEAD's commit and whether tracked files differ from it (what a run records); None, None before."""
        return worktree.head_state(self._repo)

    def origin_and_branch(self) -> tuple[str | None, str | None]:
        """The ``origin`` remote's URL as configured (no ``insteadOf``) and the checked-out branch."""
        return worktree.origin_and_branch(self._repo)

    # ---- the work tree and its history: see worktree, history, commit -----------------------

    def status(self, *pathspecs: str) -> list[str]:
        """Porcelain status entries (``XY path``) under ``pathspecs``, untracked files one by one."""
        return worktree.status(self, pathspecs)

    def ls_files(self, *pathspecs: str) -> list[str]:
        """The files Git sees under ``pathspecs``: tracked or untracked, never ignored."""
        return worktree.ls_files(self, pathspecs)

    def not_checked_out(self, *pathspecs: str) -> set[str]:
        """Tracked files under ``pathspecs`` (repository-relative) that a sparse checkout or the
        skip-worktree bit keeps off the disk: not deletions, whatever the disk says."""
        return worktree.not_checked_out(self, pathspecs)

    def grep_first(self, pattern: str, *pathspecs: str) -> list[GrepHit]:
        """Each text file's first line matching the extended regex (tracked or untracked, not ignored)."""
        return worktree.grep_first(self, pattern, pathspecs)

    def file_histories(self, base: Path, folders: Sequence[str], per_file: int) -> dict[str, tuple[Commit, ...]]:
        """Path relative to ``base`` → its last ``per_file`` commits, newest first, from one ``git log``
        of ``folders`` (relative to ``base``); {} when git cannot tell."""
        return history.file_histories(self, base, folders, per_file)

    def commit_contents(self, contents: Mapping[str, bytes | None], message: str,
                        author: tuple[str, str] | None = None) -> str | None:
        """Commit ``contents`` (path → bytes, None = delete) on HEAD through a private index, the
        user's index and files untouched; the commit, or None when HEAD already holds exactly that."""
        return _commit.commit_contents(self._repo, self.root, contents, message, author)

    def add_and_commit(self, paths: Sequence[str], message: str, author: tuple[str, str]) -> str:
        """Stage ``paths`` (git's own index writer) and commit the index as ``author``; the commit."""
        return worktree.add_and_commit(self._repo, paths, message, author)

    # ---- remotes: see remote -----------------------------------------------------------------

    @staticmethod
    def validate_remote_url(url: str) -> str:
        """``url`` if safe to hand to git (no ``ext::``/``fd::``, nothing option-like); ConfigError otherwise."""
        return safety.validate_remote_url(url)

    def validate_branch_name(self, name: str) -> str:
        """``name`` if ``git check-ref-format --branch`` accepts it and it is neither option-like
        nor a full ref; ConfigError otherwise."""
        return _remote.validate_branch_name(self, name)

    def remote_url(self, name: str | None = None) -> str | None:
        """The fetch URL of the remote (``insteadOf`` applied), None when there is no such remote."""
        return _remote.remote_url(self, name or self.remote)

    def fetch(self, branch: str) -> str:
        """Fetch one branch into ``refs/remotes/<remote>/<branch>``; its commit."""
        return _remote.fetch(self, branch)

    def remote_head(self, branch: str) -> str | None:
        """The remote branch's commit (``git ls-remote``); None only when the remote answered and
        has no such branch: an unreachable remote raises."""
        return _remote.remote_head(self, branch)

    def push(self, branch: str, *, create: bool = True) -> str:
        """Push HEAD's commit to ``refs/heads/<branch>``, never forced; the commit, once ``ls-remote``
        confirms it. A refusal raises :class:`PushRejected`, leaving both sides as they were."""
        return _remote.push(self, branch, create=create)

    def is_ancestor(self, older: str, newer: str) -> bool:
        """Whether ``older`` is ``newer`` or one of its ancestors (a fast-forward leads from it)."""
        return self.run("merge-base", "--is-ancestor", older, newer, check=False).status == 0

    def reset_paths(self, rev: str, paths: Sequence[str]) -> None:
        """Set ``paths`` in the index to their version at ``rev``; the files stay as they are."""
        self.run("reset", "-q", rev, "--", *paths)

    def fast_forward(self, rev: str) -> str | None:
        """Move the checked-out branch to ``rev`` (``git merge --ff-only``); None when done, else why not."""
        return worktree.fast_forward(self, rev)

    # ---- publishing a built site on its own branch: see publish -------------------------------

    def commit_folder(self, folder: Path, branch: str, message: str, parent: str | None = None) -> Published:
        """Commit exactly ``folder`` on ``branch`` (on ``parent``, default the branch), the work tree,
        index and checked-out branch untouched; no commit when nothing changed."""
        return publish.commit_folder(self, folder, branch, message, parent)

    def publish_parent(self, branch: str) -> str | None:
        """What to publish on: the local branch when ahead of the remote's (fetched), else the remote's."""
        return publish.remote_parent(self, branch)

    def push_commit(self, branch: str, commit: str) -> None:
        """Push ``commit`` to the remote ``branch`` (never forced); done once ``ls-remote`` shows it."""
        publish.push_branch(self, branch, commit)

    # ---- reading revisions -------------------------------------------------------------------

    def resolve(self, rev: str) -> str:
        """The commit a revision names (branch, tag, ``origin/main``, sha); an error when unknown."""
        if not rev or rev.startswith("-") or any(ord(c) < 32 for c in rev):  # never read as an option
            raise ConfigError(f"invalid revision {rev!r}", hint="a branch, tag or commit id")
        result = self.run("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False)
        if result.status != 0:
            raise NbopsError(f"unknown revision '{rev}'", hint="check the name; fetch first for a remote branch")
        return result.out.strip()

    def files_at(self, rev: str, prefix: str = "") -> dict[str, bytes]:
        """Every regular file under folder ``prefix`` at ``rev`` (repo-relative path → bytes);
        {} when the folder is absent at an existing rev, an error when the rev does not exist."""
        commit, pre = self.resolve(rev), safety.clean_prefix(prefix)
        out = self.run("--literal-pathspecs", "ls-tree", "-r", "-z", "--full-tree", commit,
                       *(["--", pre] if pre else [])).out
        files: dict[str, bytes] = {}
        for entry in filter(None, out.split("\0")):
            meta, _, path = entry.partition("\t")
            mode, kind, obj = meta.split()
            if kind == "blob" and mode in ("100644", "100755") and (not pre or path.startswith(pre + "/")):
                files[path] = self.blob(obj)
        return files

    def blob(self, obj: str) -> bytes:
        """A blob's bytes through GitPython's persistent ``git cat-file --batch``."""
        return cast(bytes, self._repo.git.get_object_data(obj)[3])

    # ---- backups (so a sync never loses local work): see backup -----------------------------

    def backup(self, paths: Iterable[str], label: str) -> str:
        """Record the work-tree content of ``paths`` (modified, untracked or deleted) as a commit on
        HEAD under ``refs/nbops/backup/<UTC time>-<label>``; index, HEAD and files stay untouched."""
        return _backup.backup(self, paths, label)

    def backups(self) -> list[Backup]:
        """All backup refs, newest first: (ref, commit date, subject)."""
        return _backup.backups(self)

    def restore(self, ref: str, paths: Iterable[str] | None = None) -> list[str]:
        """Write a backup's files (default: all it recorded) back, each atomically; those written."""
        return _backup.restore(self, ref, paths)
