"""Commit exactly chosen file contents, leaving the user's index and working tree alone.

The commit is built with Git's plumbing in a private index file: read HEAD's tree, put in our
blobs (a stripped notebook is committed while the working copy keeps its outputs), write the
tree, create the commit, and move the branch with ``update-ref`` only if it still points where
it did (two ``nbops commit`` at once: one wins, the other retries on the new HEAD). Finally the
user's index entries of those paths are refreshed to the new commit. No ``add -A``, ever.
"""
from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...errors import NbopsError
from .safety import check_lock

RETRIES = 20


def commit_contents(repo: Any, root: Path, contents: Mapping[str, bytes | None], message: str,
                    author: tuple[str, str] | None = None) -> str | None:
    """Commit ``contents`` (path → bytes, None = delete) on top of HEAD of the GitPython ``repo``
    whose work tree is ``root``; the commit id, or None when HEAD already holds exactly that (only
    outputs changed, say: no empty commit)."""
    import git

    check_lock(Path(repo.git_dir) / "index.lock", root)  # a crashed git's lock: say so, never delete it
    if repo.head.is_detached:
        raise NbopsError("HEAD is detached: nbops commits on a branch", hint="git switch BRANCH")
    if (Path(repo.git_dir) / "MERGE_HEAD").exists():
        raise NbopsError("a merge is in progress", hint="resolve it and finish with git commit, then nbops commit")
    env = _author_env(author)
    blobs = _blobs(repo, contents)
    for attempt in range(RETRIES):
        parent = repo.head.commit.hexsha if repo.head.is_valid() else None
        commit = _commit_on(repo, parent, blobs, message, env)
        if commit is None:
            return None
        try:
            repo.git.update_ref("HEAD", commit, parent or "0" * 40, "-m", f"nbops commit: {message}")
        except git.GitCommandError:  # another commit moved HEAD meanwhile: build on it
            time.sleep(0.05 * (attempt + 1))
            continue
        _refresh_index(repo, list(contents))
        return commit
    raise NbopsError("HEAD kept moving while nbops committed", hint="is another process committing in a loop?")


def _blobs(repo: Any, contents: Mapping[str, bytes | None]) -> dict[str, str | None]:
    """Every content written as a blob with one ``git hash-object`` (None stays a deletion)."""
    present = [(path, data) for path, data in contents.items() if data is not None]
    with tempfile.TemporaryDirectory(prefix="nbops-blobs-") as folder:
        files = []
        for number, (_, data) in enumerate(present):
            files.append(os.path.join(folder, str(number)))
            Path(files[-1]).write_bytes(data)
        shas = str(repo.git.hash_object("-w", "--", *files)).split() if files else []
    blobs: dict[str, str | None] = {path: None for path, data in contents.items() if data is None}
    blobs.update((path, sha) for (path, _), sha in zip(present, shas, strict=True))
    return blobs


def _commit_on(repo: Any, parent: str | None, blobs: Mapping[str, str | None], message: str,
               env: dict[str, str]) -> str | None:
    """The new commit on ``parent``, or None when its tree would be the parent's (no empty commit)."""
    import git

    fd, index = tempfile.mkstemp(prefix="nbops-index-")
    os.close(fd)
    os.unlink(index)  # git creates it
    private = {**os.environ, **env, "GIT_INDEX_FILE": index}
    try:
        if parent:
            repo.git.read_tree(parent, env=private)
        entries = "".join(f"0 {'0' * 40}\t{path}\n" if sha is None else f"100644 {sha}\t{path}\n"
                          for path, sha in blobs.items())  # mode 0 removes the path
        with tempfile.TemporaryFile() as stream:  # git reads the list from stdin (a real file for GitPython)
            stream.write(entries.encode("utf-8"))
            stream.seek(0)
            repo.git.update_index("--index-info", istream=stream, env=private)
        tree = repo.git.write_tree(env=private)
        if parent and tree == repo.git.rev_parse(f"{parent}^{{tree}}"):
            return None
        parents = ["-p", parent] if parent else []
        return str(repo.git.commit_tree(tree, *parents, "-m", message, env=private))
    except git.GitCommandError as exc:
        if "tell me who you are" in str(exc.stderr) or "empty ident" in str(exc.stderr):
            raise NbopsError("Git does not know who is committing",
                             hint='git config user.name "Your Name" && git config user.email you@example.com, '
                                  'or set [tool.nbops] author = "Name <email>"') from None
        raise NbopsError(f"git failed: {_stderr(exc)}") from None
    finally:
        Path(index).unlink(missing_ok=True)


def _stderr(exc: Any) -> str:
    """git's own message, without GitPython's ``stderr: '…'`` wrapping."""
    text = str(exc.stderr or "").strip()
    match = re.match(r"^stderr: '(.*)'$", text, re.S)
    return (match.group(1) if match else text).strip()


def _author_env(author: tuple[str, str] | None) -> dict[str, str]:
    if author is None:
        return {}
    name, email = author
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email}


def _refresh_index(repo: Any, paths: list[str]) -> None:
    """The user's index now agrees with the commit for those paths (and only those)."""
    import git

    for attempt in range(RETRIES):
        try:
            repo.git.execute(["git", "--literal-pathspecs", "reset", "-q", "HEAD", "--", *paths])  # a name is a name
            return
        except git.GitCommandError as exc:
            if "index.lock" not in str(exc) or attempt == RETRIES - 1:
                raise NbopsError(f"the commit is made, but the index could not be refreshed: {_stderr(exc)}",
                                 hint="run: git reset -q -- " + " ".join(paths)) from None
            time.sleep(0.1)
