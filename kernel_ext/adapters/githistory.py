"""The last commits touching each file, read with one ``git log`` walk (GitPython's command
runner; one process for the whole catalog instead of one per flow)."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from ..core.catalog_model import Commit

log = logging.getLogger(__name__)
_RECORD, _FIELD = "\x1e", "\x1f"


def file_histories(root: Path, folders: Sequence[str], per_file: int) -> dict[str, tuple[Commit, ...]]:
    """Repository-relative path (relative to ``root``) → its last ``per_file`` commits, newest first.
    No repository, no commit yet, or git failing: an empty mapping (the catalog still builds)."""
    if per_file <= 0:
        return {}
    import git

    try:
        out = git.Git(str(root)).execute(
            ["git", "-c", "core.quotepath=false", "log", "--no-renames", "--relative", "--name-only",
             f"--format={_RECORD}%H{_FIELD}%an{_FIELD}%aI{_FIELD}%s", "--", *folders],
            env={"LC_ALL": "C"}, strip_newline_in_stdout=False)
    except (git.GitCommandError, git.NoSuchPathError, OSError) as exc:
        log.debug("no Git history for the catalog: %s", exc)
        return {}
    return _parse(str(out), per_file)


def _parse(out: str, per_file: int) -> dict[str, tuple[Commit, ...]]:
    found: dict[str, list[Commit]] = {}
    for record in out.split(_RECORD)[1:]:
        head, _, names = record.partition("\n")
        sha, author, date, subject = (head.split(_FIELD) + ["", "", "", ""])[:4]
        commit = Commit(sha, author, date, subject)
        for name in filter(None, (n.strip() for n in names.splitlines())):
            commits = found.setdefault(name, [])
            if len(commits) < per_file:
                commits.append(commit)
    return {name: tuple(commits) for name, commits in found.items()}
