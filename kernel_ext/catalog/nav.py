"""Put the catalog in an explicit ``nav`` that does not name it (a site without ``nav`` lists
every page, the catalog's included).

The section is added to the configuration's ``nav`` before MkDocs builds the navigation, so MkDocs
makes the section, its titles and the previous/next links itself, and never reports the catalog's
pages as left out of the nav (``validation.omitted_files``).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def names_catalog(nav: Sequence[Any], uris: set[str], prefix: str) -> bool:
    """Whether the user's nav already lists a catalog page (then theirs wins)."""
    for item in nav:
        values = item.values() if isinstance(item, dict) else [item]
        for value in values:
            if isinstance(value, list) and names_catalog(value, uris, prefix):
                return True
            if isinstance(value, str) and (value in uris or (prefix and value.startswith(prefix + "/"))):
                return True
    return False


def catalog_section(uris: Sequence[str], prefix: str, title: str) -> dict[str, list[Any]]:
    """``{title: [index, lineage, {namespace: [namespace page, flow pages...]}, ...]}`` for ``nav``."""
    top = [uri for uri in uris if "/" not in _inside(uri, prefix)]
    folders: dict[str, list[str]] = {}
    for uri in uris:
        folder = _inside(uri, prefix).rpartition("/")[0]
        if folder:
            folders.setdefault(folder, []).append(uri)
    for pages in folders.values():
        pages.sort(key=lambda uri: not uri.endswith("/index.md"))  # the namespace page first (stable sort)
    return {title: [*top, *({folder: pages} for folder, pages in sorted(folders.items()))]}


def _inside(uri: str, prefix: str) -> str:
    return uri[len(prefix) + 1:] if prefix else uri
