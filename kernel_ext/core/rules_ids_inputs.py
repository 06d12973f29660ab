"""Kestra's flow rules on ids, labels and inputs (core/rules.py lists them all)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .kestra_values import INT_RANGE_HINT, JAVA_INT_MAX, JAVA_INT_MIN, int_out_of_range
from .rule_walk import Finding, flow_items, input_id, iter_tasks
from .yamlsafe import Path, format_path

RESERVED_FLOW_IDS = frozenset(
    {"pause", "resume", "force-run", "change-status", "kill", "executions", "search", "source", "disable", "enable"})


def reserved_id(flow: dict[str, Any]) -> Iterator[Finding]:
    if flow.get("id") in RESERVED_FLOW_IDS:
        yield ("id",), f"{flow['id']!r} is reserved by Kestra since 1.0", "choose another flow id"


def _int_problem(name: Any, what: str, value: int) -> tuple[str, str]:
    message = (f"input {name!r}: {what} {value} is outside Kestra's INT range ({JAVA_INT_MIN}..{JAVA_INT_MAX}, "
               "a Java Integer), so Kestra would refuse it")
    return message, INT_RANGE_HINT


def int_ranges(flow: dict[str, Any]) -> Iterator[Finding]:
    for index, item in flow_items(flow, "inputs"):
        path: Path = ("inputs", index)
        name = input_id(item)
        if item.get("type") == "INT":
            for key in ("defaults", "min", "max"):
                if int_out_of_range(item.get(key)):
                    yield (path + (key,), *_int_problem(name, "default" if key == "defaults" else key, item[key]))
        defaults = item.get("defaults")
        if item.get("type") in ("ARRAY", "MULTISELECT") and item.get("itemType") == "INT" and isinstance(defaults, list):
            for j, value in enumerate(defaults):
                if int_out_of_range(value):
                    yield (path + ("defaults", j), *_int_problem(name, f"default item {j}", value))


def unique_ids(flow: dict[str, Any]) -> Iterator[Finding]:
    groups: list[tuple[str, list[tuple[Path, Any]]]] = [
        ("task id", [(p + ("id",), t.get("id")) for p, t in iter_tasks(flow)]),
        ("trigger id", [(("triggers", i, "id"), t.get("id")) for i, t in flow_items(flow, "triggers")]),
        ("input id", [(("inputs", i, "id"), input_id(t)) for i, t in flow_items(flow, "inputs")]),
        ("output id", [(("outputs", i, "id"), t.get("id")) for i, t in flow_items(flow, "outputs")]),
    ]
    for kind, entries in groups:
        seen: dict[Any, Path] = {}
        for path, value in entries:
            if value is None or not isinstance(value, str):
                continue
            if value in seen:
                first = format_path(seen[value])
                yield path, f"duplicate {kind} {value!r} (first used at {first})", "every id must be unique in the flow"
            else:
                seen[value] = path


def labels(flow: dict[str, Any]) -> Iterator[Finding]:
    value = flow.get("labels")
    keys: list[tuple[Path, Any]] = []
    if isinstance(value, dict):
        keys = [(("labels", key), key) for key in value]
    elif isinstance(value, list):
        keys = [(("labels", i, "key"), item.get("key")) for i, item in enumerate(value) if isinstance(item, dict)]
    for path, key in keys:
        if isinstance(key, str) and key.startswith("system.") and key != "system.readOnly":
            yield path, f"label {key!r} is reserved: only system.readOnly may be set in a flow", None


def inputs(flow: dict[str, Any]) -> Iterator[Finding]:
    ids = {input_id(item) for _, item in flow_items(flow, "inputs")}
    for index, item in flow_items(flow, "inputs"):
        path: Path = ("inputs", index)
        kind = item.get("type")
        if kind == "FILE" and "defaults" in item:
            yield path + ("defaults",), "a FILE input cannot have defaults", "remove defaults; upload the file at run time"
        if kind in ("ARRAY", "MULTISELECT") and item.get("itemType") in ("ARRAY", "SECRET"):
            yield path + ("itemType",), f"itemType cannot be {item['itemType']}", None
        if kind == "MULTISELECT" and "values" in item and "options" in item:
            yield path, "set values or options (its deprecated alias), not both", None
        if "defaults" in item and "prefill" in item:
            yield path, "prefill cannot be combined with defaults", None
        depends = item.get("dependsOn", {}).get("inputs", []) if isinstance(item.get("dependsOn"), dict) else []
        for j, name in enumerate(depends if isinstance(depends, list) else []):
            if name not in ids:
                yield path + ("dependsOn", "inputs", j), f"dependsOn names unknown input {name!r}", None
    yield from _depends_cycles(flow)


def _depends_cycles(flow: dict[str, Any]) -> Iterator[Finding]:
    graph: dict[Any, list[Any]] = {}
    where: dict[Any, Path] = {}
    for index, item in flow_items(flow, "inputs"):
        depends = item.get("dependsOn")
        names = depends.get("inputs") if isinstance(depends, dict) else None
        graph[input_id(item)] = [n for n in names if isinstance(n, str)] if isinstance(names, list) else []
        where[input_id(item)] = ("inputs", index, "dependsOn")
    state: dict[Any, int] = {}

    def visit(node: Any) -> bool:
        state[node] = 1
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1 or (state.get(nxt) is None and nxt in graph and visit(nxt)):
                return True
        state[node] = 2
        return False

    for node in graph:
        if state.get(node) is None and visit(node):
            yield where[node], f"input dependsOn forms a cycle through {node!r}", None
            return
