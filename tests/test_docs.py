"""The project's documentation site builds with `mkdocs build --strict` (a real build)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_docs_build_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                             "-d", str(site)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    pages = {p.parent.name for p in site.rglob("index.html")}
    assert {"getting-started", "authoring", "cli", "validation"} <= pages
    html = (site / "authoring" / "index.html").read_text()
    assert "fonts.googleapis.com" not in html  # works offline: no Google Fonts


def test_every_header_key_is_documented() -> None:
    from kernel_ext.core.header import HEADER_KEYS

    headings = [line for line in (ROOT / "docs" / "authoring.md").read_text().splitlines() if line.startswith("### ")]
    missing = [key for key in HEADER_KEYS if not any(f"`{key}`" in h for h in headings)]
    assert not missing, missing


def test_every_cli_command_is_documented() -> None:
    text = (ROOT / "docs" / "cli.md").read_text()
    for command in ("export", "validate", "check", "new"):
        assert f"nbops {command}" in text
