"""Every other string of a notebook's JSON, for the secret scan: metadata (cell, notebook, output),
attachments, output data of any MIME type, cell ids, key names; each finding located by its JSON path.

Why: a token hides as well in ``cells[3].metadata.custom.token`` or ``metadata.authors[0].token`` as in
a source, and what ``nbops commit`` writes must all have been scanned. The notebook-aware parts (sources,
text outputs, tracebacks, papermill's parameters) are read by ``secrets.notebook_parts`` as texts, lines
counted within a cell; this walk covers everything else and leaves those fields out (no finding twice).

How:
- A string on one line is scanned as the JSON line ``"key": "value"``: the key gives the keyword rules
  their name (``"api_key": "…"``), and a key holding a token is scanned with it. The lines of one cell
  (or of the notebook's own fields) are scanned as one text, so the detectors' probes run once per
  cell, and each finding is mapped back to its path. A string of several lines is scanned as its own
  text, lines counted within it.
- Binary data is left out only when both its place and its shape say binary: a base64 value of a
  binary MIME type (``image/png``, ``application/pdf``; not ``image/svg+xml``) in an output's or an
  attachment's bundle, and a base64 value whose object declares it base64 (``"encoding": "base64"`` in
  widget buffers, ``"dtype"`` beside Plotly's ``bdata``). Inline ``data:…;base64,`` URIs are cut out of
  every string. Anything else is scanned, including text put in an ``image/png`` field.
- A path segment that is itself a secret (a token used as a key) is shown masked.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .secrets import ANSI, DATA_URI, TEXT_MIME, Finding, mapping, scan_text

JsonPath = tuple[str | int, ...]
_BINARY_MIME = re.compile(r"(?i)image/(?!svg\+xml)[\w.+-]+|audio/.+|video/.+|font/.+|application/(pdf|octet-stream)")
_IDENTIFIER = re.compile(r"[A-Za-z_][\w-]*")
_COVERED_OUTPUT_FIELDS = {"stream": {"text"}, "error": {"ename", "evalue", "traceback"}}  # read by notebook_parts
_SHOWN_KINDS = ("execute_result", "display_data")  # their text MIME data is read by notebook_parts


@dataclass(frozen=True)
class _Entry:
    path: JsonPath
    text: str  # one line ("key": value), or a string of several lines


def _base64(value: Any) -> bool:
    text = "".join(v for v in value if isinstance(v, str)) if isinstance(value, list) else value
    if not isinstance(text, str):
        return False
    try:
        base64.b64decode(re.sub(r"\s+", "", text), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _at(data: Any, path: JsonPath) -> Any:
    for segment in path:
        if isinstance(segment, int):
            data = data[segment] if isinstance(data, list) and segment < len(data) else None
        else:
            data = mapping(data).get(segment)
    return data


def _skipped(root: dict[str, Any], path: JsonPath, value: Any) -> bool:
    """Read elsewhere (``notebook_parts``) or binary: not walked. ``path`` ends with the key or index."""
    match path:
        case ("cells", int(), "source"):
            return True
        case ("metadata", "papermill", "parameters"):
            return isinstance(value, dict)
        case ("cells", int(), "outputs", int(), str(field)):
            kind = mapping(_at(root, path[:4])).get("output_type")
            return field in _COVERED_OUTPUT_FIELDS.get(str(kind), set())
        case ("cells", int(), "outputs", int(), "data", str(mime)):
            shown = mapping(_at(root, path[:4])).get("output_type") in _SHOWN_KINDS
            return bool(shown and TEXT_MIME.fullmatch(mime)) or bool(_BINARY_MIME.fullmatch(mime) and _base64(value))
        case ("cells", int(), "attachments", str(), str(mime)):
            return bool(_BINARY_MIME.fullmatch(mime) and _base64(value))
    return False


def _declares_base64(obj: dict[str, Any]) -> bool:
    return obj.get("encoding") == "base64" or isinstance(obj.get("dtype"), str)


def _line(key: str | None, value: Any) -> str:
    name = json.dumps(key, ensure_ascii=False) + ": " if key is not None else ""
    if isinstance(value, dict | list):
        return name + ("{" if isinstance(value, dict) else "[")
    return name + json.dumps(value, ensure_ascii=False)


def _walk(root: dict[str, Any], value: Any, path: JsonPath, key: str | None) -> Iterator[_Entry]:
    if isinstance(value, dict):
        declared = _declares_base64(value)
        for name, child in value.items():
            sub = (*path, str(name))
            if _skipped(root, sub, child):
                yield _Entry(sub, _line(str(name), "…"))  # its key is still scanned
                continue
            if declared and isinstance(child, str) and len(child) > 16 and _base64(child):
                yield _Entry(sub, _line(str(name), "…"))
                continue
            if isinstance(child, dict | list):
                yield _Entry(sub, _line(str(name), child))
            yield from _walk(root, child, sub, str(name))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            sub = (*path, index)
            if isinstance(child, str | dict | list) and not _skipped(root, sub, child):  # numbers: no secret
                yield from _walk(root, child, sub, key)
    elif isinstance(value, str):
        text = ANSI.sub("", DATA_URI.sub("data:…", value)).strip("\n")
        yield _Entry(path, text if "\n" in text else _line(key, text))
    else:
        yield _Entry(path, _line(key, value))


@lru_cache(maxsize=256)
def _segment(name: str) -> str:
    """A key as a path segment: ``.name``, or ``["a key"]``; masked when the key itself is a secret."""
    found = scan_text(json.dumps(name, ensure_ascii=False), "key.json")
    if found:
        return f"[{found[0].excerpt}]"
    return f".{name}" if _IDENTIFIER.fullmatch(name) else f"[{json.dumps(name, ensure_ascii=False)}]"


def json_path(path: JsonPath) -> str:
    """``cells[3].metadata.custom.token``, ``metadata.authors[0].token``, ``metadata["my key"]``."""
    return "".join(f"[{s}]" if isinstance(s, int) else _segment(s) for s in path).removeprefix(".")


def _scope(path: JsonPath) -> int | None:
    return path[1] if len(path) > 1 and path[0] == "cells" and isinstance(path[1], int) else None


def scan_json(notebook: dict[str, Any], display: str) -> list[Finding]:
    """Every secret in the strings of ``notebook`` that ``notebook_parts`` does not read, ``where``
    being the JSON path; ``line`` is 0 for a one-line string, else the line within the string."""
    single: dict[int | None, list[_Entry]] = {}
    findings: list[Finding] = []
    for entry in _walk(notebook, notebook, (), None):
        if "\n" in entry.text:
            findings += [dataclasses.replace(f, where=json_path(entry.path))
                         for f in scan_text(entry.text, display, cell=_scope(entry.path))]
        else:
            single.setdefault(_scope(entry.path), []).append(entry)
    for cell, entries in single.items():
        for found in scan_text("\n".join(e.text for e in entries), display, cell=cell):
            findings.append(dataclasses.replace(found, where=json_path(entries[found.line - 1].path), line=0))
    return sorted(findings, key=lambda f: (f.cell is None, f.cell or 0, f.where, f.line))
