"""Pebble templates as Kestra's ``VariableRenderer`` renders them (see the package README, "Pebble"):
strict variables, no auto-escaping, no newline trimming, ``{% raw %}`` blocks, comments and ``-``
whitespace control; values printed through ``JsonWriter``."""
from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from .errors import NotEmulated, RenderError
from .jackson import JFloat, JTemporal, jackson_dumps, java_double_to_string, java_float_to_string
from .pebble_expressions import Expression

_JAVA_WS = " \t\n\x0b\f\r"
JAVA_LINE_TERMINATORS = "\n\r\u0085\u2028\u2029"  # Java regex line terminators ('.' matches none of them)
RAW_PATTERN = re.compile(r"(\{%-*[ \t\n\x0b\f\r]*raw[ \t\n\x0b\f\r]*-*%}([^" + JAVA_LINE_TERMINATORS + r"]*?)"
                         r"\{%-*[ \t\n\x0b\f\r]*endraw[ \t\n\x0b\f\r]*-*%})")
_BLOCK_RAW = re.compile(r"\{%(-?)\s*raw\s*(-?)%}")
_BLOCK_ENDRAW = re.compile(r"\{%(-?)\s*endraw\s*(-?)%}")


def pebble_print(value: Any) -> str:
    """How ``JsonWriter`` prints a value (K@58c1ca2d core/.../runners/pebble/JsonWriter.java:59-71)."""
    if value is None:
        return ""  # Pebble prints nothing for null
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double_to_string(value)
    if isinstance(value, JFloat):
        return java_float_to_string(value.value)
    if isinstance(value, Mapping | list | tuple):
        return jackson_dumps(value)
    if isinstance(value, JTemporal):
        return value.iso
    return str(value)


def _pebble(template: str, variables: Mapping[str, Any]) -> str:
    out: list[str] = []
    i, trim_next = 0, False
    while i < len(template):
        starts = [j for j in (template.find("{{", i), template.find("{%", i), template.find("{#", i)) if j >= 0]
        j = min(starts) if starts else len(template)
        text = template[i:j]
        if trim_next:
            text = text.lstrip(_JAVA_WS)
        if j < len(template) and template[j + 2:j + 3] == "-":
            text = text.rstrip(_JAVA_WS)
        out.append(text)
        if j >= len(template):
            break
        opener = template[j:j + 2]
        if opener == "{#":
            closing = template.find("#}", j)
            if closing < 0:
                raise RenderError("unclosed comment")
            i, trim_next = closing + 2, False
        elif opener == "{{":
            expression = Expression(template, j + 2 + (template[j + 2:j + 3] == "-"), variables)
            out.append(pebble_print(expression.evaluate()))
            i, trim_next = expression.pos, expression.trims_after
        else:
            body, i, trim_next = _raw_tag(template, j)
            out.append(body)
    return "".join(out)


def _raw_tag(template: str, start: int) -> tuple[str, int, bool]:
    """Pebble's ``{% raw %}`` tag at ``start``: its body, where it ends, and whether it trims what follows."""
    raw = _BLOCK_RAW.match(template, start)
    if not raw:
        raise NotEmulated(f"Pebble tag not emulated: {template[start:start + 30]!r}")
    end = _BLOCK_ENDRAW.search(template, raw.end())
    if not end:
        raise RenderError("unclosed raw tag")
    body = template[raw.end():end.start()]
    if raw.group(2):
        body = body.lstrip(_JAVA_WS)
    if end.group(1):
        body = body.rstrip(_JAVA_WS)
    return body, end.end(), bool(end.group(2))


def render(template: str, variables: Mapping[str, Any]) -> str:
    """``VariableRenderer.render`` (K@58c1ca2d VariableRenderer.java:67-134): short-cut without ``{``,
    single-line raw blocks set aside and put back, Pebble, then every raw block stripped to its body."""
    if "{" not in template:
        return template
    placeholders: dict[str, str] = {}

    def set_aside(match: re.Match[str]) -> str:
        key = str(uuid.uuid4())
        placeholders[key] = match.group(1)
        return key
    result = _pebble(RAW_PATTERN.sub(set_aside, template), variables)
    for key, raw in placeholders.items():
        result = result.replace(key, raw)
    return RAW_PATTERN.sub(lambda m: m.group(2), result)
