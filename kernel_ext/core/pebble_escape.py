"""Text that Kestra renders as Pebble, escaped so it renders back to itself.

From Kestra 1.0 input defaults are Pebble templates: ``FlowInputOutput.resolveDefaultValue`` reads
``Input.defaults`` (a ``Property<T>``) through ``Property.as``/``asList``, which call
``RunContext.render`` on the default's text (kestra-io/kestra core/.../runners/FlowInputOutput.java,
core/.../models/property/Property.java, 1.x). A parameters cell's ``"Hello {{ name }}"`` would reach
the notebook rendered (or fail on a missing variable), while ``nbops run`` passes it as written.

The escape: each Pebble delimiter ``{{``, ``{%`` or ``{#`` becomes a print tag of that text as a
string literal, ``{{ '{{' }}``, which Pebble prints as the two characters. Nothing else in the text
is Pebble syntax (``}}`` and ``%}`` outside a tag are plain text), so the rendered result is exactly
the text. Kestra's renderer (core/.../runners/VariableRenderer.java, the same in 0.21 @ 58c1ca2d and
1.x) has one more step: ``{% raw %}…{% endraw %}`` blocks on one line (``RAW_PATTERN``, no DOTALL)
are set aside before Pebble runs and their tags stripped from the final text. The escaped text never
holds ``{%`` outside a string literal, so the first step never matches it; the last step strips such a
block from the output whatever the input was, so a text holding one cannot be passed at all:
:func:`unrepresentable` says so, and export refuses it. Kestra's ``recursive-rendering`` setting (off
by default since 0.14) would render the result again; it is not supported.

Kestra's own documented escape, ``{% raw %}…{% endraw %}``, is not used: its pattern stops at a line
break and at the first ``{% endraw %}``, so it cannot carry every text.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

DELIMITER = re.compile(r"\{[{%#]")
# kestra-io/kestra@58c1ca2d core/src/main/java/io/kestra/core/runners/VariableRenderer.java:26,
# "(\\{%-*\\s*raw\\s*-*%}(.*?)\\{%-*\\s*endraw\\s*-*%})", written with Java's meaning of \s (ASCII
# whitespace) and of . (anything but a line terminator).
_JAVA_SPACE = r"[ \t\n\x0b\f\r]"
_JAVA_DOT = "[^\n\r\u0085\u2028\u2029]"
RAW_BLOCK = re.compile(rf"(\{{%-*{_JAVA_SPACE}*raw{_JAVA_SPACE}*-*%}}({_JAVA_DOT}*?)\{{%-*{_JAVA_SPACE}*endraw"
                       rf"{_JAVA_SPACE}*-*%}})")


def has_pebble(text: str) -> bool:
    """Whether Kestra's Pebble would read ``text`` as more than plain text."""
    return DELIMITER.search(text) is not None


def escape(text: str) -> str:
    """``text`` as a Pebble template that renders to ``text`` (unchanged when it has no delimiter)."""
    return DELIMITER.sub(lambda m: "{{ '" + m.group(0) + "' }}", text)


_ESCAPED = re.compile(r"\{\{ '(\{[{%#])' \}\}")


def unescape(text: str) -> str:
    """The text an escaped default stands for: :func:`escape` undone, when ``text`` is exactly what it
    writes; any other text (a dynamic default such as ``{{ now() }}``) is returned as it is."""
    plain = _ESCAPED.sub(lambda m: m.group(1), text)
    return plain if plain != text and escape(plain) == text else text


def unrepresentable(text: str) -> bool:
    """Whether Kestra strips part of ``text`` from any rendered value (a one-line raw block)."""
    return RAW_BLOCK.search(text) is not None


def map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """``value`` with ``change`` applied to every string in it, map keys included (Kestra renders list
    items and map entries one by one: Property.asList, VariableRenderer.render(Map))."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list | tuple):
        return [map_strings(v, change) for v in value]
    if isinstance(value, dict):
        return {change(k) if isinstance(k, str) else k: map_strings(v, change) for k, v in value.items()}
    return value


def escape_value(value: Any) -> Any:
    """A default's value with every string escaped (see :func:`escape`)."""
    return map_strings(value, escape)


def unescape_value(value: Any) -> Any:
    """:func:`escape_value` undone, string by string (see :func:`unescape`)."""
    return map_strings(value, unescape)


def strings_of(value: Any) -> list[str]:
    """Every string in a default's value, map keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings_of(v)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (strings_of(k) + strings_of(v))]
    return []
