"""Accepted secret findings: ``.nbops-secrets.json`` at the repository root.

A scanner that cannot be told "this one is fine" gets switched off, so false positives are
accepted by file (or ``*``) and secret hash, with a reason, in a file reviewed in Git like code.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .files import read_text, write_if_changed

if TYPE_CHECKING:
    from .secrets import Finding

ALLOWLIST_FILE = ".nbops-secrets.json"  # accepted findings, at the repository root
_SHAPE_HINT = '{"version": 1, "allowed": [{"file": "notebooks/x.ipynb", "secret_hash": "<sha256>", "reason": "..."}]}'
_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Accepted:
    """One accepted finding: ``file`` is a repository-relative path, or ``*`` for any file."""

    file: str
    secret_hash: str
    reason: str = ""


@dataclass(frozen=True)
class Allowlist:
    entries: tuple[Accepted, ...] = ()

    @cached_property
    def _keys(self) -> frozenset[tuple[str, str]]:
        return frozenset((e.file, e.secret_hash) for e in self.entries)

    def allows(self, finding: Finding) -> bool:
        """Accepted for its file, or for any file (``*``)."""
        return (finding.file, finding.secret_hash) in self._keys or ("*", finding.secret_hash) in self._keys


def _shape_error(message: str) -> ConfigError:
    return ConfigError(message, file=ALLOWLIST_FILE, hint=f"the file looks like {_SHAPE_HINT}")


def _entries(data: Any) -> Iterator[Accepted]:
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("allowed"), list):
        raise _shape_error('expected an object with "version": 1 and an "allowed" list')
    for index, item in enumerate(data["allowed"]):
        if not isinstance(item, dict) or not isinstance(item.get("file"), str) or not item["file"]:
            raise _shape_error(f'allowed[{index}] needs a "file": a repository path, or "*" for any file')
        if not isinstance(item.get("secret_hash"), str) or not _HASH.fullmatch(item["secret_hash"]):
            raise _shape_error(f"allowed[{index}].secret_hash must be a sha256: 64 lowercase hex characters")
        if not isinstance(item.get("reason", ""), str):
            raise _shape_error(f"allowed[{index}].reason must be text")
        yield Accepted(item["file"], item["secret_hash"], item.get("reason", ""))


def load_allowlist(root: Path) -> Allowlist:
    """The accepted findings of the repository at ``root``; none when the file does not exist."""
    path = root / ALLOWLIST_FILE
    if not path.exists():
        return Allowlist()
    try:
        data = json.loads(read_text(path, 5 * 1024 * 1024, ALLOWLIST_FILE))
    except json.JSONDecodeError as exc:
        raise _shape_error(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    return Allowlist(tuple(_entries(data)))


def write_allowlist(root: Path, findings: Iterable[Finding], reason: str) -> Allowlist:
    """Accept ``findings`` (by file and hash) with ``reason``, keeping earlier entries and their reasons.
    Sorted, fixed formatting: the same accepted set always gives the same bytes (clean Git diffs)."""
    if not reason.strip():
        raise ConfigError("accepting a secret finding needs a reason", file=ALLOWLIST_FILE,
                          hint="say why it is not a secret, e.g. 'test fixture, not a real key'")
    current = load_allowlist(root)
    merged = {(e.file, e.secret_hash): e for e in current.entries}
    for finding in findings:
        if not current.allows(finding):
            merged.setdefault((finding.file, finding.secret_hash), Accepted(finding.file, finding.secret_hash,
                                                                           reason.strip()))
    ordered = tuple(merged[key] for key in sorted(merged))
    payload = {"version": 1, "allowed": [{"file": e.file, "secret_hash": e.secret_hash, "reason": e.reason}
                                         for e in ordered]}
    write_if_changed(root / ALLOWLIST_FILE, json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    return Allowlist(ordered)
