"""The last commits touching each file, read with one ``git log`` walk (one process for the whole
catalog instead of one per flow)."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ...core.catalog_model import Commit
from ...errors import NbopsError

if TYPE_CHECKING:
    from .repo import GitRepo

log = logging.getLogger(__name__)
_RECORD, _FIELD = "\x1e", "\x1f"


def file_histories(repo: GitRepo, base: Path, folders: Sequence[str], per_file: int) -> dict[str, tuple[Commit, ...]]:
    """Path relative to ``base`` (a folder of the work tree; ``folders`` are relative to it too) →
    its last ``per_file`` commits, newest first. No commit yet, or git failing: an empty mapping
    (the catalog still builds)."""
    if per_file <= 0:
        return {}
    try:
        result = repo.run("-C", str(base), "-c", "core.quotepath=false", "log", "--no-renames", "--relative",
                          "--name-only", f"--format={_RECORD}%H{_FIELD}%an{_FIELD}%aI{_FIELD}%s", "--", *folders,
                          check=False)
    except NbopsError as exc:  # git is missing
        log.debug("no Git history for the catalog: %s", exc)
        return {}
    if result.status != 0:
        log.debug("no Git history for the catalog: %s", result.err.strip())
        return {}
    return _parse(result.out, per_file)


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
