"""Pebble expressions: a parser and evaluator for the subset of Pebble expressions nbops emits
(``{{ path | toJson }}``, ``{{ path }}``, ``[...]`` subscripts, ``??``, string literals); anything
else raises :class:`NotEmulated`. Missing variables fail as with ``strictVariables(true)``
(K@58c1ca2d core/.../runners/VariableRenderer.java:38)."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .errors import NotEmulated, RenderError
from .jackson import jackson_dumps

_TOKEN = re.compile(r"""\s*(?:
    (?P<end>-?}})
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\?\?|[.\[\]()|,])
)""", re.VERBOSE | re.DOTALL)
_KEYWORDS = {"true": True, "false": False, "null": None, "none": None}


class _Missing(RenderError):
    pass


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    if literal[0] == '"' and "#{" in body:
        raise NotEmulated(f"Pebble string interpolation in {literal}")
    if re.search(r"\\[^'\"\\]", body):
        raise NotEmulated(f"Pebble escape in the string literal {literal}")
    return re.sub(r"\\(['\"\\])", r"\1", body)


class Expression:
    """A recursive-descent parser and evaluator for the subset of Pebble expressions nbops emits."""

    def __init__(self, source: str, start: int, variables: Mapping[str, Any]):
        self.source, self.pos, self.variables = source, start, variables
        self.tokens: list[tuple[str, str]] = []
        while True:
            match = _TOKEN.match(source, self.pos)
            if not match:
                rest = source[self.pos:self.pos + 30].strip()
                raise NotEmulated(f"Pebble syntax not emulated near {rest!r}")
            self.pos = match.end()
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            if kind == "end":
                break
        self.i = 0

    @property
    def trims_after(self) -> bool:
        return self.tokens[-1][1].startswith("-")

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i]

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.i]
        if value is not None and token[1] != value:
            raise NotEmulated(f"Pebble syntax not emulated: expected {value!r}, found {token[1]!r}")
        self.i += 1
        return token

    # evaluation returns thunks so that ``??`` can swallow a missing variable on its left
    def evaluate(self) -> Any:
        thunk = self.coalesce()
        if self.peek()[0] != "end":
            raise NotEmulated(f"Pebble syntax not emulated: {self.peek()[1]!r}")
        return thunk()

    def coalesce(self) -> Callable[[], Any]:
        parts = [self.filtered()]
        while self.peek()[1] == "??":
            self.take()
            parts.append(self.filtered())
        if len(parts) > 1 and any(getattr(p, "filtered", False) for p in parts):
            raise NotEmulated("'??' next to a filter (Pebble's precedence of the two is not emulated)")
        if len(parts) == 1:
            return parts[0]

        def first_present() -> Any:
            for part in parts[:-1]:
                try:
                    value = part()
                except _Missing:
                    continue
                if value is not None:
                    return value
            return parts[-1]()
        return first_present

    def filtered(self) -> Callable[[], Any]:
        thunk = self.primary()
        names = []
        while self.peek()[1] == "|":
            self.take()
            kind, name = self.take()
            if kind != "name" or name not in {"toJson"}:
                raise NotEmulated(f"Pebble filter {name!r}")
            if self.peek()[1] == "(":
                self.take()
                self.take(")")
            names.append(name)
        if not names:
            return thunk

        def apply() -> Any:
            value = thunk()
            for _ in names:  # ToJsonFilter.java:23-33
                value = "null" if value is None else jackson_dumps(value)
            return value
        apply.filtered = True  # type: ignore[attr-defined]
        return apply

    def primary(self) -> Callable[[], Any]:
        kind, text = self.take()
        if kind == "string":
            literal = _unquote(text)
            return lambda: literal
        if kind == "number":
            number = float(text) if "." in text else int(text)
            return lambda: number
        if kind == "op" and text == "(":
            inner = self.coalesce()
            self.take(")")
            thunk = inner
        elif kind == "name" and text in _KEYWORDS:
            constant = _KEYWORDS[text]
            return lambda: constant
        elif kind == "name":
            name = text

            def root() -> Any:
                if name not in self.variables:  # strictVariables(true): VariableRenderer.java:38
                    raise _Missing(f"Unable to find `{name}` used in the expression")
                return self.variables[name]
            thunk = root
        else:
            raise NotEmulated(f"Pebble syntax not emulated: {text!r}")
        while self.peek()[1] in (".", "["):
            if self.take()[1] == ".":
                kind, attribute = self.take()
                if kind != "name":
                    raise NotEmulated(f"Pebble attribute {attribute!r}")
                thunk = self._attribute(thunk, self._constant(attribute))
            else:
                key = self.coalesce()
                self.take("]")
                thunk = self._attribute(thunk, key)
        return thunk

    @staticmethod
    def _constant(value: Any) -> Callable[[], Any]:
        return lambda: value

    @staticmethod
    def _attribute(base: Callable[[], Any], key: Callable[[], Any]) -> Callable[[], Any]:
        def get() -> Any:
            container, name = base(), key()
            if isinstance(container, Mapping):
                if name not in container:
                    raise _Missing(f"Unable to find `{name}` used in the expression")
                return container[name]
            if isinstance(container, list) and isinstance(name, int) and not isinstance(name, bool):
                if not 0 <= name < len(container):
                    raise _Missing(f"index {name} out of bounds")
                return container[name]
            if container is None:
                raise _Missing(f"Unable to find `{name}` on a null value")
            raise NotEmulated(f"Pebble attribute {name!r} of a {type(container).__name__}")
        return get
