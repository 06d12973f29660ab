"""Escaping for the catalog's generated Markdown: whatever comes from a notebook or a flow
(titles, descriptions, labels, ids, parameter values, error messages) is text, never markup.

Python-Markdown passes raw HTML through and extensions add syntax of their own (``attr_list``'s
``{: onclick=...}``), so inline values are escaped down to entities; descriptions keep their
Markdown but lose raw HTML, attribute lists and non-web link schemes.
"""
from __future__ import annotations

import html
import json
import re
from typing import Any

# HTML and characters that start Markdown/extension syntax in inline text: made entities, shown as
# typed; one table, so no entity is escaped a second time
_INLINE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "|": "&#124;", "{": "&#123;", "}": "&#125;", "[": "&#91;", "]": "&#93;",
                         "\\": "&#92;", "`": "&#96;", "*": "&#42;", "_": "&#95;", "~": "&#126;",
                         "^": "&#94;", "=": "&#61;", "!": "&#33;", ":": "&#58;", "+": "&#43;",
                         "#": "&#35;", "$": "&#36;", "\n": " ", "\r": " ", "\t": " "})
# for places templates print without escaping (front matter: <title>, <meta>, nav): look-alikes
_PLAIN = str.maketrans({"<": "‹", ">": "›", "&": "＆", '"': "”", "'": "’", "`": "‘", "\n": " ", "\r": " ",
                        "\t": " "})
# Mermaid label text: its own entity syntax (#quot;), so a label cannot end its quotes or the fence
_MERMAID = str.maketrans({"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;",
                          "\n": " ", "\r": " ", "|": "#124;", "[": "#91;", "]": "#93;", "{": "#123;",
                          "}": "#125;", ";": "#59;"})
_SAFE_SCHEME = re.compile(r"^(https?:|mailto:|#|/|\.|[A-Za-z0-9_-]+(?:[/.#?]|$))", re.IGNORECASE)
_LINK_TARGET = re.compile(r"\]\(\s*((?:[^()\s]|\([^()\s]*\))*)")  # one level of parentheses, as Markdown
_REF_TARGET = re.compile(r"^(\s{0,3}\[[^\]]+\]:\s*)(\S+)", re.MULTILINE)
_HEADING = re.compile(r"^(#{1,6})(?=\s)", re.MULTILINE)


def inline(value: Any) -> str:
    """One line of literal text for a table cell, a list item or a paragraph."""
    return _text(value).translate(_INLINE)


def code(value: Any) -> str:
    """Literal text in monospace (a `<code>` element: entities, so no backtick can end it)."""
    return f"<code>{inline(value)}</code>"


def plain(value: Any, limit: int = 300) -> str:
    """Text for front matter (page title, search description, tags): templates print it raw."""
    text = " ".join(_text(value).translate(_PLAIN).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mermaid_label(value: Any) -> str:
    """A quoted Mermaid node label."""
    return '"' + _text(value).translate(_MERMAID) + '"'


def yaml_scalar(value: str) -> str:
    """A front-matter scalar: JSON strings are YAML double-quoted strings."""
    return json.dumps(value, ensure_ascii=True)


def markdown_block(text: str, demote: int = 1) -> str:
    """A description as Markdown without raw HTML, attribute lists or script links; its headings
    are demoted below the page's own."""
    escaped = html.escape(text, quote=False).replace("{", "&#123;").replace("}", "&#125;")
    escaped = _LINK_TARGET.sub(lambda m: "](" + _safe_url(m.group(1)), escaped)
    escaped = _REF_TARGET.sub(lambda m: m.group(1) + _safe_url(m.group(2)), escaped)
    return _HEADING.sub(lambda m: "#" * min(6, len(m.group(1)) + demote), escaped)


def _safe_url(url: str) -> str:
    return url if _SAFE_SCHEME.match(url) and "&#" not in url.split("/")[0] else "#"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
