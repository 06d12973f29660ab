"""The flow card: what a ``%%flow`` cell defines, shown right under it (HTML, with a plain-text
copy in the same display bundle for front-ends that show no HTML)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from ..core.model import ScheduleTrigger
from ..errors import Problem
from .header_check import HeaderCheck


@dataclass(frozen=True)
class InputRow:
    name: str
    type: str
    default: str  # as Kestra would show it; "" when there is none
    description: str
    required: bool


@dataclass(frozen=True)
class ScheduleRow:
    cron: str
    timezone: str
    words: str
    next_runs: tuple[str, ...]


@dataclass(frozen=True)
class FlowCard:
    flow_id: str
    namespace: str
    notebook: str | None
    description: str
    inputs: tuple[InputRow, ...]
    schedules: tuple[ScheduleRow, ...]
    after: tuple[str, ...]
    problems: tuple[Problem, ...]
    note: str | None

    @property
    def ok(self) -> bool:
        return not self.problems


def _default(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _inputs(check: HeaderCheck) -> tuple[InputRow, ...]:
    conv = check.conversion
    if conv is not None and conv.flow is not None:
        return tuple(InputRow(i.id, i.type.value, _default(i.defaults), i.description or "", i.required)
                     for i in conv.flow.inputs)
    params = conv.parameters if conv is not None else ()
    return tuple(InputRow(p.name, p.type.value, _default(p.value) if p.has_default else "", p.description or "",
                          not p.optional) for p in params)


def _schedules(check: HeaderCheck, now: datetime) -> tuple[ScheduleRow, ...]:
    from ..core.catalog_schedule import schedules

    flow = check.conversion.flow if check.conversion is not None else None
    header = check.header
    triggers = flow.triggers if flow is not None else (
        (ScheduleTrigger("schedule", header.schedule, header.timezone),) if header.schedule else ())
    return tuple(ScheduleRow(s.cron, s.timezone, s.words, s.next_runs) for s in schedules(triggers, now))


def build_card(check: HeaderCheck, now: datetime | None = None) -> FlowCard:
    conv, header = check.conversion, check.header
    flow = conv.flow if conv is not None else None
    flow_id = (flow.id if flow else None) or header.id or check.default_id or "(from the file name)"
    namespace = (flow.namespace if flow else None) or header.namespace or check.default_namespace \
        or "(from the folder)"
    description = (flow.description if flow else None) or header.description or ""
    after = tuple(f"{ref.namespace}.{ref.flow_id}" for ref in header.after)
    return FlowCard(flow_id, namespace, check.notebook, description, _inputs(check),
                    _schedules(check, now or datetime.now(UTC)), after, check.problems, check.note)


def _problem_text(problem: Problem) -> str:
    where = problem.path or "header"
    line = f" (line {problem.line})" if problem.line is not None else ""
    hint = f"\n      hint: {problem.hint}" if problem.hint else ""
    return f"  - {where}{line}: {problem.message}{hint}"


def card_text(card: FlowCard) -> str:
    status = "valid" if card.ok else f"{len(card.problems)} problem(s)"
    lines = [f"flow {card.namespace}.{card.flow_id}: {status}"]
    lines += [f"  notebook: {card.notebook}"] if card.notebook else []
    lines += [f"  note: {card.note}"] if card.note else []
    for row in card.inputs:
        default = f" = {row.default}" if row.default else (" (required)" if row.required else "")
        lines.append(f"  input {row.name}: {row.type}{default}" + (f"  # {row.description}" if row.description else ""))
    for s in card.schedules:
        nxt = f"; next: {', '.join(s.next_runs)}" if s.next_runs else ""
        lines.append(f"  schedule {s.cron} ({s.timezone}): {s.words}{nxt}")
    lines += [f"  after: {', '.join(card.after)}"] if card.after else []
    lines += [_problem_text(p) for p in card.problems]
    return "\n".join(lines)


_STYLE = ("<style>.nbops-card{border:1px solid #c8c8c8;border-radius:4px;padding:6px 10px;font-size:13px}"
          ".nbops-card.nbops-invalid{border-color:#d9534f}.nbops-card table{border-collapse:collapse}"
          # two classes: JupyterLab right-aligns output tables (`:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td`)
          ".nbops-card .nbops-inputs td,.nbops-card .nbops-inputs th{padding:1px 8px;text-align:left}"
          ".nbops-card .nbops-hint{color:#666}.nbops-card .nbops-problem{color:#b52b27}"
          # the description is Markdown source: keep its lines
          ".nbops-card .nbops-description{white-space:pre-wrap;margin:2px 0 4px}</style>")


def _rows(card: FlowCard) -> str:
    head = "<tr><th>input</th><th>type</th><th>default</th><th>description</th></tr>"
    body = "".join(f"<tr class='nbops-input'><td><code>{escape(r.name)}</code></td><td>{escape(r.type)}</td>"
                   f"<td>{escape(r.default) if r.default else ('<em>required</em>' if r.required else '')}</td>"
                   f"<td>{escape(r.description)}</td></tr>" for r in card.inputs)
    return f"<table class='nbops-inputs'>{head}{body}</table>" if card.inputs else "<div>no inputs</div>"


def _schedule_html(card: FlowCard) -> str:
    items = []
    for s in card.schedules:
        nxt = f" <span class='nbops-hint'>next: {escape(', '.join(s.next_runs))}</span>" if s.next_runs else ""
        items.append(f"<div class='nbops-schedule'>{escape(s.words)} <code>{escape(s.cron)}</code> "
                     f"({escape(s.timezone)}){nxt}</div>")
    if card.after:
        items.append(f"<div class='nbops-after'>after {escape(', '.join(card.after))} succeed(s)</div>")
    return "".join(items)


def _problems_html(card: FlowCard) -> str:
    if not card.problems:
        return ""
    items = "".join(f"<li class='nbops-problem'><code>{escape(p.path or 'header')}</code>"
                    f"{escape(f' (line {p.line})') if p.line is not None else ''}: {escape(p.message)}"
                    f"{f'<div class=nbops-hint>hint: {escape(p.hint)}</div>' if p.hint else ''}</li>"
                    for p in card.problems)
    return f"<ul class='nbops-problems'>{items}</ul>"


def card_html(card: FlowCard) -> str:
    state = "nbops-valid" if card.ok else "nbops-invalid"
    status = "✓ valid" if card.ok else f"✗ {len(card.problems)} problem(s)"
    notebook = f" <span class='nbops-hint'>{escape(card.notebook)}</span>" if card.notebook else ""
    note = f"<div class='nbops-note nbops-hint'>{escape(card.note)}</div>" if card.note else ""
    description = f"<div class='nbops-description'>{escape(card.description)}</div>" if card.description else ""
    return (f"{_STYLE}<div class='nbops-card {state}'><div><b class='nbops-flow-id'>{escape(card.namespace)}."
            f"{escape(card.flow_id)}</b> <span class='nbops-status'>{status}</span>{notebook}</div>{note}"
            f"{description}{_rows(card)}{_schedule_html(card)}{_problems_html(card)}</div>")
