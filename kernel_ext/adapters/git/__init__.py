"""Git, behind one door: :class:`GitRepo` is the only way the rest of nbops reaches Git.

Services and the catalog open a :class:`GitRepo` (``GitRepo.open``, ``GitRepo.find``,
``GitRepo.init``) and call its methods; the modules of this package (``safety``, ``worktree``,
``commit``, ``backup``, ``history``, ``remote``, ``publish``) do the work behind it. Nothing
outside this package imports GitPython or runs git. GitPython is imported on first use only:
importing nbops stays fast.
"""
from __future__ import annotations

from .backup import BACKUP_REFS, Backup
from .publish import Published
from .remote import PushRejected
from .repo import GitRepo, GitResult
from .safety import IndexLocked, LockBusy
from .worktree import GrepHit, HeadState

__all__ = ["BACKUP_REFS", "Backup", "GitRepo", "GitResult", "GrepHit", "HeadState", "IndexLocked", "LockBusy",
           "PushRejected", "Published"]
