"""Atomic, bounded file I/O."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import NbopsError

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
MAX_FLOW_BYTES = 1024 * 1024


def read_text(path: Path, limit: int, display: str | None = None) -> str:
    """UTF-8 text of ``path``; a clear error when it is too large, missing or not text."""
    name = display or str(path)
    try:
        size = path.stat().st_size
        if size > limit:
            raise NbopsError(f"file is {size // 1024} KiB, more than the {limit // 1024} KiB nbops reads",
                             file=name, hint="is this really a notebook or flow?")
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise NbopsError("file not found", file=name) from None
    except UnicodeDecodeError as exc:
        raise NbopsError(f"not UTF-8 text (byte {exc.start})", file=name) from None
    except IsADirectoryError:
        raise NbopsError("is a folder, not a file", file=name) from None


def atomic_write(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder, then rename: readers see old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_if_changed(path: Path, text: str) -> bool:
    """Atomically write ``text`` unless the file already holds exactly it; True when written."""
    try:
        if path.read_bytes() == text.encode("utf-8"):
            return False
    except (FileNotFoundError, IsADirectoryError):
        pass
    atomic_write(path, text)
    return True
