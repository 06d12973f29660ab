"""Plans for moving flows between the working copy and a Git branch, as Kestra's Git tasks
report them (kestra-reference.md §2): what push would add, update or delete on the branch, and
what sync would add, update, overwrite or delete in the working copy. Pure: files in, plan out."""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

Files = Mapping[str, bytes]  # repository-relative path → content


class Change(StrEnum):
    ADDED = "ADDED"
    UPDATED = "UPDATED"
    OVERWRITTEN = "OVERWRITTEN"  # sync: the working copy had its own change, Git's version wins
    DELETED = "DELETED"
    UNCHANGED = "UNCHANGED"


@dataclass(frozen=True)
class PlannedChange:
    path: str
    change: Change


def _same(a: bytes, b: bytes) -> bool:
    """Equal apart from line endings and trailing spaces, as SyncFlows compares sources."""
    def norm(data: bytes) -> list[bytes]:
        return [line.rstrip() for line in data.replace(b"\r\n", b"\n").rstrip().split(b"\n")]
    return a == b or norm(a) == norm(b)


def push_plan(remote: Files, local: Files) -> list[PlannedChange]:
    """What pushing ``local`` (the commit) does to the branch's files (``remote``)."""
    plan = []
    for path in sorted(set(remote) | set(local)):
        if path not in remote:
            plan.append(PlannedChange(path, Change.ADDED))
        elif path not in local:
            plan.append(PlannedChange(path, Change.DELETED))
        else:
            plan.append(PlannedChange(path, Change.UNCHANGED if _same(remote[path], local[path]) else Change.UPDATED))
    return plan


def sync_plan(remote: Files, working: Files, head: Files) -> list[PlannedChange]:
    """What making the working copy equal to the branch does to each file. A file the working
    copy changed since its last commit (``head``) and Git changes too is OVERWRITTEN: its local
    version must be backed up first. A local file the branch lacks is DELETED (only with --delete)."""
    plan = []
    for path in sorted(set(remote) | set(working)):
        if path not in working:
            plan.append(PlannedChange(path, Change.ADDED))
        elif path not in remote:
            plan.append(PlannedChange(path, Change.DELETED))
        elif _same(remote[path], working[path]):
            plan.append(PlannedChange(path, Change.UNCHANGED))
        else:
            locally_changed = path not in head or not _same(head[path], working[path])
            plan.append(PlannedChange(path, Change.OVERWRITTEN if locally_changed else Change.UPDATED))
    return plan


def strip_outputs(notebook: dict[str, Any]) -> dict[str, Any]:
    """The notebook without outputs, execution counts and per-run metadata (what is committed
    by default): a copy, the working copy's notebook is left alone."""
    stripped = json.loads(json.dumps(notebook))
    for cell in stripped.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        for key in ("execution", "ExecuteTime", "collapsed", "scrolled"):
            cell.get("metadata", {}).pop(key, None)
    stripped.get("metadata", {}).pop("widgets", None)
    return stripped


def notebook_bytes(notebook: dict[str, Any]) -> bytes:
    """nbformat's own serialisation (indent 1, sorted keys, Unicode kept): stable bytes."""
    return (json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def notebook_source_text(data: bytes) -> str:
    """A notebook as text for diffs: each cell's kind and source, outputs ignored."""
    try:
        notebook = json.loads(data)
    except ValueError:
        return data.decode("utf-8", "replace")
    parts = []
    for index, cell in enumerate(notebook.get("cells", [])):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        parts.append(f"# --- cell {index} ({cell.get('cell_type', '?')}) ---\n{source.rstrip()}\n")
    return "".join(parts)


_MARKERS = (b"<<<<<<< ", b">>>>>>> ")  # "=======" alone is also a Markdown heading underline


def conflict_marker_line(data: bytes) -> int | None:
    """The first line (1-based) that opens or closes a merge conflict, or None. In a notebook the
    markers sit inside JSON strings, so quotes and spaces before them are ignored."""
    for number, line in enumerate(data.split(b"\n"), 1):
        if line.strip().lstrip(b'"').startswith(_MARKERS):
            return number
    return None
