"""Check a document against the JSON Schema subset used by :mod:`kestra_schema`, reporting all errors.

Why not the ``jsonschema`` library at run time: here it costs ~0.85 s to import (an optional URI
grammar pulled in by Jupyter) and ~0.8 ms per flow, which would make ``nbops export`` of a large
repository slower than reading it. This evaluator implements only the keywords the flow schema uses
(type, properties, required, additionalProperties, enum, const, pattern, min/max, items, $ref,
allOf of if/then, anyOf); the test suite checks it against ``jsonschema`` as an oracle.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from .yamlsafe import Path

_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "null": lambda v: v is None,
}
_TYPE_WORDS = {"object": "a mapping", "array": "a list", "string": "text", "boolean": "true or false",
               "integer": "a whole number", "number": "a number", "null": "null"}

Error = tuple[Path, str, str]  # (path, keyword, message)


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _type_name(value: Any) -> str:
    for name in ("boolean", "integer", "number", "string", "array", "object", "null"):
        if _TYPES[name](value):
            return _TYPE_WORDS[name]
    return type(value).__name__


class SchemaChecker:
    def __init__(self, root: dict[str, Any], messages: dict[str, str]):
        self.root = root
        self.messages = messages

    def errors(self, value: Any) -> list[Error]:
        return list(self._check(value, self.root, ()))

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            node: Any = self.root
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def _check(self, value: Any, schema: dict[str, Any], path: Path) -> Iterator[Error]:
        schema = self._resolve(schema)
        expected = schema.get("type")
        if expected is not None:
            names = expected if isinstance(expected, list) else [expected]
            if not any(_TYPES[n](value) for n in names):
                words = " or ".join(_TYPE_WORDS[n] for n in names)
                yield path, "type", f"expected {words}, got {_type_name(value)}"
                return
        yield from self._scalar_rules(value, schema, path)
        if isinstance(value, dict):
            yield from self._object(value, schema, path)
        elif isinstance(value, list):
            yield from self._array(value, schema, path)
        for branch in schema.get("allOf", ()):
            if "if" not in branch:
                yield from self._check(value, branch, path)
            elif self._holds(value, branch["if"], path):
                yield from self._check(value, branch.get("then", {}), path)
            else:
                yield from self._check(value, branch.get("else", {}), path)
        if "anyOf" in schema:
            tries = [list(self._check(value, s, path)) for s in schema["anyOf"]]
            if all(tries):
                yield from min(tries, key=len)

    def _holds(self, value: Any, condition: dict[str, Any], path: Path) -> bool:
        rule = condition.get("properties", {}).get("type", {})
        if condition.get("required") == ["type"] and ("const" in rule or "enum" in rule):
            # the dispatch on a task's, trigger's or input's type: a fast path for the common case
            kind = value.get("type") if isinstance(value, dict) else None
            return kind == rule["const"] if "const" in rule else kind in rule["enum"]
        return not any(True for _ in self._check(value, condition, path))

    def _scalar_rules(self, value: Any, schema: dict[str, Any], path: Path) -> Iterator[Error]:
        if "enum" in schema and value not in schema["enum"]:
            choices = [str(c) for c in schema["enum"]]
            close = difflib.get_close_matches(str(value), choices, n=1)
            suggestion = f" (did you mean {close[0]!r}?)" if close else ""
            yield path, "enum", f"{value!r} is not one of {', '.join(choices)}{suggestion}"
        if "const" in schema and value != schema["const"]:
            yield path, "const", f"expected {schema['const']!r}"
        if isinstance(value, str):
            if "pattern" in schema and not _regex(schema["pattern"]).search(value):
                reason = self.messages.get(schema["pattern"], f"does not match {schema['pattern']}")
                yield path, "pattern", f"{value!r} is not valid: {reason}"
            if len(value) > schema.get("maxLength", len(value)):
                yield path, "maxLength", f"is longer than {schema['maxLength']} characters"
            if len(value) < schema.get("minLength", 0):
                yield path, "minLength", "must not be empty"
        elif _TYPES["number"](value) and value < schema.get("minimum", value):
            yield path, "minimum", f"must be at least {schema['minimum']}"

    def _object(self, value: dict[str, Any], schema: dict[str, Any], path: Path) -> Iterator[Error]:
        props = schema.get("properties", {})
        for key in schema.get("required", ()):
            if key not in value:
                yield path, "required", f"missing required key {key!r}"
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                yield from self._check(item, props[key], path + (key,))
            elif extra is False:
                close = difflib.get_close_matches(key, list(props), n=1)
                hint = f"did you mean {close[0]!r}?" if close else "allowed: " + ", ".join(props)
                yield path + (key,), "additionalProperties", f"unknown key {key!r} ({hint})"
            elif isinstance(extra, dict):
                yield from self._check(item, extra, path + (key,))

    def _array(self, value: list[Any], schema: dict[str, Any], path: Path) -> Iterator[Error]:
        if len(value) < schema.get("minItems", 0):
            yield path, "minItems", "must not be empty"
        if "items" in schema:
            for index, item in enumerate(value):
                yield from self._check(item, schema["items"], path + (index,))


def dedupe(errors: list[Error]) -> list[Error]:
    """The same finding reached through a type's branch and the common part counts once."""
    seen: set[tuple[Path, str]] = set()
    unique = []
    for path, keyword, message in errors:
        if (path, message) not in seen:
            seen.add((path, message))
            unique.append((path, keyword, message))
    return unique
