"""The ``nbops`` MkDocs plugin: the flow catalog, generated at build time.

``mkdocs.yml``::

    theme: {name: material, font: false}
    plugins: [search, tags, nbops]      # nbops options: see CatalogConfig
    markdown_extensions:
      - tables
      - pymdownx.details                # the collapsible Kestra YAML
      - pymdownx.superfences:           # ```mermaid fences become <pre class="mermaid">
          custom_fences:
            - {name: mermaid, class: mermaid, format: !!python/name:pymdownx.superfences.fence_code_format}

The plugin adds what is missing of those three extensions and the mermaid fence itself, and ships
Mermaid and the notebook styles as site assets (``assets/nbops/``), so no page fetches anything
from the Internet. Catalog pages are sanitized after Markdown; the executed notebook is rendered
in place of its placeholder. A flow that does not convert gets a page saying why, and a warning
naming its file, so ``mkdocs build --strict`` fails.
"""
from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mkdocs.config import base
from mkdocs.config import config_options as opt
from mkdocs.plugins import BasePlugin

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

    from ..adapters.project import Project
    from ..core.catalog_pages import CatalogSite

log = logging.getLogger("mkdocs.plugins.nbops")
ASSETS = Path(__file__).resolve().parent / "assets"
CSS, SCRIPTS = ("notebook.css",), ("mermaid.min.js",)
NOTICES = ("mermaid.LICENSE",)  # published beside the shipped Mermaid build, as its MIT licence asks
ASSET_FOLDER = "assets/nbops"
MERMAID_FENCE = "mermaid"


class CatalogConfig(base.Config):
    root = opt.Optional(opt.Dir(exists=True))  # the flow repository (default: mkdocs.yml's folder)
    prefix = opt.Type(str, default="catalog")  # the site folder of the catalog ("" = the site root)
    history = opt.Type(int, default=10)  # Git commits shown per flow
    runs = opt.Type(int, default=10)  # local executions shown per flow
    notebooks = opt.Type(bool, default=True)  # render each flow's last executed notebook
    nav_title = opt.Type(str, default="Catalog")  # the nav section added when `nav` does not name the catalog


class CatalogPlugin(BasePlugin[CatalogConfig]):
    def __init__(self) -> None:
        self.site: CatalogSite | None = None
        self.project: Project | None = None  # set with the site, in on_files
        self.root = Path.cwd()
        self.prefix = ""

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        self.root = Path(self.config.root or os.path.dirname(config.config_file_path or "") or ".").resolve()
        self.prefix = self.config.prefix.strip("/")
        _ensure_extensions(config)
        for name in CSS:
            if (ASSETS / name).is_file() and f"{ASSET_FOLDER}/{name}" not in config.extra_css:
                config.extra_css.append(f"{ASSET_FOLDER}/{name}")
        for name in SCRIPTS:
            if (ASSETS / name).is_file() and f"{ASSET_FOLDER}/{name}" not in [str(s) for s in config.extra_javascript]:
                config.extra_javascript.append(f"{ASSET_FOLDER}/{name}")  # before Material looks for window.mermaid
        return config

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        from mkdocs.structure.files import File

        from ..adapters.project import Project, load_options
        from ..core.catalog_pages import render_catalog
        from ..services.catalog_data import GatherOptions, gather

        started = time.perf_counter()
        project = self.project = Project(self.root, load_options(self.root))
        flows = gather(project, GatherOptions(self.config.history, self.config.runs))
        self.site = render_catalog(flows, build_time())
        for flow in flows:
            if flow.problems:
                log.warning("%s does not convert (%d problem(s)), see its catalog page: %s", flow.file,
                            len(flow.problems), flow.problems[0].render(flow.file).splitlines()[0])
        taken, added = {f.dest_uri: f.src_uri for f in files}, []  # docs/catalog.md and catalog/index.md: one catalog/index.html
        for path, markdown in self.site.pages.items():
            page = File.generated(config, self._uri(path), content=markdown)
            if (other := files.get_file_from_path(page.src_uri) or taken.get(page.dest_uri)) is not None:
                log.warning("catalog page %s is not generated: docs/%s builds to the same %s (set the nbops "
                            "plugin's prefix)", page.src_uri, getattr(other, "src_uri", other), page.dest_uri)
                continue
            files.append(page)
            added.append(page.src_uri)
        self._add_to_nav(config, added)
        for name in (*CSS, *SCRIPTS, *NOTICES):
            if (ASSETS / name).is_file() and files.get_file_from_path(f"{ASSET_FOLDER}/{name}") is None:
                files.append(File.generated(config, f"{ASSET_FOLDER}/{name}", abs_src_path=str(ASSETS / name)))
        log.info("nbops: %d catalog pages for %d flows in %.2fs", len(self.site.pages), len(flows),
                 time.perf_counter() - started)
        return files

    def on_serve(self, server: Any, config: MkDocsConfig, builder: Any) -> Any:
        """`mkdocs serve` (and `nbops catalog serve`) rebuild when a notebook, a flow or the run history changes."""
        from ..adapters.project import Project, load_options

        project = Project(self.root, load_options(self.root))
        for path in (project.notebooks_dir, project.flows_dir, project.history_db):
            if path.exists():
                server.watch(str(path))
        return server

    def on_page_content(self, html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        if self.site is None or self.project is None or not self._is_catalog_page(page.file.src_uri):
            return html
        from ..adapters.sanitize import sanitize_page_html
        from ..core.catalog_flow_page import notebook_placeholder

        flow = self.site.flows.get(self._relative(page.file.src_uri))
        if flow is None or not flow.executed_notebook:
            return sanitize_page_html(html)
        placeholder = notebook_placeholder(flow.executed_notebook)
        parts = [sanitize_page_html(part) for part in html.split(placeholder)]  # our own placeholder only
        return self._notebook_html(flow.executed_notebook, self.project.catalog_cache).join(parts)

    def _notebook_html(self, relative: str, cache_dir: Path) -> str:
        """The executed notebook (sanitized by the renderer), or a note saying why it is not shown."""
        if not self.config.notebooks:
            return "<p><em>Notebook rendering is off (nbops plugin option <code>notebooks: false</code>).</em></p>"
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root):
            return "<p><em>The executed notebook is outside the repository: not shown.</em></p>"
        from ..adapters.nbhtml import render_notebook
        from ..errors import NbopsError

        try:
            return render_notebook(path, root=self.root, cache_dir=cache_dir)
        except NbopsError as exc:
            log.warning("%s: the executed notebook cannot be shown: %s", relative, exc.message)
            return "<p><em>The executed notebook cannot be shown (see the build log).</em></p>"

    def _add_to_nav(self, config: MkDocsConfig, uris: list[str]) -> None:
        """A Catalog section in an explicit ``nav`` that names no catalog page (see nav.py)."""
        from .nav import catalog_section, names_catalog

        if config.nav is None:
            return
        if not names_catalog(config.nav, set(uris), self.prefix):
            config.nav.append(catalog_section(uris, self.prefix, self.config.nav_title))

    def _uri(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def _relative(self, uri: str) -> str:
        return uri[len(self.prefix) + 1:] if self.prefix else uri

    def _is_catalog_page(self, uri: str) -> bool:
        return self.site is not None and self._relative(uri) in self.site.pages and \
            (not self.prefix or uri.startswith(self.prefix + "/"))


def build_time() -> datetime:
    """When "next run" counts from: ``SOURCE_DATE_EPOCH`` (reproducible builds) or now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return datetime.fromtimestamp(int(epoch) if epoch.isdigit() else time.time(), UTC)


def _ensure_extensions(config: MkDocsConfig) -> None:
    """tables, details and superfences with the mermaid fence: added when the site lacks them."""
    from pymdownx.superfences import fence_code_format

    for name in ("tables", "pymdownx.details", "pymdownx.superfences"):
        if name not in config.markdown_extensions:
            config.markdown_extensions.append(name)
    settings: dict[str, Any] = config.mdx_configs.setdefault("pymdownx.superfences", {})
    fences = settings.setdefault("custom_fences", [])
    if not any(f.get("name") == MERMAID_FENCE for f in fences):
        fences.append({"name": MERMAID_FENCE, "class": "mermaid", "format": fence_code_format})
