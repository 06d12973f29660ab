"""The guards in front of every Git write nbops makes: paths, conflict markers, remote URLs,
branch names, authors, index locks, atomic restores, and the translation of git's failures.

They live apart from :mod:`gitrepo` because they are plain file-system and string checks (no Git
process), each small enough to test and read on its own. All failures are :class:`NbopsError`s.
"""
from __future__ import annotations

import os
import posixpath
import re
import threading
import time
import urllib.parse
from pathlib import Path

from ..errors import ConfigError, ConflictError, NbopsError

# Conflict markers git writes; a bare ``=======`` is also a Markdown/reST heading underline, so it
# only counts in files where it can never be legitimate at column 0 (anything but prose).
_MARKER_PREFIXES = (b"<<<<<<< ", b">>>>>>> ", b"||||||| ")
_PROSE_SUFFIXES = {".md", ".markdown", ".rst", ".txt", ".adoc"}
_MAX_SCAN_BYTES = 50 * 1024 * 1024

# Transports a remote may use; everything else (ext::, fd::, remote helpers) is refused up front
# and, as a second fence, not allowed by git itself for the network commands nbops runs.
_SCHEMES = {"http", "https", "ssh", "git", "file", "git+ssh", "ssh+git"}
_HELPER = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$", re.DOTALL)
_SCP = re.compile(r"^([^/:]+):")  # [user@]host:path — the ssh shorthand git recognizes
NETWORK_ENV = {"GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh", "GIT_TERMINAL_PROMPT": "0"}

STALE_LOCK_SECONDS = 60.0
_BUSY = re.compile(r"Unable to create '([^']+\.lock)': File exists")
_IDENTITY = 'set your identity: git config user.name "Your Name"; git config user.email you@example.com'
_HINTS = (
    ("tell me who you are", _IDENTITY),
    ("empty ident", _IDENTITY),
    ("dubious ownership", "trust this folder: git config --global --add safe.directory <repository folder>"),
    ("ignored by one of your .gitignore", "the path is git-ignored: remove it from .gitignore to commit it"),
    ("Could not read from remote", "check the remote URL (git remote -v), the network and your access rights"),
    ("does not appear to be a git repository", "check the remote URL (git remote -v)"),
    ("Authentication failed", "check your credentials for the remote (token, SSH key)"),
)


class IndexLocked(NbopsError):
    """Another git holds (or a crashed one left) ``index.lock``; nbops never deletes it itself,
    because removing a live lock corrupts the index."""

    def __init__(self, message: str, *, lock: Path, stale: bool, hint: str):
        super().__init__(message, file=str(lock), hint=hint)
        self.lock = lock
        self.stale = stale


class LockBusy(IndexLocked):
    """A git command found a lock taken right now; callers retry it for a while."""


def git_failure(args: tuple[str, ...], err: str) -> NbopsError:
    """git's own words (its last lines), the command, and a hint when the cause is a known one;
    a taken ``*.lock`` becomes :class:`LockBusy` naming the lock."""
    busy = _BUSY.search(err)
    if busy:
        lock = Path(busy.group(1))
        return LockBusy(f"{lock.name} is held by another git process", lock=lock, stale=False,
                        hint=f"wait for it to finish; if no git is running, remove {lock}")
    command = next((a for a in args if not a.startswith("-") and "=" not in a), "")
    lines = [line.strip() for line in err.strip().splitlines() if line.strip()]
    text = "; ".join(line for line in lines if not line.startswith("hint:"))[-600:] or "no message"
    hint = next((h for needle, h in _HINTS if needle in err), None)
    return NbopsError(f"git {command} failed: {text}", hint=hint)


def repo_relative(root: Path, path: str | os.PathLike[str]) -> str:
    """``path`` as a POSIX path relative to ``root`` (the resolved work tree), refusing anything
    that leaves the repository lexically or through a symlinked folder, or points into ``.git``."""
    text = os.fspath(path)
    if not text or any(ord(c) < 32 or c == "\x7f" for c in text):
        raise NbopsError(f"invalid path {text!r}", hint="paths must be non-empty, without control characters")
    candidate = os.path.normpath(text if os.path.isabs(text) else os.path.join(root, text))
    if os.path.commonpath([candidate, str(root)]) != str(root) or candidate == str(root):
        raise ConflictError("path is outside the repository", file=text,
                            hint=f"give a path inside {root}")
    rel = Path(candidate).relative_to(root)
    if ".git" in rel.parts:
        raise ConflictError("path is inside .git", file=text, hint="nbops never writes Git's own files")
    parent = (root / rel).parent
    if parent.resolve() != parent:
        raise ConflictError("path goes through a symbolic link to a folder", file=rel.as_posix(),
                            hint="use the real path; a symlinked folder may lead out of the repository")
    return rel.as_posix()


def refuse_symlink_out(root: Path, rel: str) -> None:
    """A symlink may be staged only when it points inside the repository (compared resolved)."""
    full = root / rel
    if full.is_symlink():
        target = full.resolve()
        if target != root and root not in target.parents:
            raise ConflictError(f"symbolic link points outside the repository (to {target})", file=rel,
                                hint="replace the link by the file itself, or leave it out")


def conflict_marker_line(data: bytes, name: str) -> int | None:
    """1-based line of the first merge-conflict marker in a text file, None when there is none or
    the file is binary (a NUL byte in its first 8 KiB, git's own heuristic)."""
    if b"\0" in data[:8000]:
        return None
    check_separator = Path(name).suffix.lower() not in _PROSE_SUFFIXES
    for number, line in enumerate(data.splitlines(), start=1):
        if line.startswith(_MARKER_PREFIXES) or (check_separator and line.rstrip(b"\r") == b"======="):
            return number
    return None


def split_stageable(root: Path, rels: list[str]) -> tuple[list[str], list[str]]:
    """(paths on disk, paths gone) of what is about to be staged; refuses folders (never stage
    more than named), symlinks leading out and files with conflict markers."""
    present = [rel for rel in rels if os.path.lexists(root / rel)]
    for rel in present:
        if (root / rel).is_dir() and not (root / rel).is_symlink():
            raise NbopsError("is a folder; name the files to stage", file=rel)
        refuse_symlink_out(root, rel)
    refuse_conflict_markers(root, present)
    return present, [rel for rel in rels if rel not in present]


def refuse_conflict_markers(root: Path, rels: list[str]) -> None:
    """Stop before staging an unresolved merge: name the file and line, and how many others."""
    found: list[tuple[str, int]] = []
    for rel in rels:
        full = root / rel
        if full.is_symlink() or not full.is_file() or full.stat().st_size > _MAX_SCAN_BYTES:
            continue
        line = conflict_marker_line(full.read_bytes(), rel)
        if line is not None:
            found.append((rel, line))
    if found:
        rel, line = found[0]
        more = f" (and {len(found) - 1} more file(s): {', '.join(r for r, _ in found[1:])})" if found[1:] else ""
        raise ConflictError(f"line {line}: unresolved merge-conflict marker{more}", file=rel,
                            hint="resolve the conflict (keep one side, remove the <<<<<<< ======= >>>>>>> lines)")


def validate_remote_url(url: str) -> str:
    """``url`` when it is a plain http(s)/ssh/git/file URL, scp-style ``host:path`` or local path;
    a :class:`ConfigError` for transports that run commands (``ext::``, ``fd::``, helpers) or text
    git could read as an option (leading ``-``, also as an ssh host)."""
    hint = "use an https://, ssh://, git@host:path, file:// URL or a local path"
    if not url or url != url.strip() or any(ord(c) < 32 or c == "\x7f" for c in url):
        raise ConfigError(f"remote URL {url!r} is empty or has spaces/control characters at its ends", hint=hint)
    if url.startswith("-"):
        raise ConfigError(f"remote URL {url!r} starts with '-' and would be read as an option", hint=hint)
    if _HELPER.match(url):
        raise ConfigError(f"remote URL {url!r} uses a transport helper ('{url.split('::')[0]}::'), "
                          "which can run commands", hint=hint)
    match = _URL.match(url)
    if match:
        scheme, rest = match.group(1).lower(), match.group(2)
        if scheme not in _SCHEMES:
            raise ConfigError(f"remote URL scheme '{scheme}://' is not allowed", hint=hint)
        netloc = urllib.parse.urlsplit(f"x://{rest}").netloc
        if netloc.startswith("-") or netloc.split("@")[-1].startswith("-"):
            raise ConfigError(f"remote URL {url!r} has a host starting with '-'", hint=hint)
        return url
    scp = _SCP.match(url)
    if scp and "/" not in scp.group(1) and scp.group(1).split("@")[-1].startswith("-"):
        raise ConfigError(f"remote URL {url!r} has a host starting with '-'", hint=hint)
    return url


def precheck_branch_name(name: str) -> None:
    """What ``git check-ref-format --branch`` cannot see: option-looking names, the ``@{-N}``
    shorthand it expands, and full ref names (which would create ``refs/heads/refs/heads/...``)."""
    hint = "use a plain branch name such as main or flows/dev"
    if not name or name.startswith("-"):
        raise ConfigError(f"invalid branch name {name!r}: empty or starts with '-'", hint=hint)
    if "@{" in name:
        raise ConfigError(f"invalid branch name {name!r}: '@{{' is reserved", hint=hint)
    if name.startswith("refs/"):
        raise ConfigError(f"invalid branch name {name!r}: give the short name, not a full ref",
                          hint=f"use {name.split('/', 2)[-1]!r}" if name.startswith("refs/heads/") else hint)


def check_lock(lock: Path, root: Path, stale_after: float = STALE_LOCK_SECONDS) -> None:
    """Raise at once for a lock that is old and held by no live git (a crash left it): waiting
    cannot help, and deleting it is the user's call. A young or live lock returns (caller waits)."""
    try:
        age = time.time() - lock.stat().st_mtime
    except FileNotFoundError:
        return
    if age < stale_after or git_running(root):
        return
    raise IndexLocked(f"stale lock file, {age:.0f} s old, and no git process is running here", lock=lock,
                      stale=True, hint=f"a git process probably crashed; if no git is running, remove it: rm {lock}")


def git_running(root: Path) -> bool:
    """Whether a git process works in this repository (psutil when installed; without it, or when
    a git process cannot be inspected, assume yes so a lock is never called stale wrongly)."""
    try:
        import psutil
    except ImportError:
        return False  # age alone decides
    for proc in psutil.process_iter(["name", "cwd"]):
        name = (proc.info.get("name") or "").lower()
        if name != "git" and not name.startswith("git-"):
            continue
        cwd = proc.info.get("cwd")
        if cwd is None or Path(cwd) == root or root in Path(cwd).parents:
            return True
    return False


def atomic_write_bytes(path: Path, data: bytes, *, executable: bool = False, symlink: bool = False) -> None:
    """Replace ``path`` by ``data`` (or by a symlink to ``data``) through a temporary sibling and
    a rename, so a crash leaves the old file or the new one, never half of it. A new file gets
    0666/0777 & ~umask, like git checkout gives it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.nbops-tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp.unlink(missing_ok=True)
    try:
        if symlink:
            os.symlink(os.fsdecode(data), tmp)
        else:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o777 if executable else 0o666)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def author_args(author: tuple[str, str] | None) -> list[str]:
    """``--author=Name <email>``; refuses what would garble the header (angle brackets, newlines)."""
    if author is None:
        return []
    name, email = author
    if not name.strip() or not email.strip() or any(c in name + email for c in "<>\n\r\0"):
        raise ConfigError(f"invalid author {author!r}", hint="give a name and an e-mail, without < > or newlines")
    return [f"--author={name.strip()} <{email.strip()}>"]


def clean_prefix(prefix: str) -> str:
    """A folder inside the repository as git writes it (POSIX, no ``..``, not absolute); '' = all."""
    if prefix.startswith("/") or "\0" in prefix:
        raise ConflictError("folder is outside the repository", file=prefix, hint="give a repository-relative folder")
    clean = posixpath.normpath(prefix.rstrip("/")) if prefix.rstrip("/") else "."
    if clean == ".." or clean.startswith("../"):
        raise ConflictError("folder is outside the repository", file=prefix, hint="give a repository-relative folder")
    return "" if clean == "." else clean
