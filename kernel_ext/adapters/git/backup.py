"""Backup refs: before ``nbops sync`` overwrites local files it records them here, so nothing is
ever lost. A backup is an ordinary commit (HEAD's tree with those paths as they are on disk,
byte for byte, parented on HEAD) under ``refs/nbops/backup/<UTC time>-<label>``: ``git log``,
``git diff HEAD <ref>`` and ``git gc`` all know it, and it is never fetched or pushed by default.

It is built in a private index file (``GIT_INDEX_FILE``), so the user's index, HEAD and work tree
are never touched. Used through :class:`repo.GitRepo` (``backup``, ``backups``, ``restore``).
"""
from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ...errors import ConfigError, NbopsError
from ..files import atomic_write

if TYPE_CHECKING:
    from .repo import GitRepo

BACKUP_REFS = "refs/nbops/backup/"
_PATH_TRAILER = "Nbops-Path: "
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class Backup(NamedTuple):
    """One backup ref: what a sync kept before overwriting local files."""

    ref: str
    date: datetime
    message: str


def backup(repo: GitRepo, paths: Iterable[str], label: str) -> str:
    """Record the work-tree content of ``paths`` (tracked or not; a missing one as deleted); the
    new ref. The paths are listed in the message (``Nbops-Path:`` lines) for :func:`restore`."""
    if not _LABEL.fullmatch(label) or label.endswith(".lock"):
        raise ConfigError(f"invalid backup label {label!r}", hint="letters, digits, '.', '_', '-' (64 at most)")
    rels = list(dict.fromkeys(repo.relpath(p) for p in paths))
    if not rels:
        raise NbopsError("nothing to back up: no paths given")
    head = repo.head_commit()
    tree = _snapshot(repo, rels, head)
    message = f"nbops backup: {label}\n\n" + "".join(f"{_PATH_TRAILER}{rel}\n" for rel in rels)
    commit = repo.run("commit-tree", tree, *(["-p", head] if head else []), "-m", message,
                      env=_identity_fallback(repo)).out.strip()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    ref = f"{BACKUP_REFS}{stamp}-{label}"
    repo.run("update-ref", "-m", f"nbops backup {label}", ref, commit, "0" * 40)  # 0…0: must not exist yet
    return ref


def _snapshot(repo: GitRepo, rels: list[str], head: str | None) -> str:
    """The tree of HEAD with ``rels`` replaced by their bytes on disk (``--no-filters``: exactly
    what restore must write back), built in a private index file."""
    index = Path(repo.git_dir) / f"nbops-backup-{os.getpid()}-{uuid.uuid4().hex}.index"
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        repo.run("read-tree", *([head] if head else ["--empty"]), env=env)
        entries, absent = _entries(repo, rels)
        if entries:
            repo.run("update-index", "--add", "--replace", *entries, env=env)
        if absent:
            repo.run("update-index", "--force-remove", "--", *absent, env=env)
        return repo.run("write-tree", env=env).out.strip()
    finally:
        index.unlink(missing_ok=True)


def _entries(repo: GitRepo, rels: list[str]) -> tuple[list[str], list[str]]:
    """``--cacheinfo mode,blob,path`` arguments for the files and symlinks, and the absent paths."""
    files = [r for r in rels if (repo.root / r).is_file() and not (repo.root / r).is_symlink()]
    links = [r for r in rels if (repo.root / r).is_symlink()]
    absent = [r for r in rels if not os.path.lexists(repo.root / r)]
    folder = next((r for r in rels if r not in files + links + absent), None)
    if folder:
        raise NbopsError("is a folder; name the files to back up", file=folder)
    blobs = repo.run("hash-object", "-w", "--no-filters", "--", *files).out.split() if files else []
    entries: list[str] = []
    for rel, blob in zip(files, blobs, strict=True):
        mode = "100755" if os.stat(repo.root / rel).st_mode & 0o100 else "100644"
        entries += ["--cacheinfo", f"{mode},{blob},{rel}"]
    for rel in links:  # the link itself (its target text), never what it points to
        text = Path(repo.git_dir) / f"nbops-link-{uuid.uuid4().hex}"
        text.write_bytes(os.fsencode(os.readlink(repo.root / rel)))
        try:
            blob = repo.run("hash-object", "-w", "--no-filters", "--", str(text)).out.strip()
        finally:
            text.unlink()
        entries += ["--cacheinfo", f"120000,{blob},{rel}"]
    return entries, absent


def _identity_fallback(repo: GitRepo) -> dict[str, str] | None:
    """A stand-in identity so a backup never fails for want of ``user.email`` (a sync must not
    stop there); the configured one is used whenever git has it."""
    if repo.run("var", "GIT_COMMITTER_IDENT", check=False).status == 0:
        return None
    return {f"GIT_{who}_{what}": value for who in ("AUTHOR", "COMMITTER")
            for what, value in (("NAME", "nbops"), ("EMAIL", "nbops@localhost"))}


def backups(repo: GitRepo) -> list[Backup]:
    """All backup refs, newest first: (ref, commit date, subject)."""
    fmt = "--format=%(refname)%00%(creatordate:iso-strict)%00%(contents:subject)"
    out = repo.run("for-each-ref", "--sort=-refname", fmt, BACKUP_REFS.rstrip("/")).out
    rows = [line.split("\0") for line in out.splitlines() if line]
    return [Backup(ref, datetime.fromisoformat(date), subject) for ref, date, subject in rows]


def restore(repo: GitRepo, ref: str, paths: Iterable[str] | None = None) -> list[str]:
    """Write the backed-up files (default: every path the backup recorded) back into the work
    tree, each atomically; a path the backup holds as absent is left alone. The paths written."""
    full = ref if ref.startswith(BACKUP_REFS) else BACKUP_REFS + ref
    if repo.run("rev-parse", "--verify", "-q", f"{full}^{{commit}}", check=False).status != 0:
        raise NbopsError(f"no backup {ref!r}", hint="list them with nbops restore (no argument)")
    body = repo.run("show", "-s", "--format=%B", full).out.splitlines()
    recorded = [line[len(_PATH_TRAILER):] for line in body if line.startswith(_PATH_TRAILER)]
    rels = recorded if paths is None else [repo.relpath(p) for p in paths]
    out = repo.run("--literal-pathspecs", "ls-tree", "-z", "--full-tree", full, "--", *rels).out if rels else ""
    entries = {e.partition("\t")[2]: e.partition("\t")[0].split() for e in out.split("\0") if e}
    written = []
    for rel in rels:
        if rel not in entries or entries[rel][1] != "blob":
            continue
        mode, _, blob = entries[rel]
        repo.relpath(rel)  # checked again: a folder on the way may have become a symlink since
        try:
            atomic_write(repo.root / rel, repo.blob(blob), executable=mode == "100755", symlink=mode == "120000")
        except OSError as exc:
            raise NbopsError(f"cannot restore: {exc.strerror}", file=rel) from None
        written.append(rel)
    return written
