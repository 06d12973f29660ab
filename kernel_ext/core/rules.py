"""Kestra's semantic flow rules (FlowValidator and friends), over the plain YAML document.

Each rule is a generator of findings ``(path, message, hint)``; it skips parts whose structure is
wrong, since the schema check already reports those. Rules that hold only on some Kestra versions
apply only when the target version has their :class:`Feature` (see :data:`VERSIONED`). Sources:
kestra-reference.md §1, and each version fact's own in core/kestra_version.py.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from .kestra_version import DEFAULT, Feature, KestraVersion, has
from .yamlsafe import Path, format_path

Finding = tuple[Path, str, str | None]
Rule = Callable[[dict[str, Any]], Iterator[Finding]]

RESERVED_FLOW_IDS = frozenset(
    {"pause", "resume", "force-run", "change-status", "kill", "executions", "search", "source", "disable", "enable"})
SCHEDULE = "io.kestra.plugin.core.trigger.Schedule"
FLOW_TRIGGER = "io.kestra.plugin.core.trigger.Flow"
SUBFLOW = "io.kestra.plugin.core.flow.Subflow"
SWITCH = "io.kestra.plugin.core.flow.Switch"
FOREACH_TYPES = frozenset(f"{package}.{name}" for package in ("io.kestra.plugin.core.flow", "io.kestra.core.tasks.flows")
                          for name in ("ForEach", "ForEachItem"))
# An INT input is a java.lang.Integer on every supported version: kestra-io/kestra@58c1ca2d
# core/src/main/java/io/kestra/core/models/flows/input/IntInput.java (Input<Integer>, Integer min/max) and
# runners/FlowInputOutput.java:411 (Integer.valueOf); the same in 1.x (FlowInputOutput.resolveDefaultValue
# reads defaults as Integer.class). A value outside this range is refused.
JAVA_INT_MIN, JAVA_INT_MAX = -(2 ** 31), 2 ** 31 - 1
INT_RANGE_HINT = ("use type STRING and int() it in the notebook, or FLOAT if an approximate value will do "
                  "(a FLOAT input is a Java float)")
_TASK_LIST_KEYS = ("tasks", "errors", "finally", "afterExecution", "then", "else", "defaults")
_DURATION = re.compile(r"^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?\Z")
_OFFSET = re.compile(r"^(Z|UTC|GMT|[+-]\d{2}(:?\d{2})?)\Z")
_HYPHEN_REF = re.compile(r"\{\{[^}]*?\b(inputs|outputs)\.([A-Za-z0-9_]*-[A-Za-z0-9_-]*)")
_CRON_NICKNAMES = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def duration_seconds(text: Any) -> float | None:
    """Seconds of an ISO-8601 ``java.time.Duration`` text, or None when it is not one."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match or text in ("P", "-P") or text.endswith("T"):
        return None
    sign, days, hours, minutes, seconds = match.groups()
    total = int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)
    return -total if sign else total


@lru_cache(maxsize=4096)  # repositories repeat a handful of schedules; croniter's parse is the slow part
def cron_problem(expression: str, with_seconds: bool = False) -> str | None:
    """Why ``expression`` is not a cron Kestra accepts, or None."""
    from croniter import croniter  # lazy: only flows with a schedule pay for it

    text = expression.strip()
    if text.startswith("@"):
        return None if text in _CRON_NICKNAMES else f"unknown cron nickname {text!r}"
    fields = len(text.split())
    wanted = 6 if with_seconds else 5
    if fields != wanted:
        extra = " (withSeconds: true takes 6)" if not with_seconds else ""
        return f"a cron has {wanted} fields{extra}, this one has {fields}"
    if not croniter.is_valid(text, second_at_beginning=with_seconds):
        return f"{expression!r} is not a valid cron expression"
    return None


@lru_cache(maxsize=1024)
def timezone_problem(zone: str) -> str | None:
    """Why ``zone`` is not a time-zone id Java's ZoneId accepts, or None."""
    if _OFFSET.match(zone):
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{zone!r} is not a time-zone id (use a tz database name such as Europe/Paris or UTC)"
    return None


def iter_tasks(flow: dict[str, Any]) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every task of the flow, nested ones and errors/finally branches included."""
    stack: list[tuple[Path, Any]] = [((key,), flow.get(key)) for key in reversed(_TASK_LIST_KEYS[:4])]
    while stack:
        path, tasks = stack.pop()
        for index, task in enumerate(tasks if isinstance(tasks, list) else ()):
            if not isinstance(task, dict):
                continue
            if isinstance(task.get("task"), dict) and "type" not in task:  # a Dag entry
                task = task["task"]
                index_path: Path = path + (index, "task")
            else:
                index_path = path + (index,)
            yield index_path, task
            stack.extend((index_path + (key,), task.get(key)) for key in _TASK_LIST_KEYS)
            cases = task.get("cases")
            if isinstance(cases, dict):
                stack.extend((index_path + ("cases", name), branch) for name, branch in cases.items())


def _items(flow: dict[str, Any], key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    value = flow.get(key)
    for index, item in enumerate(value if isinstance(value, list) else ()):
        if isinstance(item, dict):
            yield index, item


def _input_id(item: dict[str, Any]) -> Any:
    return item.get("id", item.get("name"))


def reserved_id(flow: dict[str, Any]) -> Iterator[Finding]:
    if flow.get("id") in RESERVED_FLOW_IDS:
        yield ("id",), f"{flow['id']!r} is reserved by Kestra since 1.0", "choose another flow id"


def foreach_removed(flow: dict[str, Any]) -> Iterator[Finding]:
    for path, task in iter_tasks(flow):
        if task.get("type") in FOREACH_TYPES:
            yield path + ("type",), f"{task['type'].rsplit('.', 1)[1]} was removed in Kestra 2.0", \
                "use io.kestra.plugin.core.flow.Loop (values, concurrencyLimit; {{ item.value }})"


def int_out_of_range(value: Any) -> bool:
    """Whether ``value`` is a whole number a Kestra INT (a Java Integer) cannot hold."""
    return isinstance(value, int) and not isinstance(value, bool) and not JAVA_INT_MIN <= value <= JAVA_INT_MAX


def _int_problem(name: Any, what: str, value: int) -> tuple[str, str]:
    message = (f"input {name!r}: {what} {value} is outside Kestra's INT range ({JAVA_INT_MIN}..{JAVA_INT_MAX}, "
               "a Java Integer), so Kestra would refuse it")
    return message, INT_RANGE_HINT


def int_ranges(flow: dict[str, Any]) -> Iterator[Finding]:
    for index, item in _items(flow, "inputs"):
        path: Path = ("inputs", index)
        name = _input_id(item)
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
        ("trigger id", [(("triggers", i, "id"), t.get("id")) for i, t in _items(flow, "triggers")]),
        ("input id", [(("inputs", i, "id"), _input_id(t)) for i, t in _items(flow, "inputs")]),
        ("output id", [(("outputs", i, "id"), t.get("id")) for i, t in _items(flow, "outputs")]),
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
    ids = {_input_id(item) for _, item in _items(flow, "inputs")}
    for index, item in _items(flow, "inputs"):
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
    for index, item in _items(flow, "inputs"):
        depends = item.get("dependsOn")
        names = depends.get("inputs") if isinstance(depends, dict) else None
        graph[_input_id(item)] = [n for n in names if isinstance(n, str)] if isinstance(names, list) else []
        where[_input_id(item)] = ("inputs", index, "dependsOn")
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


def schedules(flow: dict[str, Any]) -> Iterator[Finding]:
    for index, trigger in _items(flow, "triggers"):
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
    required = [_input_id(i) for _, i in _items(flow, "inputs")
                if i.get("required", True) is not False and "defaults" not in i]
    for index, trigger in _items(flow, "triggers"):
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
    for index, trigger in _items(flow, "triggers"):
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


RULES: tuple[Rule, ...] = (unique_ids, labels, inputs, int_ranges, schedules, triggered_inputs, retries, tasks,
                           preconditions, expressions)
# rules that apply only where the target version has the feature
VERSIONED: tuple[tuple[Feature, Rule], ...] = ((Feature.RESERVED_FLOW_IDS, reserved_id),
                                               (Feature.FOREACH_REMOVED, foreach_removed))


def rules_for(target: KestraVersion) -> tuple[Rule, ...]:
    return RULES + tuple(rule for feature, rule in VERSIONED if has(target, feature))


def semantic_findings(flow: dict[str, Any], target: KestraVersion = DEFAULT) -> list[Finding]:
    return [finding for rule in rules_for(target) for finding in rule(flow)]
