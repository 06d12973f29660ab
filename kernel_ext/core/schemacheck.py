"""Check a document against the JSON Schema subset used by :mod:`kestra_schema`, reporting all errors.

Why not the ``jsonschema`` library at run time: here it costs ~0.85 s to import (an optional URI
grammar pulled in by Jupyter) and ~0.8 ms per flow, which would make ``nbops export`` of a large
repository slower than reading it. This module compiles the schema once into closures (type
dispatches become dict look-ups) and implements only the keywords the flow schema uses: type,
properties, required, additionalProperties, enum, const, pattern, minimum, min/maxLength, minItems,
items, $ref, allOf of if/then/else, anyOf. The test suite checks it against ``jsonschema`` as an oracle.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Any

from .yamlsafe import Path

Error = tuple[Path, str, str]  # (path, keyword, message)
Check = Callable[[Any, Path, list[Error]], None]

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


def _type_name(value: Any) -> str:
    for name in ("boolean", "integer", "number", "string", "array", "object", "null"):
        if _TYPES[name](value):
            return _TYPE_WORDS[name]
    return type(value).__name__


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class SchemaChecker:
    """``SchemaChecker(schema, messages).errors(document)`` → every error, in document order."""

    def __init__(self, root: dict[str, Any], messages: dict[str, str]):
        self.root = root
        self.messages = messages
        self._compiled: dict[int, Check] = {}
        self._check = self._compile(root)

    def errors(self, value: Any) -> list[Error]:
        found: list[Error] = []
        self._check(value, (), found)
        return found

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            node: Any = self.root
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def _compile(self, schema: dict[str, Any]) -> Check:
        schema = self._resolve(schema)
        key = id(schema)
        if key not in self._compiled:
            self._compiled[key] = lambda v, p, out: self._compiled[key](v, p, out)  # placeholder for recursion
            self._compiled[key] = self._build(schema)
        return self._compiled[key]

    def _build(self, schema: dict[str, Any]) -> Check:
        type_check = self._type_check(schema.get("type"))
        parts = [c for c in (self._scalar_checks(schema), self._object_check(schema), self._array_check(schema),
                             *self._all_of(schema.get("allOf", ())), self._any_of(schema.get("anyOf"))) if c]

        def check(value: Any, path: Path, out: list[Error]) -> None:
            if type_check is not None and not type_check(value, path, out):
                return
            for part in parts:
                part(value, path, out)

        return check

    @staticmethod
    def _type_check(expected: Any) -> Callable[[Any, Path, list[Error]], bool] | None:
        if expected is None:
            return None
        names = expected if isinstance(expected, list) else [expected]
        tests = [_TYPES[n] for n in names]
        words = " or ".join(_TYPE_WORDS[n] for n in names)

        def type_check(value: Any, path: Path, out: list[Error]) -> bool:
            if any(test(value) for test in tests):
                return True
            out.append((path, "type", f"expected {words}, got {_type_name(value)}"))
            return False

        return type_check

    def _scalar_checks(self, schema: dict[str, Any]) -> Check | None:
        rules: list[Check] = []
        if "enum" in schema:
            choices, words = schema["enum"], [str(c) for c in schema["enum"]]

            def enum(value: Any, path: Path, out: list[Error]) -> None:
                if value not in choices:
                    close = difflib.get_close_matches(str(value), words, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    out.append((path, "enum", f"{value!r} is not one of {', '.join(words)}{hint}"))
            rules.append(enum)
        if "const" in schema:
            const = schema["const"]
            rules.append(lambda v, p, out: None if v == const else out.append((p, "const", f"expected {const!r}")))
        if "pattern" in schema:
            regex = re.compile(schema["pattern"])
            reason = self.messages.get(schema["pattern"], f"does not match {schema['pattern']}")
            rules.append(lambda v, p, out: None if not isinstance(v, str) or regex.search(v)
                         else out.append((p, "pattern", f"{v!r} is not valid: {reason}")))
        if "maxLength" in schema:
            most = schema["maxLength"]
            rules.append(lambda v, p, out: None if not isinstance(v, str) or len(v) <= most
                         else out.append((p, "maxLength", f"is longer than {most} characters")))
        if "minLength" in schema:
            least = schema["minLength"]
            rules.append(lambda v, p, out: None if not isinstance(v, str) or len(v) >= least
                         else out.append((p, "minLength", "must not be empty")))
        if "minimum" in schema:
            low = schema["minimum"]
            rules.append(lambda v, p, out: None if not _is_number(v) or v >= low
                         else out.append((p, "minimum", f"must be at least {low}")))
        return _chain(rules)

    def _object_check(self, schema: dict[str, Any]) -> Check | None:
        if not any(k in schema for k in ("properties", "required", "additionalProperties")):
            return None
        props = {name: self._compile(sub) for name, sub in schema.get("properties", {}).items()}
        required = tuple(schema.get("required", ()))
        extra = schema.get("additionalProperties", True)
        extra_check = self._compile(extra) if isinstance(extra, dict) else None
        names = list(props)

        def check(value: Any, path: Path, out: list[Error]) -> None:
            if not isinstance(value, dict):
                return
            for key in required:
                if key not in value:
                    out.append((path, "required", f"missing required key {key!r}"))
            for key, item in value.items():
                sub = props.get(key)
                if sub is not None:
                    sub(item, path + (key,), out)
                elif extra is False:
                    close = difflib.get_close_matches(key, names, n=1)
                    hint = f"did you mean {close[0]!r}?" if close else "allowed: " + ", ".join(names)
                    out.append((path + (key,), "additionalProperties", f"unknown key {key!r} ({hint})"))
                elif extra_check is not None:
                    extra_check(item, path + (key,), out)

        return check

    def _array_check(self, schema: dict[str, Any]) -> Check | None:
        least = schema.get("minItems", 0)
        items = self._compile(schema["items"]) if "items" in schema else None
        if not least and items is None:
            return None

        def check(value: Any, path: Path, out: list[Error]) -> None:
            if not isinstance(value, list):
                return
            if len(value) < least:
                out.append((path, "minItems", "must not be empty"))
            if items is not None:
                for index, item in enumerate(value):
                    items(item, path + (index,), out)

        return check

    def _all_of(self, branches: list[dict[str, Any]]) -> list[Check]:
        dispatch: dict[Any, Check] = {}
        checks: list[Check] = []
        for branch in branches:
            rule = branch.get("if", {}).get("properties", {}).get("type", {})
            if branch.get("if", {}).get("required") == ["type"] and "const" in rule and "then" in branch:
                dispatch[rule["const"]] = self._compile(branch["then"])  # a dispatch on the object's type
            elif branch.get("if", {}).get("required") == ["type"] and "enum" in rule and "else" in branch:
                known, fallback = set(rule["enum"]), self._compile(branch["else"])
                checks.append(_unknown_type(known, fallback))
            elif "if" in branch:
                checks.append(self._if_then_else(branch))
            else:
                checks.append(self._compile(branch))
        if dispatch:
            checks.insert(0, _typed_dispatch(dispatch))
        return checks

    def _if_then_else(self, branch: dict[str, Any]) -> Check:
        condition = self._compile(branch["if"])
        then = self._compile(branch.get("then", {}))
        other = self._compile(branch.get("else", {}))

        def check(value: Any, path: Path, out: list[Error]) -> None:
            probe: list[Error] = []
            condition(value, path, probe)
            (other if probe else then)(value, path, out)

        return check

    def _any_of(self, options: list[dict[str, Any]] | None) -> Check | None:
        if not options:
            return None
        compiled = [self._compile(option) for option in options]

        def check(value: Any, path: Path, out: list[Error]) -> None:
            tries: list[list[Error]] = []
            for option in compiled:
                found: list[Error] = []
                option(value, path, found)
                if not found:
                    return
                tries.append(found)
            fewest: list[Error] = min(tries, key=len)
            out.extend(fewest)

        return check


def _chain(rules: list[Check]) -> Check | None:
    if not rules:
        return None

    def check(value: Any, path: Path, out: list[Error]) -> None:
        for rule in rules:
            rule(value, path, out)

    return check


def _typed_dispatch(table: dict[Any, Check]) -> Check:
    def check(value: Any, path: Path, out: list[Error]) -> None:
        kind = value.get("type") if isinstance(value, dict) else None
        if isinstance(kind, str | int | float | bool) and kind in table:
            table[kind](value, path, out)

    return check


def _unknown_type(known: set[Any], fallback: Check) -> Check:
    def check(value: Any, path: Path, out: list[Error]) -> None:
        kind = value.get("type") if isinstance(value, dict) else None
        if not (isinstance(kind, str | int | float | bool) and kind in known):
            fallback(value, path, out)

    return check


def dedupe(errors: list[Error]) -> list[Error]:
    """The same finding reached through a type's branch and the common part counts once."""
    seen: set[tuple[Path, str]] = set()
    unique = []
    for path, keyword, message in errors:
        if (path, message) not in seen:
            seen.add((path, message))
            unique.append((path, keyword, message))
    return unique
