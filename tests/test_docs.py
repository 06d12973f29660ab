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


def _version_range(fact) -> str:  # how docs/kestra-versions.md writes a fact's versions
    if fact.since and fact.until:
        return f"{fact.since} to {fact.until} (not {fact.until})"
    return f"{fact.since} and later" if fact.since else f"before {fact.until}"


def test_the_kestra_versions_page_lists_every_fact() -> None:
    from kernel_ext.core.kestra_version import DEFAULT, FACTS, SUPPORTED, Feature

    text = (ROOT / "docs" / "kestra-versions.md").read_text()
    rows = {line for line in text.splitlines() if line.startswith("| `")}
    for feature in Feature:
        assert any(row.startswith(f"| `{feature.value}` |") for row in rows), feature
    for fact in FACTS:  # the table says what FACTS says: versions, what, source
        assert f"| `{fact.feature.value}` | {_version_range(fact)} | {fact.what} | `{fact.source}` |" in rows, fact
    assert f"The default is **{DEFAULT}**" in text
    assert all(str(v) in text for v in SUPPORTED)
    assert "kestra-versions.md" in (ROOT / "mkdocs.yml").read_text()
