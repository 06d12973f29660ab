"""Secrets never reach a commit: what ``nbops commit`` is about to commit is scanned first."""
from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from ..adapters.project import Project
from ..errors import InvalidError, Problem


def refuse_secrets(project: Project, contents: Mapping[str, bytes | None]) -> None:
    """Raise listing every finding in ``contents`` (path → bytes about to be committed) that the
    repository's allow-list does not accept."""
    from ..adapters.secretlist import load_allowlist
    from ..adapters.secrets import scan_notebook, scan_text
    from .scan import format_findings

    allowlist = load_allowlist(project.root)
    findings = []
    with tempfile.TemporaryDirectory(prefix="nbops-scan-") as tmp:
        for path, data in sorted(contents.items()):
            if data is None:
                continue
            if path.endswith(".ipynb"):  # the content committed (stripped), not the working copy's
                copy = Path(tmp) / "notebook.ipynb"
                copy.write_bytes(data)
                findings += scan_notebook(copy, path)
            else:
                findings += scan_text(data.decode("utf-8", "replace"), path)
    findings = [f for f in findings if not allowlist.allows(f)]
    if findings:
        raise InvalidError(None, [Problem(line) for line in format_findings(findings)])
