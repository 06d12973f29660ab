"""``nbops diff [A] [B]``: flows and notebooks that differ between two sides (the working copy,
a branch or a commit), as unified diffs of the YAML and of the notebooks' sources (outputs are
ignored: they are not what a flow does)."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..adapters.project import Project
from ..core.gitplan import Files, notebook_source_text
from .remote import files_at_rev, tracked_folders, working_files

if TYPE_CHECKING:
    from ..adapters.git import GitRepo

WORKING = "working copy"


@dataclass(frozen=True)
class FileDiff:
    path: str
    change: str  # added, deleted, modified
    diff: str


def _side(project: Project, repo: GitRepo, rev: str | None) -> Files:
    return working_files(project, repo) if rev is None else files_at_rev(repo, rev, tracked_folders(project))


def _text(path: str, data: bytes | None) -> list[str]:
    if data is None:
        return []
    text = notebook_source_text(data) if path.endswith(".ipynb") else data.decode("utf-8", "replace")
    return text.splitlines(keepends=True)


def diff(project: Project, a: str | None, b: str | None) -> list[FileDiff]:
    """``a`` and ``b`` are revisions; None means the working copy. No argument: HEAD → working copy."""
    from ..adapters.git import GitRepo

    repo = GitRepo.open(project.root)
    old_rev, new_rev = (a or "HEAD"), b
    old, new = _side(project, repo, old_rev), _side(project, repo, new_rev)
    found = []
    for path in sorted(set(old) | set(new)):
        before, after = _text(path, old.get(path)), _text(path, new.get(path))
        if before == after:
            continue
        change = "added" if path not in old else "deleted" if path not in new else "modified"
        lines = difflib.unified_diff(before, after, f"{path} ({old_rev})", f"{path} ({new_rev or WORKING})")
        found.append(FileDiff(path, change, "".join(lines)))
    return found
