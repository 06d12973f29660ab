"""Reading a file for the secret scan: which files are worth scanning and how each is read.

Notebooks are scanned cell by cell (a large one is read one cell at a time: images, which are not
scanned, make them big); other files as text unless binary, a lock file, or larger than 5 MB (data,
not code). detect-secrets' own heuristics decide what is binary or a lock file.
"""
from __future__ import annotations

import logging
from pathlib import Path

from .files import MAX_NOTEBOOK_BYTES, read_text
from .notebooks import is_large
from .secrets import Finding, notebook_json, scan_notebook, scan_text

log = logging.getLogger(__name__)
MAX_TEXT_BYTES = 5 * 1024 * 1024  # larger text files are data, not code: skipped with a warning


def scan_file(path: Path, display: str) -> list[Finding]:
    """The findings in one file (none for a file not worth scanning)."""
    from detect_secrets.filters.heuristic import is_lock_file, is_non_text_file

    if path.suffix == ".ipynb" and is_large(path):
        return _scan_large_notebook(path, display)
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


def _scan_large_notebook(path: Path, display: str) -> list[Finding]:
    """A large notebook scanned one cell at a time, outputs included (memory: the largest cell, not
    the file), then what lies outside its cells; the same findings as a scan of the whole."""
    from dataclasses import replace

    from .nbstream import parts

    findings: list[Finding] = []
    rest: dict[str, object] = {}
    index = 0
    for key, value in parts(path, display, outputs=True):
        if key == "cell":
            findings += [replace(f, cell=index) if f.cell == 0 else f
                         for f in scan_notebook({"cells": [value]}, display)]
            index += 1
        elif key != "cells" or value != []:
            rest[key] = value
    return findings + scan_notebook(rest, display)
