"""Executed notebook -> sanitized HTML fragment for the catalog, with a content-hash cache.

nbconvert's ``basic`` template renders cells without any inline CSS/JS (the styles ship once per
site as ``catalog/assets/notebook.css``); code is highlighted with Pygments classes that
Material already colours. Outputs kept: text/plain, streams, tracebacks (ANSI as classes),
text/html and text/markdown (sanitized), text/latex as text, PNG/JPEG as data: URIs.
Dropped: JavaScript, widgets and SVG (an SVG output falls back to its text/plain; ammonia cannot
sanitize SVG and data:image/svg+xml is refused). Markdown images are embedded only from
attachments or raster files inside ``root``; any other image becomes its alt text.
nbconvert and nbformat are imported lazily: a cache hit costs a hash and one file read.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..errors import NbopsError, NotebookError, Problem
from .files import MAX_NOTEBOOK_BYTES, atomic_write, read_text
from .notebooks import notebook_from_text
from .sanitize import sanitize_notebook_html

# Bump when the output of the renderer (template, policy, CSS contract) changes: it is in every key.
RENDERER_VERSION = "nbops-nbhtml-2"
MAX_EMBEDDED_IMAGE_BYTES = 5 * 1024 * 1024

_KEPT_MIMETYPES = ("text/plain", "text/html", "text/markdown", "text/latex", "image/png", "image/jpeg")
_RASTER_SUFFIXES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
                    ".webp": "image/webp"}
_RASTER_DATA_URL = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+\Z")


def render_notebook(path: Path, *, root: Path, cache_dir: Path | None = None) -> str:
    """``<div class="nbops-notebook">…</div>`` for the executed notebook at ``path``.

    Raises NotebookError (naming the file) when it is not a readable nbformat 4 notebook."""
    display = _display(path, root)
    text = _read(path, display)
    key = cache_key(text.encode("utf-8"), display)
    cached = _cached(cache_dir, key)
    if cached is not None:
        return cached
    fragment = _render(text, path, root, display)
    if cache_dir is not None:
        atomic_write(cache_dir / f"{key}.html", fragment)
    return fragment


def cache_key(data: bytes, display: str) -> str:
    """sha256 of renderer version, repository path (relative images resolve from it) and bytes.
    Limitation: an image file the notebook embeds can change without changing the key."""
    digest = hashlib.sha256(f"{RENDERER_VERSION}\0{display}\0".encode())
    digest.update(data)
    return digest.hexdigest()


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _read(path: Path, display: str) -> str:
    try:
        return read_text(path, MAX_NOTEBOOK_BYTES, display)
    except NbopsError as exc:
        raise NotebookError(display, [Problem(exc.message, hint=exc.hint)]) from None


def _cached(cache_dir: Path | None, key: str) -> str | None:
    if cache_dir is None:
        return None
    try:
        return (cache_dir / f"{key}.html").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _render(text: str, path: Path, root: Path, display: str) -> str:
    notebook_from_text(text, display)  # JSON and cell shape, with nbops' own messages
    node = _parse(text, display)
    _keep_safe_outputs(node)
    resources = {"metadata": {"path": str(path.parent)}, "nbops_root": str(root.resolve())}
    try:
        body, _ = _exporter().from_notebook_node(node, resources=resources)
    except Exception as exc:  # noqa: BLE001 - nbconvert's errors are many; the user needs the file
        raise NotebookError(display, [Problem(f"cannot render as HTML: {_first_line(exc)}")]) from None
    return f'<div class="nbops-notebook">{sanitize_notebook_html(body)}</div>'


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _parse(text: str, display: str) -> Any:
    import nbformat  # lazy: see module docstring
    from nbformat.reader import reads

    try:
        node = reads(text)  # no conversion, no logging: validated just below
        nbformat.validate(node)
    except Exception as exc:  # noqa: BLE001 - ValidationError, NotJSONError, a version nbformat lacks
        message = getattr(exc, "message", None) or _first_line(exc)
        raise NotebookError(display, [Problem(f"not a valid nbformat 4 notebook: {message}",
                                              hint="open and save it in JupyterLab")]) from None
    return node


def _keep_safe_outputs(node: Any) -> None:
    """Drop JavaScript, widget and SVG outputs (and widget state) before nbconvert sees them."""
    node.metadata.pop("widgets", None)
    for cell in node.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.outputs:
            if "data" in output:
                output["data"] = {m: v for m, v in output["data"].items() if m in _KEPT_MIMETYPES}
                if not output["data"]:
                    continue
            kept.append(output)
        cell.outputs = kept


@functools.lru_cache(maxsize=1)
def _exporter() -> Any:
    """One exporter per process: building nbconvert's template environment is the slow part."""
    from jinja2 import pass_context
    from nbconvert import HTMLExporter
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    class Renderer(IPythonRenderer):  # type: ignore[misc]
        nbops_root = ""  # the repository root: images resolving outside it are never read

        def image(self, text: str, url: str, title: str | None = None) -> str:
            src = _image_source(url, self.attachments, Path(self.path), Path(self.nbops_root))
            return text if src is None else str(super().image(text, src, title))

    class Exporter(HTMLExporter):  # type: ignore[misc]
        def default_filters(self) -> Any:
            yield from super().default_filters()
            yield ("clean_html", _unchanged)  # bleach, per cell: redundant, the whole body goes through nh3 after

        def from_notebook_node(self, nb: Any, resources: Any = None, **kw: Any) -> Any:
            """HTMLExporter's, without its BeautifulSoup pass over the result (alt texts, tabindex):
            a third of the render time, for nothing the sanitized fragment keeps (nbconvert 7)."""
            from nbconvert.exporters.templateexporter import TemplateExporter
            from nbconvert.filters.highlight import Highlight2HTML
            from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

            info = nb.metadata.get("language_info", {})
            lexer = info.get("pygments_lexer", info.get("name", None))
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

        @pass_context  # the filter reads the cell (attachments) and resources from the template context
        def markdown2html(self, context: Any, source: str) -> str:
            cell = context.get("cell", {})
            resources = context.get("resources", {})
            renderer = Renderer(escape=False, attachments=cell.get("attachments", {}), embed_images=False,
                                path=resources.get("metadata", {}).get("path", ""),
                                anchor_link_text=self.anchor_link_text,
                                exclude_anchor_links=self.exclude_anchor_links, **self.lexer_options)
            renderer.nbops_root = resources.get("nbops_root", "")
            return str(MarkdownWithMath(renderer=renderer).render(source))

    return Exporter(template_name="basic", embed_images=False)


def _unchanged(html: str) -> str:
    return html


def _image_source(url: str, attachments: dict[str, Any], base: Path, root: Path) -> str | None:
    """A data: URI to embed for a Markdown image, or None to show its alt text instead."""
    if url.startswith("attachment:"):
        bundle = attachments.get(url[len("attachment:"):]) or {}
        mime = next((m for m in ("image/png", "image/jpeg", "image/gif", "image/webp") if m in bundle), None)
        return _data_url(mime, bundle[mime]) if mime else None
    if url.lower().startswith("data:"):
        compact = re.sub(r"\s+", "", url)
        return compact if _RASTER_DATA_URL.match(compact) else None
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path or parts.path.startswith(("/", "\\")) or not root.parts:
        return None  # remote, file:, absolute: never fetched or read
    return _embed_file(base / unquote(parts.path), root)


def _embed_file(candidate: Path, root: Path) -> str | None:
    try:
        resolved = candidate.resolve()
        resolved.relative_to(root.resolve())  # also refuses ../ and symlinks leaving the repository
        mime = _RASTER_SUFFIXES.get(resolved.suffix.lower())
        if mime is None or not resolved.is_file() or resolved.stat().st_size > MAX_EMBEDDED_IMAGE_BYTES:
            return None
        return _data_url(mime, base64.b64encode(resolved.read_bytes()).decode("ascii"))
    except (ValueError, OSError):
        return None


def _data_url(mime: str | None, payload: Any) -> str | None:
    text = "".join(payload) if isinstance(payload, list) else str(payload)
    url = f"data:{mime};base64,{re.sub(r'[^A-Za-z0-9+/=]', '', text)}"
    return url if _RASTER_DATA_URL.match(url) else None
