"""Graphs of the catalog: a flow's tasks, and the lineage between flows (Flow triggers and
Subflow tasks), as Mermaid sources whose every label is quoted and escaped."""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from .catalog_model import CatalogFlow, EdgeKind, FlowLink
from .catalog_text import mermaid_label
from .mapping import FLOW_TRIGGER_TYPE
from .model import FlowRef, FlowTrigger, RawTrigger, Task, Trigger

SUBFLOW_TYPES = ("io.kestra.plugin.core.flow.Subflow", "io.kestra.core.tasks.flows.Subflow",
                 "io.kestra.core.tasks.flows.Flow")
_EXECUTION_FLOW = ("ExecutionFlow", "ExecutionFlowCondition")
Edge = tuple[str, str, EdgeKind]  # (from flow key, to flow key, kind)


# --- one flow's tasks ---------------------------------------------------------------------

class _TaskGraph:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.count = 0

    def node(self, task: Task) -> str:
        self.count += 1
        name = f"t{self.count}"
        kind = task.type.rpartition(".")[2]
        self.lines.append(f"    {name}[{mermaid_label(f'{task.id} ({kind})')}]")
        return name

    def chain(self, tasks: Sequence[Task]) -> tuple[list[str], list[str]]:
        """Link tasks one after the other; (entry nodes, exit nodes)."""
        entries: list[str] = []
        exits: list[str] = []
        for task in tasks:
            first, last = self.task(task)
            for a in exits:
                for b in first:
                    self.lines.append(f"    {a} --> {b}")
            entries = entries or first
            exits = last
        return entries, exits

    def task(self, task: Task) -> tuple[list[str], list[str]]:
        if not task.tasks:
            name = self.node(task)
            return [name], [name]
        self.count += 1
        group = f"g{self.count}"
        parallel = task.type.endswith(".Parallel")
        self.lines.append(f"    subgraph {group}[{mermaid_label(f'{task.id} (' + ('parallel' if parallel else 'sequential') + ')')}]")
        if parallel:
            ends = [self.task(child) for child in task.tasks]
            first = [n for e, _ in ends for n in e]
            last = [n for _, x in ends for n in x]
        else:
            first, last = self.chain(task.tasks)
        self.lines.append("    end")
        return first, last


def task_graph(tasks: Sequence[Task]) -> str:
    """A Mermaid flowchart of the tasks: steps in order, Parallel/Sequential groups as subgraphs."""
    graph = _TaskGraph()
    graph.chain(tasks)
    return "\n".join(["flowchart LR", *graph.lines])


# --- lineage between flows ----------------------------------------------------------------

def upstream_refs(triggers: Sequence[Trigger]) -> list[FlowRef]:
    """The flows a flow's Flow triggers wait for (preconditions, or legacy ExecutionFlow conditions)."""
    refs: list[FlowRef] = []
    for trigger in triggers:
        if isinstance(trigger, FlowTrigger):
            refs.extend(trigger.upstream)
        elif isinstance(trigger, RawTrigger) and trigger.type == FLOW_TRIGGER_TYPE:
            pre = trigger.properties.get("preconditions")
            flows = pre.get("flows") if isinstance(pre, Mapping) else None
            conditions = trigger.properties.get("conditions")
            items = [*(flows if isinstance(flows, list) else []),
                     *(c for c in (conditions if isinstance(conditions, list) else [])
                       if isinstance(c, Mapping) and str(c.get("type", "")).endswith(_EXECUTION_FLOW))]
            refs.extend(r for item in items if (r := _ref(item)) is not None)
    return refs


def subflow_refs(tasks: Sequence[Task]) -> list[FlowRef]:
    """The flows a flow calls through Subflow tasks (static references only)."""
    return [r for task in _walk(tasks) if task.type in SUBFLOW_TYPES and (r := _ref(task.properties)) is not None]


def _walk(tasks: Sequence[Task]) -> Iterator[Task]:
    for task in tasks:
        yield task
        yield from _walk(task.tasks)


def _ref(data: Any) -> FlowRef | None:
    if not isinstance(data, Mapping):
        return None
    namespace, flow_id = data.get("namespace"), data.get("flowId")
    if not isinstance(namespace, str) or "{{" in namespace:
        return None
    return FlowRef(namespace, flow_id if isinstance(flow_id, str) and "{{" not in flow_id else None)


def edges(flows: Sequence[CatalogFlow]) -> list[Edge]:
    """Every edge, sorted; a reference to a whole namespace links each of its catalogued flows."""
    by_namespace: dict[str, list[str]] = {}
    for flow in flows:
        by_namespace.setdefault(flow.namespace, []).append(flow.key)

    def keys(ref: FlowRef, own: str) -> list[str]:
        if ref.flow_id is not None:
            return [f"{ref.namespace}.{ref.flow_id}"]
        return [k for k in by_namespace.get(ref.namespace, []) if k != own]

    found: set[Edge] = set()
    for flow in flows:
        for ref in upstream_refs(flow.triggers):
            found.update((k, flow.key, EdgeKind.AFTER) for k in keys(ref, flow.key))
        for ref in subflow_refs(flow.tasks):
            found.update((flow.key, k, EdgeKind.SUBFLOW) for k in keys(ref, flow.key))
    return sorted(found)


def with_links(flows: Sequence[CatalogFlow]) -> tuple[CatalogFlow, ...]:
    """The flows with their upstream and downstream filled in from the edges between them."""
    names = {f.key: (f.namespace, f.id) for f in flows}
    all_edges = edges(flows)

    def link(key: str, kind: EdgeKind) -> FlowLink:
        namespace, flow_id = names.get(key) or tuple(key.rsplit(".", 1))  # type: ignore[assignment]
        return FlowLink(namespace, flow_id, kind)

    return tuple(replace(flow, upstream=tuple(link(a, k) for a, b, k in all_edges if b == flow.key),
                         downstream=tuple(link(b, k) for a, b, k in all_edges if a == flow.key)) for flow in flows)


def lineage_graph(flows: Sequence[CatalogFlow]) -> str:
    """A Mermaid flowchart of all flows; flows outside the catalog appear as round nodes."""
    ids: dict[str, str] = {}
    lines = ["flowchart LR"]
    for flow in sorted((f for f in flows if f.ok), key=lambda f: f.key):
        ids[flow.key] = f"f{len(ids) + 1}"
        lines.append(f"    {ids[flow.key]}[{mermaid_label(flow.key)}]")
    for a, b, kind in edges([f for f in flows if f.ok]):
        for key in (a, b):
            if key not in ids:
                ids[key] = f"f{len(ids) + 1}"
                lines.append(f"    {ids[key]}({mermaid_label(key)})")
        arrow = "-->" if kind is EdgeKind.AFTER else "-.->"
        lines.append(f"    {ids[a]} {arrow}|{kind.value}| {ids[b]}")
    return "\n".join(lines)
