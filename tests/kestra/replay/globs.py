"""Java's glob syntax as a Python regex (JDK src/java.base/share/classes/sun/nio/fs/Globs.java
``toRegexPattern``): ``*`` stays within a folder, ``**`` crosses folders, ``?`` is one character,
``[...]``/``[!...]`` classes (never matching ``/``), ``{a,b}`` groups."""
from __future__ import annotations

import re


class GlobSyntaxError(ValueError):
    pass


def _char(glob: str, k: int) -> str:
    """The glob's character at ``k``, or "" past its end."""
    return glob[k] if k < len(glob) else ""


def java_glob_regex(glob: str) -> str:
    """A Python regex equivalent to Java's ``Globs.toUnixRegexPattern`` (for ``re.fullmatch``)."""
    out: list[str] = []
    in_group = False
    i = 0
    while i < len(glob):
        c = glob[i]
        i += 1
        if c == "\\":
            if i == len(glob):
                raise GlobSyntaxError("No character to escape")
            out.append(re.escape(glob[i]))
            i += 1
        elif c == "[":  # never matches '/' (Java: [[^/]&&[...]])
            regex, i = _glob_class(glob, i)
            out.append(regex)
        elif c == "{":
            if in_group:
                raise GlobSyntaxError("Cannot nest groups")
            out.append("(?:(?:")
            in_group = True
        elif c == "}":
            out.append("))" if in_group else "\\}")
            in_group = False
        elif c == ",":
            out.append(")|(?:" if in_group else ",")
        elif c == "*":
            if _char(glob, i) == "*":
                out.append(".*")
                i += 1
            else:
                out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(c))
    if in_group:
        raise GlobSyntaxError("Missing '}")
    return "".join(out)


def _glob_class(glob: str, i: int) -> tuple[str, int]:
    """The ``[...]`` class whose ``[`` is just before ``i``: its regex (never matching '/', as Java's
    ``[[^/]&&[...]]``) and the index after its ``]``."""
    items: list[str] = []
    negate = False
    if _char(glob, i) == "^":
        items.append("\\^")
        i += 1
    else:
        if _char(glob, i) == "!":
            negate = True
            i += 1
        if _char(glob, i) == "-":
            items.append("\\-")
            i += 1
    i = _glob_class_items(glob, i, items)
    body = "".join(items)
    return (f"[^/{body}]" if negate else f"(?:(?!/)[{body}])"), i


def _glob_class_items(glob: str, i: int, items: list[str]) -> int:
    """Reads a class's characters and ranges from ``i`` into ``items``; the index after its ``]``."""
    has_range_start, last = False, ""
    while i < len(glob):
        c = glob[i]
        i += 1
        if c == "]":
            return i
        if c == "/":
            raise GlobSyntaxError("Explicit 'name separator' in class")
        if c == "-":
            if not has_range_start:
                raise GlobSyntaxError("Invalid range")
            end = _char(glob, i)
            i += 1
            if end in ("", "]"):
                items.append("\\-")
                if end == "]":
                    return i
                break
            if end < last:
                raise GlobSyntaxError("Invalid range")
            items[-1] = f"{re.escape(last)}-{re.escape(end)}"
            has_range_start = False
        else:
            items.append(re.escape(c))
            has_range_start, last = True, c
    raise GlobSyntaxError("Missing ']")
