"""Build and serve the catalog site with MkDocs' Python API (what ``mkdocs build``/``serve`` do).

A project without ``mkdocs.yml`` is built with an embedded configuration (Material without web
fonts, search, tags, the nbops plugin with the catalog at the site root), written to a temporary
folder next to an empty ``docs/``; the site goes to ``<project>/site`` unless told otherwise.
"""
from __future__ import annotations

import contextlib
import json
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import NbopsError

log = logging.getLogger(__name__)
CONFIG_NAMES = ("mkdocs.yml", "mkdocs.yaml")


def default_config(root: Path, docs_dir: Path, site_dir: Path) -> str:
    """The embedded mkdocs.yml (JSON is YAML: every value is quoted safely)."""
    config = {
        "site_name": f"{root.name} flows", "docs_dir": str(docs_dir), "site_dir": str(site_dir),
        "theme": {"name": "material", "font": False,
                  "features": ["content.code.copy", "navigation.top", "search.highlight",
                               "navigation.prune"]},  # a big catalog: each page carries only its part of the nav
        "plugins": ["search", "tags", {"nbops": {"root": str(root), "prefix": ""}}],
        "markdown_extensions": ["tables", "attr_list", "admonition", "pymdownx.details", "pymdownx.superfences",
                                {"pymdownx.highlight": {"anchor_linenums": True}}],
    }
    return json.dumps(config, indent=2) + "\n"


@contextlib.contextmanager
def config_file(root: Path, given: Path | None = None) -> Iterator[tuple[Path, Path | None]]:
    """(the mkdocs.yml to use, the site folder the embedded one defaults to, else None)."""
    if given is not None:
        if not given.is_file():
            raise NbopsError("no such MkDocs configuration", file=str(given))
        yield given, None
        return
    found = next((root / n for n in CONFIG_NAMES if (root / n).is_file()), None)
    if found is not None:
        yield found, None
        return
    with tempfile.TemporaryDirectory(prefix="nbops-catalog-") as folder:
        (Path(folder) / "docs").mkdir()
        path = Path(folder) / "mkdocs.yml"
        path.write_text(default_config(root, Path(folder) / "docs", root / "site"), encoding="utf-8")
        yield path, root / "site"


def build(root: Path, *, config: Path | None = None, site_dir: Path | None = None, strict: bool = False) -> Path:
    """``mkdocs build``; the site folder. Strict: any warning (a flow that does not convert) fails."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    warnings = _Collected()
    mkdocs_log = logging.getLogger("mkdocs")
    with config_file(root, config) as (path, default_site):
        mkdocs_log.addHandler(warnings)
        try:
            overrides = {"site_dir": str(site_dir or default_site)} if (site_dir or default_site) else {}
            cfg = load_config(config_file=str(path), strict=strict, **overrides)
            cfg.plugins.on_startup(command="build", dirty=False)
            try:
                mkdocs_build(cfg)
            finally:
                cfg.plugins.on_shutdown()
        except MkDocsException as exc:
            listed = "".join(f"\n  {m}" for m in warnings.messages)
            shown = str(path) if default_site is None else "the built-in MkDocs configuration"  # a temp file
            raise NbopsError(f"the catalog build failed: {exc}{listed}", file=shown) from None
        finally:
            mkdocs_log.removeHandler(warnings)
        return Path(cfg.site_dir)


class _Collected(logging.Handler):
    """MkDocs' warnings of one build, so a strict failure says which files caused it."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def serve(root: Path, *, config: Path | None = None, dev_addr: str | None = None, strict: bool = False) -> None:
    """``mkdocs serve`` until Ctrl-C; the plugin adds notebooks/ and _flows/ to the watched paths."""
    from mkdocs.commands.serve import serve as mkdocs_serve
    from mkdocs.exceptions import MkDocsException

    with config_file(root, config) as (path, _):
        options: dict[str, Any] = {"dev_addr": dev_addr} if dev_addr else {}
        try:
            mkdocs_serve(config_file=str(path), strict=strict, **options)
        except MkDocsException as exc:
            raise NbopsError(f"the catalog server stopped: {exc}", file=str(path)) from None
