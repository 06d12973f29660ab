"""Kestra's flow rules on tasks, triggers, retries and expressions (core/rules.py lists them all)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .kestra_values import cron_problem, duration_seconds, timezone_problem
from .rule_walk import Finding, flow_items, input_id, iter_tasks
from .yamlsafe import Path

SCHEDULE = "io.kestra.plugin.core.trigger.Schedule"
FLOW_TRIGGER = "io.kestra.plugin.core.trigger.Flow"
SUBFLOW = "io.kestra.plugin.core.flow.Subflow"
SWITCH = "io.kestra.plugin.core.flow.Switch"
FOREACH_TYPES = frozenset(f"{package}.{name}" for package in ("io.kestra.plugin.core.flow", "io.kestra.core.tasks.flows")
                          for name in ("ForEach", "ForEachItem"))
_HYPHEN_REF = re.compile(r"\{\{[^}]*?\b(inputs|outputs)\.([A-Za-z0-9_]*-[A-Za-z0-9_-]*)")


def foreach_removed(flow: dict[str, Any]) -> Iterator[Finding]:
    for path, task in iter_tasks(flow):
        if task.get("type") in FOREACH_TYPES:
            yield path + ("type",), f"{task['type'].rsplit('.', 1)[1]} was removed in Kestra 2.0", \
                "use io.kestra.plugin.core.flow.Loop (values, concurrencyLimit; {{ item.value }})"


def schedules(flow: dict[str, Any]) -> Iterator[Finding]:
    for index, trigger in flow_items(flow, "triggers"):
        if trigger.get("type") != SCHEDULE:
            continue
        path: Path = ("triggers", index)
        cron = trigger.get("cron")
        if isinstance(cron, str) and (problem := cron_problem(cron, trigger.get("withSeconds") is True)):
            yield path + ("cron",), problem, "five fields: minute hour day-of-month month day-of-week"
        zone = trigger.get("timezone")
        if isinstance(zone, str) and (problem := timezone_problem(zone)):
            yield path + ("timezone",), problem, None


# Triggers that start executions with only the inputs named in their own ``inputs`` (plus the flow's
# defaults): a required input with no default makes each such execution fail. Kestra refuses a Schedule
# trigger in that case (tests invalids/scheduled-missing-inputs-defaults*.yaml @ 8189312c); a Flow
# trigger passes no inputs unless configured (kestra-io/kestra@58c1ca2d plugin/core/trigger/Flow.java:255-263),
# so its execution fails the same way: on 0.21 the task's {{ inputs.x }} cannot be rendered (strict
# variables), on 1.x input resolution reports the missing required input.
_STARTERS = {SCHEDULE: "Schedule", FLOW_TRIGGER: "Flow"}


def triggered_inputs(flow: dict[str, Any]) -> Iterator[Finding]:
    required = [input_id(i) for _, i in flow_items(flow, "inputs")
                if i.get("required", True) is not False and "defaults" not in i]
    for index, trigger in flow_items(flow, "triggers"):
        kind = _STARTERS.get(str(trigger.get("type")))
        if kind is None:
            continue
        raw_inputs = trigger.get("inputs")
        given = raw_inputs if isinstance(raw_inputs, dict) else {}
        for name in required:
            if name not in given:
                yield ("triggers", index), \
                    (f"the flow has a {kind} trigger but required input {name!r} has no defaults, so the "
                     "executions it starts would fail"), \
                    (f"give input {name!r} defaults (in a notebook: a value in the parameters cell), make it "
                     "optional (required: false; in a notebook: Optional[...] or a None value), or set it in the "
                     "trigger's inputs")


def retries(flow: dict[str, Any]) -> Iterator[Finding]:
    holders: list[tuple[Path, Any]] = [(("retry",), flow.get("retry"))]
    holders += [(path + ("retry",), task.get("retry")) for path, task in iter_tasks(flow)]
    for path, retry in holders:
        if not isinstance(retry, dict):
            continue
        limit = duration_seconds(retry.get("maxDuration"))
        for key in ("interval", "minInterval", "maxInterval"):
            value = duration_seconds(retry.get(key))
            if value is not None and limit is not None and value >= limit:
                yield path + (key,), f"{key} ({retry[key]}) must be shorter than maxDuration ({retry['maxDuration']})", None
        low = duration_seconds(retry.get("interval", retry.get("minInterval")))
        high = duration_seconds(retry.get("maxInterval"))
        if low is not None and high is not None and low >= high:
            yield path + ("maxInterval",), "maxInterval must be longer than interval/minInterval", None


def tasks(flow: dict[str, Any]) -> Iterator[Finding]:
    for path, task in iter_tasks(flow):
        kind = task.get("type")
        if kind == SUBFLOW and task.get("namespace") == flow.get("namespace") and task.get("flowId") == flow.get("id"):
            yield path, "a Subflow task cannot call its own flow", None
        if kind == SWITCH:
            raw_cases = task.get("cases")
            cases = raw_cases if isinstance(raw_cases, dict) else {}
            if not any(isinstance(v, list) and v for v in cases.values()) and not task.get("defaults"):
                yield path, "a Switch needs at least one non-empty case or defaults", None


def preconditions(flow: dict[str, Any]) -> Iterator[Finding]:
    seen: set[Any] = set()
    for index, trigger in flow_items(flow, "triggers"):
        pre = trigger.get("preconditions")
        if trigger.get("type") == FLOW_TRIGGER and isinstance(pre, dict) and "id" in pre:
            if pre["id"] in seen:
                yield ("triggers", index, "preconditions", "id"), f"duplicate preconditions id {pre['id']!r}", None
            seen.add(pre["id"])


def expressions(flow: dict[str, Any]) -> Iterator[Finding]:
    stack: list[tuple[Path, Any]] = [((), flow)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((path + (k,), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((path + (i,), v) for i, v in enumerate(value))
        elif isinstance(value, str) and "{{" in value and (match := _HYPHEN_REF.search(value)):
            kind, name = match.groups()
            yield path, f"'{kind}.{name}' reads as a subtraction in Kestra expressions", \
                f"use {kind}['{name.split('.')[0]}'] or an id without '-'"
