"""Atomic, bounded file I/O."""
from __future__ import annotations

import functools
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ..errors import NbopsError

T = TypeVar("T")

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
MAX_FLOW_BYTES = 1024 * 1024


def read_text(path: Path, limit: int, display: str | None = None) -> str:
    """UTF-8 text of ``path``; a clear error when it is too large, missing or not text."""
    data = read_bytes(path, limit, display)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NbopsError(f"not UTF-8 text (byte {exc.start})", file=display or str(path),
                         hint="save it as UTF-8 (JupyterLab and nbformat always do)") from None


def read_bytes(path: Path, limit: int | None = None, display: str | None = None) -> bytes:
    """The bytes of ``path``; a clear error naming it when it is too large, missing, a folder, a FIFO
    or unreadable (no permission, an I/O error): never a bare ``OSError``."""
    name = display or str(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(path)
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block the read forever
            raise NbopsError("is not a regular file (a FIFO or device?)", file=name)
        if limit is not None and info.st_size > limit:
            raise NbopsError(f"file is {info.st_size:,} bytes, more than the {limit:,} bytes nbops reads",
                             file=name, hint="is this really a notebook or flow?")
        return path.read_bytes()
    except FileNotFoundError:
        raise NbopsError("file not found", file=name) from None
    except IsADirectoryError:
        raise NbopsError("is a folder, not a file", file=name) from None
    except OSError as exc:  # no read permission, an I/O error
        raise NbopsError(f"cannot read: {exc.strerror or exc}", file=name,
                         hint="check the file's permissions" if isinstance(exc, PermissionError) else None) from None


def escapes_repository(root: Path, relative: str) -> bool:
    """Whether writing ``root/relative`` would land outside the repository or inside its ``.git``
    (a symlinked folder on the way, committed by someone else, may lead anywhere)."""
    base = root.resolve()
    target = (root / relative).resolve()
    return not target.is_relative_to(base) or target.is_relative_to(base / ".git")


def atomic_write(path: Path, text: str | bytes, *, executable: bool | None = None, symlink: bool = False) -> None:
    """Write through a temporary file in the same folder, then rename: readers see old or new, never half.
    The temporary name is unique per process and thread (O_EXCL refuses a stale one, which is replaced).

    Mode: by default a new file gets the usual 0666 & ~umask and a replaced one keeps its mode;
    ``executable=True``/``False`` gives 0777/0666 & ~umask whatever was there, as ``git checkout`` does.
    ``symlink=True`` makes ``path`` a symbolic link whose target is ``text`` (replacing what was at
    ``path``, never writing through it)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    data = text.encode("utf-8") if isinstance(text, str) else text
    if symlink:
        target = text if isinstance(text, str) else os.fsdecode(text)
        _create(tmp, lambda: os.symlink(target, tmp))
        fd = None
    else:
        mode = _mode_of(path) if executable is None else 0o777 if executable else 0o666
        fd = _create(tmp, lambda: os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
    try:
        if fd is not None:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _create(tmp: Path, make: Callable[[], T]) -> T:
    """``make()`` the temporary file, creating its folder or removing a stale one first if needed."""
    try:
        return make()
    except FileNotFoundError:
        tmp.parent.mkdir(parents=True, exist_ok=True)
        return make()
    except FileExistsError:  # left behind by a killed process with our pid
        tmp.unlink()
        return make()


def _mode_of(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o666


def write_if_changed(path: Path, text: str) -> bool:
    """Atomically write ``text`` unless the file already holds exactly it; True when written."""
    try:
        if path.read_bytes() == text.encode("utf-8"):
            return False
    except (FileNotFoundError, IsADirectoryError):
        pass
    atomic_write(path, text)
    return True


@functools.cache
def runtime_module_text() -> str:
    """The text of ``kernel_ext/runtime.py``, the standalone module a flow's tasks ship as
    ``kernel_ext.py`` so that ``kernel_ext.output`` works in Kestra without nbops."""
    from .. import runtime

    return Path(runtime.__file__).read_text(encoding="utf-8")
