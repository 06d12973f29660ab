"""The guards in front of the Git calls of :mod:`repo`: paths, remote URLs, branch names,
index locks, and the translation of git's failures.

They live apart from :mod:`repo` because they are plain file-system and string checks (no Git
process), each small enough to test and read on its own. All failures are :class:`NbopsError`s.
"""
from __future__ import annotations

import os
import posixpath
import re
import time
import urllib.parse
from pathlib import Path

from ...errors import ConfigError, ConflictError, NbopsError

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
    """A git command found a lock taken right now (another git is working): worth trying again."""


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


def clean_prefix(prefix: str) -> str:
    """A folder inside the repository as git writes it (POSIX, no ``..``, not absolute); '' = all."""
    if prefix.startswith("/") or "\0" in prefix:
        raise ConflictError("folder is outside the repository", file=prefix, hint="give a repository-relative folder")
    clean = posixpath.normpath(prefix.rstrip("/")) if prefix.rstrip("/") else "."
    if clean == ".." or clean.startswith("../"):
        raise ConflictError("folder is outside the repository", file=prefix, hint="give a repository-relative folder")
    return "" if clean == "." else clean
