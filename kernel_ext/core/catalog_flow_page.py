"""One flow's catalog page as Markdown: every value from the flow is escaped (catalog_text)."""
from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from ..errors import Problem
from .catalog_graph import task_graph
from .catalog_model import CatalogFlow, FlowLink, RunSummary
from .catalog_schedule import schedules
from .catalog_text import code, inline, markdown_block, plain, yaml_scalar
from .mapping import FLOW_TRIGGER_TYPE, SCHEDULE_TYPE
from .model import FlowTrigger, Input, RawTrigger, ScheduleTrigger, Trigger

NOTEBOOK_CLASS = "nbops-notebook"
LinkTo = Callable[[str], str | None]  # flow key → the relative link to its page, None when not catalogued


def notebook_placeholder(executed_notebook: str) -> str:
    """Where the executed notebook goes; the MkDocs plugin swaps it for the rendered notebook.
    Flow values are entity-escaped everywhere else, so this exact string cannot come from them."""
    return f'<div class="{NOTEBOOK_CLASS}" data-nbops-notebook="{inline(executed_notebook)}"></div>'


def front_matter(title: str, description: str, tags: list[str]) -> str:
    lines = ["---", f"title: {yaml_scalar(plain(title, 120))}", f"description: {yaml_scalar(plain(description))}"]
    if tags:
        lines += ["tags:", *(f"  - {yaml_scalar(plain(t, 80))}" for t in tags)]
    return "\n".join([*lines, "---", ""])


def flow_page(flow: CatalogFlow, now: datetime, link_to: LinkTo) -> str:
    title = flow.title or flow.id
    tags = [f"{k}: {v}" for k, v in sorted(flow.labels.items())]
    parts = [front_matter(title, flow.description or title, tags), f"# {inline(plain(title, 120))}", "",
             _identity(flow), ""]
    if flow.problems:
        parts += _problems(flow.file, flow.problems)
    if flow.description:
        parts += [markdown_block(flow.description), ""]
    if flow.ok:
        parts += _inputs(flow.inputs) + _triggers(flow.triggers, now, link_to) + _tasks(flow)
        parts += _lineage(flow, link_to)
    parts += _runs(flow) + _history(flow) + _yaml(flow.yaml)
    return "\n".join(parts).rstrip("\n") + "\n"


def _identity(flow: CatalogFlow) -> str:
    source = f"notebook {code(flow.notebook)}" if flow.notebook else f"hand-written flow {code(flow.file)}"
    labels = " ".join(code(f"{k}: {v}") for k, v in sorted(flow.labels.items()))
    return f"Namespace {code(flow.namespace)} · id {code(flow.id)} · {source}" + (f" · labels {labels}" if labels else "")


def _problems(file: str, problems: tuple[Problem, ...]) -> list[str]:
    rows = [f"| {code(file)} | {inline(p.cell if p.cell is not None else '')} | {inline(p.line or '')} | "
            f"{code(p.path) if p.path else ''} | {inline(p.message)} | {inline(p.hint or '')} |" for p in problems]
    return ["## Problems", "", ("This flow does not convert, so Kestra cannot run it. Fix these and run "
            "<code>nbops export</code>:"), "", "| File | Cell | Line | Field | Problem | Hint |",
            "|---|---|---|---|---|---|", *rows, ""]


def _inputs(inputs: tuple[Input, ...]) -> list[str]:
    if not inputs:
        return ["## Inputs", "", "None.", ""]
    rows = [f"| {code(i.id)} | {inline(i.type.value)} | {code(i.defaults) if i.defaults is not None else ''} | "
            f"{'yes' if i.required else 'no'} | {inline(i.description or i.display_name or '')} |" for i in inputs]
    return ["## Inputs", "", "| Name | Type | Default | Required | Description |", "|---|---|---|---|---|", *rows, ""]


def _triggers(triggers: tuple[Trigger, ...], now: datetime, link_to: LinkTo) -> list[str]:
    if not triggers:
        return ["## Triggers", "", "None: runs when started by hand or by another flow.", ""]
    found = {s.trigger_id: s for s in schedules(triggers, now)}
    lines = ["## Triggers", ""]
    for trigger in triggers:
        if trigger.id in found:
            s = found[trigger.id]
            runs = ", ".join(inline(r) for r in s.next_runs) or "none (the cron or time zone is not valid)"
            lines.append(f"- {code(trigger.id)}: **{inline(s.words)}** (cron {code(s.cron)}, time zone "
                         f"{code(s.timezone)}). Next runs: {runs}.")
        elif isinstance(trigger, FlowTrigger):
            ups = ", ".join(_flow_link(f"{r.namespace}.{r.flow_id}" if r.flow_id else r.namespace, link_to)
                            for r in trigger.upstream)
            lines.append(f"- {code(trigger.id)}: runs after {ups} ends in {inline(', '.join(trigger.states))}.")
        else:
            lines.append(f"- {code(trigger.id)}: {code(_trigger_type(trigger))}")
    return [*lines, ""]


def _trigger_type(trigger: Trigger) -> str:
    if isinstance(trigger, RawTrigger):
        return trigger.type
    return SCHEDULE_TYPE if isinstance(trigger, ScheduleTrigger) else FLOW_TRIGGER_TYPE


def _flow_link(key: str, link_to: LinkTo) -> str:
    target = link_to(key)
    return f"[{code(key)}]({target})" if target else code(key)


def _tasks(flow: CatalogFlow) -> list[str]:
    return ["## Tasks", "", "```mermaid", task_graph(flow.tasks), "```", ""]


def _lineage(flow: CatalogFlow, link_to: LinkTo) -> list[str]:
    def items(links: tuple[FlowLink, ...]) -> str:
        return ", ".join(f"{_flow_link(link.key, link_to)} ({link.kind.value})" for link in links) or "none"

    return ["## Lineage", "", f"- Upstream: {items(flow.upstream)}", f"- Downstream: {items(flow.downstream)}", ""]


def _when(started: float) -> str:
    return datetime.fromtimestamp(started, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _params(values: Mapping[str, object]) -> str:
    text = ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v, default=str)}" for k, v in sorted(values.items()))
    return inline(text if len(text) <= 200 else text[:199] + "…")


def _run_row(run: RunSummary) -> str:
    duration = "" if run.duration is None else f"{run.duration:.1f} s"
    return (f"| {inline(run.status)} | {_when(run.started)} | {duration} | {_params(run.parameters)} | "
            f"{inline(run.failure or '')} |")


def _runs(flow: CatalogFlow) -> list[str]:
    lines = ["## Last runs", ""]
    if not flow.runs:
        lines += ["No local run recorded (<code>nbops run</code> records them in <code>.nbops/state.db</code>).", ""]
    else:
        lines += ["| Status | Started | Duration | Parameters | Failing cell |", "|---|---|---|---|---|",
                  *(_run_row(r) for r in flow.runs), ""]
    if flow.executed_notebook:
        lines += ["## Executed notebook", "", notebook_placeholder(flow.executed_notebook), ""]
    return lines


def _history(flow: CatalogFlow) -> list[str]:
    if not flow.history:
        return ["## Git history", "", "No commit yet.", ""]
    rows = [f"| {code(c.sha[:10])} | {inline(c.author)} | {inline(c.date)} | {inline(c.subject)} |"
            for c in flow.history]
    return ["## Git history", "", "| Commit | Author | Date | Subject |", "|---|---|---|---|", *rows, ""]


def _yaml(text: str) -> list[str]:
    if not text:
        return []
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = "\n".join(("    " + line) if line.strip() else "" for line in text.rstrip("\n").split("\n"))
    return ['??? "Kestra YAML"', "", f"    {fence}yaml", body, f"    {fence}", ""]


def relative_link(from_page: str, to_page: str) -> str:
    return posixpath.relpath(to_page, posixpath.dirname(from_page) or ".")
