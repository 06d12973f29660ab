"""Allow-list sanitizing (nh3, i.e. Rust's ammonia) of every piece of HTML the catalog publishes.

Two policies: catalog page content (our own Markdown output, which still carries text from
notebooks and flows) and rendered notebook bodies (arbitrary kernel output). Both are pure
functions of their input, so pages and the render cache stay byte-for-byte reproducible.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import nh3

# Tags with their content removed, not just the tag: their text is code, CSS or foreign markup.
# SVG and MathML are dropped whole: ammonia does not sanitize inside foreign content.
_DROP_WITH_CONTENT = {"script", "style", "svg", "math", "iframe", "object", "embed", "noscript", "template",
                      "textarea", "select", "noembed", "noframes", "xmp", "title"}

_TAGS = (set(nh3.ALLOWED_TAGS) | {"tfoot", "input", "label", "section"}) - {"area", "map"}

_STYLE_PROPERTIES = {"color", "background-color", "text-align", "vertical-align", "font-weight", "font-style",
                     "text-decoration", "white-space", "width", "min-width", "max-width", "height"}
# Checked on the raw value before nh3 filters properties: anything that could fetch or run code.
_BAD_STYLE = re.compile(r"expression|url\s*\(|javascript:|vbscript:|@import|behavior|\\", re.IGNORECASE)

_GLOBAL_ATTRIBUTES = {"id", "class", "title", "lang", "dir", "style", "align"}


def _attributes(**extra: set[str]) -> dict[str, set[str]]:
    merged: dict[str, set[str]] = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
    merged["*"] = set(_GLOBAL_ATTRIBUTES)
    merged["img"] = merged.get("img", set()) | {"title", "loading"}
    merged["label"] = {"for"}
    merged["input"] = {"checked", "disabled", "name"}
    merged["details"] = {"open"}
    merged["a"] = merged["a"] | {"title"}
    for tag, names in extra.items():
        merged[tag] = merged.get(tag, set()) | names
    return merged


# Only the inert inputs Markdown extensions emit (task lists, content tabs); there are no forms.
_INPUT_TYPES = {"input": {"type": {"checkbox", "radio"}}}

_PAGE_ATTRIBUTES = _attributes(div={"data-nbops-notebook", "data-tabs"})
_NOTEBOOK_ATTRIBUTES = _attributes()

_PAGE_SCHEMES = {"http", "https", "mailto"}
_NOTEBOOK_SCHEMES = _PAGE_SCHEMES | {"data"}  # data: then narrowed to raster images on img/src

_RASTER_DATA_URL = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+\Z")
_NOTEBOOK_ID_PREFIX = "nb-"
# Class names a notebook may not borrow: Material's UI, our placeholders, Mermaid's trigger.
_RESERVED_CLASS = re.compile(r"(?:md-|nbops-|mermaid\Z)", re.IGNORECASE)
_NOTEBOOK_TAGS = _TAGS - {"input", "label"}


def _safe_style(value: str) -> str | None:
    return None if _BAD_STYLE.search(value) else value


def _page_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "style":
        return _safe_style(value)
    if tag == "img" and attribute == "src" and (urlsplit(value.strip()).scheme or value.strip().startswith("//")):
        return None  # an image from elsewhere (a description's http image): never fetched by the reader's browser
    return value


def _notebook_filter(tag: str, attribute: str, value: str) -> str | None:
    """Raster data: URLs only on img/src; ids moved into their own namespace (anchors follow) so
    notebook output cannot clobber the page's globals or ids; no Material/nbops classes."""
    if attribute == "style":
        return _safe_style(value)
    if attribute == "class":
        return " ".join(c for c in value.split() if not _RESERVED_CLASS.match(c)) or None
    if attribute == "href" and value.startswith("#") and len(value) > 1:
        return "#" + _NOTEBOOK_ID_PREFIX + value[1:]
    if attribute in ("src", "href", "cite") and value.strip().lower().startswith("data:"):
        compact = re.sub(r"\s+", "", value)
        return compact if tag == "img" and attribute == "src" and _RASTER_DATA_URL.match(compact) else None
    if tag == "img" and attribute == "src":
        return None  # notebook images are embedded (data:) or not shown: no fetch from anywhere
    return value


def _clean(html: str, attributes: dict[str, set[str]], tags: set[str] = _TAGS, **options: Any) -> str:
    return nh3.clean(html, tags=tags, clean_content_tags=_DROP_WITH_CONTENT, attributes=attributes,
                     tag_attribute_values=_INPUT_TYPES, link_rel="noopener noreferrer",
                     filter_style_properties=_STYLE_PROPERTIES, strip_comments=True, **options)


def sanitize_page_html(html: str) -> str:
    """Catalog page content (Python-Markdown + pymdownx output) with no script, handler or foreign URL."""
    return _clean(html, _PAGE_ATTRIBUTES, url_schemes=_PAGE_SCHEMES, attribute_filter=_page_filter)


def sanitize_notebook_html(html: str) -> str:
    """A rendered notebook body: the page policy plus embedded raster images, with ids prefixed."""
    return _clean(html, _NOTEBOOK_ATTRIBUTES, _NOTEBOOK_TAGS, url_schemes=_NOTEBOOK_SCHEMES, attribute_filter=_notebook_filter,
                  id_prefix=_NOTEBOOK_ID_PREFIX)
