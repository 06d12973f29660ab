"""Reading a file for the secret scan: which files are worth scanning and how each is read.

Notebooks are scanned cell by cell (their size limit is the notebook one: images, which are not
scanned, make them big); other files as text unless binary, a lock file, or larger than 5 MB (data,
not code). detect-secrets' own heuristics decide what is binary or a lock file.
"""
from __future__ import annotations

import logging
from pathlib import Path

from .files import MAX_NOTEBOOK_BYTES, read_text
from .secrets import Finding, notebook_json, scan_notebook, scan_text

log = logging.getLogger(__name__)
MAX_TEXT_BYTES = 5 * 1024 * 1024  # larger text files are data, not code: skipped with a warning


def scan_file(path: Path, display: str) -> list[Finding]:
    """The findings in one file (none for a file not worth scanning)."""
    from detect_secrets.filters.heuristic import is_lock_file, is_non_text_file

    if path.suffix == ".ipynb":
        return scan_notebook(notebook_json(read_text(path, MAX_NOTEBOOK_BYTES, display), display), display)
    if is_non_text_file(path.name) or is_lock_file(path.name):
        return []
    if path.stat().st_size > MAX_TEXT_BYTES:
        log.warning("%s: not scanned for secrets, larger than %d MB", display, MAX_TEXT_BYTES // 2**20)
        return []
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        log.debug("%s: not scanned for secrets, binary", display)
        return []
    return scan_text(data.decode("utf-8", errors="replace"), display)  # Latin-1 CSVs still show ASCII tokens
