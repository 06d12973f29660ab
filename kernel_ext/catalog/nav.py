"""Put the catalog in an explicit ``nav`` that does not name it (a site without ``nav`` lists
every page, the catalog's included)."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mkdocs.structure.files import Files
    from mkdocs.structure.nav import Navigation


def add_catalog_section(nav: Navigation, files: Files, uris: list[str], prefix: str, title: str) -> None:
    """A section: the catalog index, the lineage, then one sub-section per namespace folder."""
    from mkdocs.structure.nav import Section, _add_parent_links, _add_previous_and_next_links
    from mkdocs.structure.pages import Page

    if any(page.file.src_uri.startswith(prefix) for page in nav.pages if prefix) or \
            any(page.file.src_uri in uris for page in nav.pages):
        return  # the user's nav names the catalog: theirs wins

    def page(uri: str) -> Page | None:
        file = files.get_file_from_path(uri)
        return file.page if file is not None and isinstance(file.page, Page) else None

    top = [p for uri in uris if "/" not in uri.removeprefix(prefix) and (p := page(uri)) is not None]
    folders: dict[str, list[Page]] = {}
    for uri in uris:
        folder = uri.removeprefix(prefix).rpartition("/")[0]
        if folder and (p := page(uri)) is not None:
            folders.setdefault(folder, []).append(p)
    for pages in folders.values():
        pages.sort(key=lambda p: p.file.name != "index")  # the namespace page first (stable sort)
    children = [*top, *(Section(folder, list(pages)) for folder, pages in sorted(folders.items()))]
    section = Section(title, children)  # type: ignore[arg-type]
    nav.items.append(section)
    _add_parent_links(nav.items)  # private helpers of mkdocs 1.6 (pinned ~=1.6): parents and prev/next
    nav.pages.extend([*top, *(p for _, ps in sorted(folders.items()) for p in ps)])
    _add_previous_and_next_links(nav.pages)
