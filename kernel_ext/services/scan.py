"""The secret scan: of files (``nbops check``, ``nbops secrets``) and of what a commit is about to hold
(``nbops commit``), its report, and redaction of secret inputs in executed notebooks.

Why: ``nbops commit`` must refuse to commit a secret and ``nbops check`` must fail CI on one; both
need the same reading (notebooks cell by cell, other text files whole, binaries and data dumps
skipped) minus the findings accepted in ``.nbops-secrets.json``, and the same readable list. A commit
scans the bytes it is about to commit, in memory, not the working copy. Executed notebooks carry the
values papermill injected, so secret-typed inputs are masked before such a notebook is stored or
committed. The detectors live in adapters.secrets; the allow-list, in adapters.secretlist, is
re-exported here.
"""
from __future__ import annotations

import ast
import copy
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..adapters.project import Project
from ..adapters.secretlist import ALLOWLIST_FILE, load_allowlist, write_allowlist
from ..adapters.secretfiles import scan_file
from ..adapters.secrets import Finding, joined, mapping, notebook_json, scan_notebook, scan_text
from ..errors import ConfigError, InvalidError, NbopsError, Problem

log = logging.getLogger(__name__)
__all__ = ["ALLOWLIST_FILE", "Finding", "files_to_scan", "format_findings", "load_allowlist", "redact_secret_parameters",
           "refuse_secrets", "scan_paths", "write_allowlist"]

REDACTED = "***"
INJECTED_TAG = "injected-parameters"  # papermill's tag on the cell it adds with the run's parameters
ACCEPT_HINT = ("hint: remove the secret (a flow reads it with {{ secret('NAME') }}; an output is cleared with "
               "'Clear All Outputs'), or, for a false positive, accept it with: nbops secrets --accept "
               f"(records its file and secret hash in {ALLOWLIST_FILE})")
_SKIPPED_DIRS = frozenset({".git", ".nbops", ".venv", "venv", "node_modules", "__pycache__", ".ipynb_checkpoints"})


def files_to_scan(root: Path, paths: list[Path], *, strict: bool = False) -> list[Path]:
    """The files to scan: folders walked (tool and cache folders skipped), the allow-list itself left
    out. A path that matches no file is ignored (a commit may list deleted files), or, when ``strict``
    (paths a user named), an error: a scan of nothing must not read as "no secrets found"."""
    found: set[Path] = set()
    for given in paths:
        path = given if given.is_absolute() else root / given
        if path.is_dir():
            matched = {p for p in path.rglob("*")
                       if p.is_file() and not _SKIPPED_DIRS.intersection(p.relative_to(path).parts[:-1])}
        else:
            matched = {path} if path.is_file() else set()
        matched = {p for p in matched if p.name != ALLOWLIST_FILE}
        if strict and not matched:
            what = "is a folder holding no file to scan" if path.is_dir() else "matches no file"
            raise ConfigError(f"{_display(root, path)} {what}: nothing was scanned for secrets",
                              hint="name files or folders of the repository (default: notebooks/ and _flows/)")
        if not matched:
            log.debug("not scanned for secrets, not a file: %s", path)
        found.update(matched)
    return sorted(found)


def _display(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def scan_paths(project_root: Path, paths: list[Path], unscanned: list[NbopsError] | None = None) -> list[Finding]:
    """Secrets in the given files and folders (relative to ``project_root`` or absolute), in path order,
    minus the findings the allow-list accepts. A file that cannot be read (no permission, not UTF-8,
    not notebook JSON) does not stop the scan: its error goes to ``unscanned``, or, without that list,
    every such file is raised at the end in one error."""
    allowlist = load_allowlist(project_root)
    files = files_to_scan(project_root, paths)
    errors: list[NbopsError] = []
    findings = []
    for path in files:
        try:
            findings += scan_file(path, _display(project_root, path))
        except NbopsError as exc:
            errors.append(exc)
    if unscanned is not None:
        unscanned += errors
    elif errors:
        raise InvalidError(None, [Problem(str(e), hint="it cannot be scanned for secrets") for e in errors])
    kept = [f for f in findings if not allowlist.allows(f)]
    log.info("secret scan: %d file(s), %d finding(s), %d accepted", len(files), len(kept), len(findings) - len(kept))
    return kept


def refuse_secrets(project: Project, contents: Mapping[str, bytes | None]) -> None:
    """Raise listing every finding in ``contents`` (path → bytes about to be committed, None for a
    deletion) that the repository's allow-list does not accept."""
    allowlist = load_allowlist(project.root)
    findings = []
    for path, data in sorted((p, d) for p, d in contents.items() if d is not None):
        text = data.decode("utf-8", "replace")
        findings += scan_notebook(notebook_json(text, path), path) if path.endswith(".ipynb") else scan_text(text, path)
    findings = [f for f in findings if not allowlist.allows(f)]
    if findings:
        raise InvalidError(None, [Problem(line) for line in format_findings(findings)])


def _describe(finding: Finding) -> str:
    where = [f"cell {finding.cell}"] if finding.cell is not None else []
    where += [finding.where] if finding.where != "text" else []
    where += [f"line {finding.line}"] if finding.line else []
    return f"{finding.file} ({', '.join(where)}): {finding.kind}: {finding.excerpt}"


def format_findings(findings: list[Finding]) -> list[str]:
    """One line per finding, e.g. ``notebooks/x.ipynb (cell 3, output, line 2): AWS Access Key: ...``,
    then how to fix or accept them; nothing when there is nothing to report."""
    return [_describe(f) for f in findings] + [ACCEPT_HINT] if findings else []


def _redact_assignments(text: str, names: set[str]) -> str:
    """``name = <value>`` becomes ``name = "***"`` for the given names, annotation and trailing comment kept.
    Parsed with ast, so a value over several lines goes whole; a cell that does not parse is redacted by line."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        pattern = re.compile(rf"^(\s*(?:{'|'.join(map(re.escape, sorted(names)))})\s*(?::[^=]*)?=\s*).*$", re.MULTILINE)
        return pattern.sub(lambda m: m.group(1) + f'"{REDACTED}"', text)
    lines = re.findall(r"[^\n]*\n?", text)  # ast numbers lines by "\n" only, unlike str.splitlines
    for node in reversed(tree.body):
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else \
            node.target if isinstance(node, ast.AnnAssign) else None
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if not (isinstance(target, ast.Name) and target.id in names and value is not None):
            continue
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        head = lines[first].encode()[:value.col_offset].decode() if value.lineno == node.lineno else f"{target.id} = "
        tail = lines[last].encode()[node.end_col_offset or 0:].decode()
        lines[first:last + 1] = [f'{head}"{REDACTED}"{tail}']
    return "".join(lines)


def redact_secret_parameters(notebook_json: dict[str, Any], secret_names: set[str]) -> dict[str, Any]:
    """A copy of an executed notebook with the values of secret-typed inputs replaced by "***" where
    papermill records them: its injected-parameters cell and ``metadata.papermill.parameters``.
    Other parameters and cells are untouched; so is the given notebook."""
    result = copy.deepcopy(notebook_json)
    if not secret_names:
        return result
    for cell in (c for c in result.get("cells") or [] if isinstance(c, dict)):
        tags = mapping(cell.get("metadata")).get("tags")
        if isinstance(tags, list) and INJECTED_TAG in tags:
            redacted = _redact_assignments(joined(cell.get("source")), secret_names)
            cell["source"] = redacted.splitlines(keepends=True) if isinstance(cell.get("source"), list) else redacted
    params = mapping(mapping(result.get("metadata")).get("papermill")).get("parameters")
    if isinstance(params, dict):
        for name in secret_names & params.keys():
            params[name] = REDACTED
    return result
