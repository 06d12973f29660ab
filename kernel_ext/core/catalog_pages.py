"""The catalog's Markdown pages, rendered from :class:`CatalogFlow` data (pure and deterministic:
the same flows and ``now`` give the same bytes). Paths are relative to the catalog's folder:
``index.md``, ``lineage.md``, ``<namespace>/index.md`` and ``<namespace>/<flow id>.md``."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from .catalog_graph import lineage_graph, with_links
from .catalog_model import CatalogFlow, EdgeKind
from .catalog_flow_page import flow_page, front_matter, relative_link
from .catalog_schedule import schedule_words
from .catalog_text import code, inline

INDEX, LINEAGE = "index.md", "lineage.md"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class CatalogSite:
    pages: Mapping[str, str]  # page path → Markdown source
    flows: Mapping[str, CatalogFlow]  # flow page path → its flow


def render_catalog(flows: Sequence[CatalogFlow], now: datetime) -> CatalogSite:
    """Every page of the catalog. ``now`` is when "next run" counts from."""
    ordered = sorted(with_links(flows), key=lambda f: (f.namespace, f.id, f.file))
    paths = page_paths(ordered)
    by_key: dict[str, str] = {}
    for flow in ordered:
        if flow.ok:
            by_key.setdefault(flow.key, paths[flow.file])
    pages = {INDEX: index_page(ordered, paths), LINEAGE: lineage_page(ordered)}
    for namespace in sorted({f.namespace for f in ordered}):
        members = [f for f in ordered if f.namespace == namespace]
        pages[namespace_page_path(namespace)] = namespace_page(namespace, members, paths)
    for flow in ordered:
        here = paths[flow.file]
        pages[here] = flow_page(flow, now, partial(_link, here, by_key))
    return CatalogSite(pages, {paths[f.file]: f for f in ordered})


def _link(here: str, pages: Mapping[str, str], key: str) -> str | None:
    target = pages.get(key)
    return relative_link(here, target) if target else None


def namespace_page_path(namespace: str) -> str:
    return f"{_name(namespace)}/{INDEX}"


def page_paths(flows: Sequence[CatalogFlow]) -> dict[str, str]:
    """flow file → its page; names are made file-system safe and unique (also ignoring case, and
    never a namespace's own index page)."""
    taken = {namespace_page_path(f.namespace).lower() for f in flows} | {INDEX, LINEAGE}
    paths: dict[str, str] = {}
    for flow in flows:
        stem, n = f"{_name(flow.namespace)}/{_name(flow.id)}", 1
        candidate = f"{stem}.md"
        while candidate.lower() in taken:
            n += 1
            candidate = f"{stem}-{n}.md"
        taken.add(candidate.lower())
        paths[flow.file] = candidate
    return paths


def _name(text: str) -> str:
    return _UNSAFE_NAME.sub("_", text).strip(".") or "_"


def _schedule_words(flow: CatalogFlow) -> str:
    words = schedule_words(flow.triggers) if flow.ok else []
    after = [link.key for link in flow.upstream if link.kind is EdgeKind.AFTER]
    if after:
        words.append("after " + ", ".join(after))
    return inline("; ".join(words))


def _table(flows: Sequence[CatalogFlow], paths: Mapping[str, str], here: str) -> list[str]:
    rows = []
    for f in flows:
        link = f"[{code(f.id)}]({relative_link(here, paths[f.file])})"
        title = inline(f.title or f.id) if f.ok else f"**does not convert** ({len(f.problems)} problem(s))"
        labels = " ".join(code(f"{k}: {v}") for k, v in sorted(f.labels.items()))
        status = inline(f.runs[0].status) if f.runs else ""
        rows.append(f"| {code(f.namespace)} | {link} | {title} | {_schedule_words(f)} | {labels} | {status} |")
    return ["| Namespace | Flow | Title | Schedule | Labels | Last run |", "|---|---|---|---|---|---|", *rows]


def index_page(flows: Sequence[CatalogFlow], paths: Mapping[str, str]) -> str:
    bad = sum(not f.ok for f in flows)
    namespaces = sorted({f.namespace for f in flows})
    summary = f"{len(flows)} flow(s) in {len(namespaces)} namespace(s)" + (f", {bad} that do not convert" if bad else "")
    links = ", ".join(f"[{code(ns)}]({namespace_page_path(ns)})" for ns in namespaces)
    parts = [front_matter("Flow catalog", summary, []), "# Flow catalog", "", f"{summary}.", "",
             f"Namespaces: {links or 'none'}. See also the [lineage](lineage.md) between flows.", "",
             *_table(flows, paths, INDEX)]
    return "\n".join(parts) + "\n"


def namespace_page(namespace: str, flows: Sequence[CatalogFlow], paths: Mapping[str, str]) -> str:
    here = namespace_page_path(namespace)
    parts = [front_matter(f"Namespace {namespace}", f"The flows of namespace {namespace}", []),
             f"# Namespace {inline(namespace)}", "", (f"[All flows]({relative_link(here, INDEX)}) · "
             f"[Lineage]({relative_link(here, LINEAGE)})"), "", *_table(flows, paths, here)]
    return "\n".join(parts) + "\n"


def lineage_page(flows: Sequence[CatalogFlow]) -> str:
    parts = [front_matter("Lineage", "How flows depend on each other: Flow triggers and Subflow tasks", []),
             "# Lineage", "", ("A solid arrow runs the next flow after the previous one ends (a Flow trigger, "
             "<code>after</code> in a notebook header); a dotted one is a Subflow call. Round nodes are flows "
             "outside this catalog."), "", "```mermaid", lineage_graph(flows), "```", ""]
    return "\n".join(parts)
