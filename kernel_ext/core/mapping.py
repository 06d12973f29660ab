"""Model ⇄ YAML document (plain dicts and lists, in Kestra's conventional key order)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model import (
    Concurrency,
    ConcurrencyBehavior,
    DependsOn,
    Flow,
    FlowRef,
    FlowTrigger,
    Input,
    InputType,
    Output,
    RawTrigger,
    Retry,
    RetryType,
    ScheduleTrigger,
    Task,
    Trigger,
    frozen_map,
)

SCHEDULE_TYPE = "io.kestra.plugin.core.trigger.Schedule"
FLOW_TRIGGER_TYPE = "io.kestra.plugin.core.trigger.Flow"

# (model field, YAML key) in emission order
_INPUT_FIELDS = (("id", "id"), ("type", "type"), ("display_name", "displayName"), ("description", "description"),
                 ("required", "required"), ("defaults", "defaults"), ("validator", "validator"), ("min", "min"),
                 ("max", "max"), ("after", "after"), ("before", "before"), ("extension", "extension"),
                 ("item_type", "itemType"), ("values", "values"), ("allow_custom_value", "allowCustomValue"),
                 ("is_radio", "isRadio"), ("expression", "expression"), ("prefill", "prefill"))
_INPUT_KEYS = {key for _, key in _INPUT_FIELDS} | {"name", "options", "dependsOn"}
_RETRY_FIELDS = (("type", "type"), ("max_attempt", "maxAttempt"), ("interval", "interval"),
                 ("min_interval", "minInterval"), ("max_interval", "maxInterval"), ("delay_factor", "delayFactor"),
                 ("max_duration", "maxDuration"), ("warning_on_retry", "warningOnRetry"), ("behavior", "behavior"))


def _plain(value: Any) -> Any:
    """Enums to their values, tuples to lists, read-only mappings to dicts (recursively)."""
    if isinstance(value, InputType | RetryType | ConcurrencyBehavior):
        return value.value
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _fields(obj: Any, table: tuple[tuple[str, str], ...], skip: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for attr, key in table:
        value = getattr(obj, attr)
        if value is not None and skip.get(attr, object()) != value:
            out[key] = _plain(value)
    return out


def input_to_dict(item: Input) -> dict[str, Any]:
    out = _fields(item, _INPUT_FIELDS, {"required": True})
    if item.depends_on is not None:
        out["dependsOn"] = {"inputs": list(item.depends_on.inputs)}
        if item.depends_on.condition:
            out["dependsOn"]["condition"] = item.depends_on.condition
    out.update(_plain(item.extra))
    return out


def retry_to_dict(retry: Retry) -> dict[str, Any]:
    return _fields(retry, _RETRY_FIELDS, {})


def task_to_dict(task: Task) -> dict[str, Any]:
    out: dict[str, Any] = {"id": task.id, "type": task.type}
    if task.description:
        out["description"] = task.description
    out.update(_plain(task.properties))
    if task.tasks:
        out["tasks"] = [task_to_dict(child) for child in task.tasks]
    if task.timeout:
        out["timeout"] = task.timeout
    if task.retry:
        out["retry"] = retry_to_dict(task.retry)
    return out


def trigger_to_dict(trigger: Trigger) -> dict[str, Any]:
    if isinstance(trigger, ScheduleTrigger):
        out: dict[str, Any] = {"id": trigger.id, "type": SCHEDULE_TYPE, "cron": trigger.cron}
        if trigger.timezone:
            out["timezone"] = trigger.timezone
    elif isinstance(trigger, FlowTrigger):
        flows = [{"namespace": ref.namespace, **({"flowId": ref.flow_id} if ref.flow_id else {}),
                  "states": list(trigger.states)} for ref in trigger.upstream]
        out = {"id": trigger.id, "type": FLOW_TRIGGER_TYPE, "preconditions": {"id": trigger.id, "flows": flows}}
    else:
        return {"id": trigger.id, "type": trigger.type, **_plain(trigger.properties)}
    if trigger.inputs:
        out["inputs"] = _plain(trigger.inputs)
    return out


def flow_to_dict(flow: Flow) -> dict[str, Any]:
    """The flow as a YAML document, keys in the order Kestra's docs write them."""
    out: dict[str, Any] = {"id": flow.id, "namespace": flow.namespace}
    if flow.description:
        out["description"] = flow.description
    if flow.labels:
        out["labels"] = _plain(flow.labels)
    if flow.inputs:
        out["inputs"] = [input_to_dict(i) for i in flow.inputs]
    if flow.variables:
        out["variables"] = _plain(flow.variables)
    out["tasks"] = [task_to_dict(t) for t in flow.tasks]
    if flow.triggers:
        out["triggers"] = [trigger_to_dict(t) for t in flow.triggers]
    if flow.outputs:
        out["outputs"] = [{"id": o.id, "type": o.type.value, "value": o.value,
                           **({"description": o.description} if o.description else {})} for o in flow.outputs]
    if flow.retry:
        out["retry"] = retry_to_dict(flow.retry)
    if flow.concurrency:
        out["concurrency"] = {"limit": flow.concurrency.limit, "behavior": flow.concurrency.behavior.value}
    out.update(_plain(flow.extra))
    return out


# --- document → model (for documents that passed validation) ---------------------------------

def input_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The :class:`Input` fields the keys of an input document give (all of them, or a header's override
    of some), as model values; keys of newer Kestra go to ``extra``."""
    values = {attr: data[key] for attr, key in _INPUT_FIELDS if key in data}
    if "type" in data:
        values["type"] = InputType(data["type"])
    if "itemType" in data:
        values["item_type"] = InputType(data["itemType"])
    if "values" in data or "options" in data:
        values["values"] = tuple(data.get("values", data.get("options", ())))
    depends = data.get("dependsOn")
    if isinstance(depends, Mapping):
        values["depends_on"] = DependsOn(tuple(depends.get("inputs", ())), depends.get("condition"))
    values["extra"] = frozen_map({k: v for k, v in data.items() if k not in _INPUT_KEYS})
    return values


def input_from_dict(data: Mapping[str, Any]) -> Input:
    values = input_fields(data)
    values.setdefault("id", data.get("name"))
    values["type"] = InputType(data["type"])
    return Input(**values)


def retry_from_dict(data: Mapping[str, Any]) -> Retry:
    values = {attr: data[key] for attr, key in _RETRY_FIELDS if key in data}
    values["type"] = RetryType(data["type"])
    return Retry(**values)


def task_from_dict(data: Mapping[str, Any]) -> Task:
    children = data.get("tasks")
    nested = isinstance(children, list) and all(isinstance(c, Mapping) and "type" in c for c in children)
    skip = {"id", "type", "description", "timeout", "retry"} | ({"tasks"} if nested else set())
    return Task(id=data["id"], type=data["type"], properties=frozen_map({k: v for k, v in data.items() if k not in skip}),
                tasks=tuple(task_from_dict(c) for c in children) if nested and children else (),
                description=data.get("description"), timeout=data.get("timeout"),
                retry=retry_from_dict(data["retry"]) if isinstance(data.get("retry"), Mapping) else None)


def trigger_from_dict(data: Mapping[str, Any]) -> Trigger:
    keys = set(data)
    if data["type"] == SCHEDULE_TYPE and keys <= {"id", "type", "cron", "timezone", "inputs"}:
        return ScheduleTrigger(data["id"], data["cron"], data.get("timezone"), frozen_map(data.get("inputs")))
    pre = data.get("preconditions")
    if data["type"] == FLOW_TRIGGER_TYPE and keys <= {"id", "type", "preconditions", "inputs"} \
            and isinstance(pre, Mapping) and set(pre) <= {"id", "flows"}:
        flows = pre.get("flows") or []
        states = {tuple(f.get("states", ("SUCCESS",))) for f in flows}
        if len(states) == 1:
            refs = tuple(FlowRef(f["namespace"], f.get("flowId")) for f in flows)
            return FlowTrigger(data["id"], refs, states.pop(), frozen_map(data.get("inputs")))
    return RawTrigger(data["id"], data["type"], frozen_map({k: v for k, v in data.items() if k not in ("id", "type")}))


_FLOW_KEYS = {"id", "namespace", "description", "labels", "inputs", "variables", "tasks", "triggers", "outputs",
              "retry", "concurrency"}


def flow_from_dict(data: Mapping[str, Any]) -> Flow:
    """The model of a validated flow document."""
    labels = data.get("labels") or {}
    if isinstance(labels, list):
        labels = {item["key"]: item["value"] for item in labels}
    concurrency = data.get("concurrency")
    return Flow(
        id=data["id"], namespace=data["namespace"], description=data.get("description"),
        labels=frozen_map({k: str(v) for k, v in labels.items()}),
        inputs=tuple(input_from_dict(i) for i in data.get("inputs") or ()),
        variables=frozen_map(data.get("variables")), tasks=tuple(task_from_dict(t) for t in data["tasks"]),
        triggers=tuple(trigger_from_dict(t) for t in data.get("triggers") or ()),
        outputs=tuple(Output(o["id"], InputType(o["type"]), o["value"], o.get("description"))
                      for o in data.get("outputs") or ()),
        retry=retry_from_dict(data["retry"]) if data.get("retry") else None,
        concurrency=Concurrency(concurrency["limit"], ConcurrencyBehavior(concurrency.get("behavior", "QUEUE")))
        if concurrency else None,
        extra=frozen_map({k: v for k, v in data.items() if k not in _FLOW_KEYS}),
    )
