"""Safe YAML in and deterministic YAML out.

Loading composes the node graph with libyaml's safe loader, then builds plain Python values
itself, so it can (a) reject duplicate keys as Kestra's strict parser does, (b) remember the line
of every field for error messages, (c) refuse non-standard tags such as ``!!python/object`` and
(d) stop alias bombs by counting constructed nodes.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml

from ..errors import InvalidError, Problem

PathPart = str | int
Path = tuple[PathPart, ...]

MAX_YAML_BYTES = 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 100

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
# Kestra's parser does not turn 2024-01-01 into a date object; keep such scalars as text.
_TEXT_TAGS = {"tag:yaml.org,2002:timestamp"}
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


def format_path(path: Iterable[PathPart]) -> str:
    """``("tasks", 0, "retry")`` → ``tasks[0].retry``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass
class Loaded:
    """A parsed document and the 1-based line of each field path in it."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """The line of ``path`` or of its nearest known ancestor."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None


class YamlProblem(InvalidError):
    """A YAML text that does not load; its one problem is located in the text, and callers usually
    re-raise it located in their file (a header cell, a flow file)."""

    def __init__(self, problem: Problem):
        super().__init__(None, [problem])
        self.problem = problem


class _Builder:
    def __init__(self, max_nodes: int):
        self.lines: dict[Path, int] = {}
        self.budget = max_nodes
        self.active: set[int] = set()
        self.scalars = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, path: Path, depth: int = 0) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise self._fail(node, path, "the document expands to too many values (an alias bomb?)",
                             "remove the repeated YAML aliases (*name)")
        if depth > MAX_DEPTH:
            raise self._fail(node, path, f"nesting deeper than {MAX_DEPTH} levels")
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if id(node) in self.active:
            raise self._fail(node, path, "a YAML alias refers to its own parent (a recursive alias)")
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path, depth)
            self._check_tag(node, path, _SEQ_TAG)
            return [self._item(child, path + (i,), depth) for i, child in enumerate(node.value)]
        finally:
            self.active.discard(id(node))

    def _item(self, node: yaml.Node, path: Path, depth: int) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        return self.build(node, path, depth + 1)

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any]:
        self._check_tag(node, path, _MAP_TAG)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self._fail(key_node, path, "a mapping key must be plain text")
            key = self._scalar(key_node, path)
            key = key if isinstance(key, str) else str(key)
            if key in result:
                raise self._fail(key_node, path + (key,), f"duplicate key {key!r}",
                                 "keep one of the two entries (Kestra rejects duplicate keys)")
            result[key] = self._item(value_node, path + (key,), depth)
            self.lines[path + (key,)] = key_node.start_mark.line + 1
        return result

    def _scalar(self, node: yaml.Node, path: Path) -> Any:
        if node.tag in _TEXT_TAGS:
            return node.value
        self._check_tag(node, path, *_SCALAR_TAGS)
        try:
            return self.scalars.construct_object(node)
        except ValueError:  # Python makes no int of more than 4,300 digits (sys.get_int_max_str_digits)
            digits = sum(c.isdigit() for c in str(node.value))
            raise self._fail(node, path, f"a number of {digits:,} digits, too long to be a value",
                             "write it as a quoted string, or a shorter number") from None

    def _check_tag(self, node: yaml.Node, path: Path, *allowed: str) -> None:
        if node.tag not in allowed:
            raise self._fail(node, path, f"the YAML tag {node.tag!r} is not allowed",
                             "write plain YAML values (no !! or ! tags)")

    @staticmethod
    def _fail(node: yaml.Node, path: Path, message: str, hint: str | None = None) -> YamlProblem:
        return YamlProblem(Problem(message, format_path(path), node.start_mark.line + 1, hint=hint))


def load_yaml(text: str, *, max_bytes: int = MAX_YAML_BYTES, max_nodes: int = MAX_NODES) -> Loaded:
    """Parse one YAML document safely; raise :class:`YamlProblem` with a located problem."""
    if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise YamlProblem(Problem(f"the YAML text is larger than {max_bytes // 1024} KiB",
                                  hint="a flow header or flow file should be a few KiB"))
    try:
        root = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlProblem(Problem(f"invalid YAML: {exc.problem or exc.context}", line=line)) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Problem(f"invalid YAML: {exc}")) from None
    if root is None:
        return Loaded(None)
    builder = _Builder(max_nodes)
    data = builder.build(root, ())
    return Loaded(data, builder.lines)


_STR_TAG = "tag:yaml.org,2002:str"
_RESOLVER = yaml.resolver.Resolver()


@lru_cache(maxsize=8192)
def _resolve_scalar(value: str, implicit: tuple[bool, bool]) -> str:
    return yaml.resolver.Resolver.resolve(_RESOLVER, yaml.ScalarNode, value, implicit)


class _Dumper(yaml.CSafeDumper):
    """libyaml's emitter with a lean representer: plain data only (dicts, lists, scalars), no
    anchors, and the implicit-tag look-ups libyaml makes for every scalar cached, since flows
    repeat the same keys and words."""

    def represent_data(self, data: Any) -> yaml.Node:
        if isinstance(data, str):
            return yaml.ScalarNode(_STR_TAG, data, style="|" if "\n" in data else None)
        if isinstance(data, dict):
            return yaml.MappingNode(_MAP_TAG, [(self.represent_data(k), self.represent_data(v))
                                               for k, v in data.items()], flow_style=False)
        if isinstance(data, list | tuple):
            return yaml.SequenceNode(_SEQ_TAG, [self.represent_data(v) for v in data], flow_style=False)
        return super().represent_data(data)

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode and isinstance(value, str):
            return _resolve_scalar(value, tuple(implicit))
        return super().resolve(kind, value, implicit)


def dump_yaml(data: Any) -> str:
    """Block-style YAML, keys in the given order, Unicode kept: the same data, the same text."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=4096)
