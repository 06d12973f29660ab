"""A JSON Schema (draft 7) of the Kestra flow core, as data.

It covers what Kestra 0.21 through 2.0 accept for the flow itself, its inputs, triggers, retry,
concurrency and the core/flowable tasks (kestra-reference.md §1); :func:`flow_schema` gives the one
of a target version (input types that exist only from some version on are left out elsewhere). Tasks and triggers of plugins
this table does not know get only the common checks (id, type, retry, timeout, ...), because
their own properties are defined by plugins we cannot see offline.

Patterns end with ``\\Z`` (not ``$``): Python's ``$`` also matches before a final newline, and an
id with a newline must be refused.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from .kestra_version import Feature, KestraVersion, has

FLOW_ID = r"^[a-zA-Z0-9][a-zA-Z0-9._-]*\Z"
NAMESPACE = r"^[a-z0-9][a-z0-9._-]*\Z"
TASK_ID = r"^[a-zA-Z0-9][a-zA-Z0-9_-]*\Z"
INPUT_ID = r"^[a-zA-Z0-9][.a-zA-Z0-9_-]*\Z"
JAVA_TYPE = r"^[A-Za-z_\$][A-Za-z0-9_\$]*(\.[A-Za-z_\$][A-Za-z0-9_\$]*)*\Z"
# java.time.Duration.parse: PnDTnHnMn.nS (no years, months or weeks); or a Pebble expression.
DURATION = r"^(-?P(?=[^T]|T.)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d{1,9})?S)?)?|.*\{\{.*\}\}.*)\Z"

MESSAGES = {
    FLOW_ID: "a flow id starts with a letter or digit and has only letters, digits, '.', '_', '-'",
    NAMESPACE: "a namespace is lowercase: letters, digits, '.', '_', '-', starting with a letter or digit",
    TASK_ID: "a task or trigger id starts with a letter or digit and has only letters, digits, '_', '-'",
    INPUT_ID: "an input id starts with a letter or digit and has only letters, digits, '.', '_', '-'",
    JAVA_TYPE: "a type is a Java class name such as io.kestra.plugin.core.log.Log",
    DURATION: "an ISO-8601 duration such as PT30M, PT1H or P1DT2H (no years, months or weeks)",
}

INPUT_TYPES = (  # every supported version's; input_types(target) gives one version's
    "STRING", "INT", "FLOAT", "BOOLEAN", "BOOL", "DATETIME", "DATE", "TIME", "DURATION", "FILE",
    "JSON", "YAML", "URI", "EMAIL", "SECRET", "ARRAY", "SELECT", "MULTISELECT", "ENUM", "FORM",
)
_SINCE = {"BOOL": Feature.BOOL_INPUT}  # input types that exist only from some version on


def type_feature(name: str) -> Feature | None:
    """The version fact an input type name depends on (None: it exists on every supported version)."""
    return _SINCE.get(name)


def input_types(target: KestraVersion | None = None) -> tuple[str, ...]:
    """The input type names Kestra ``target`` knows (None: those of any supported version)."""
    return tuple(t for t in INPUT_TYPES if target is None or t not in _SINCE or has(target, _SINCE[t]))

STATES = (
    "CREATED", "RUNNING", "PAUSED", "RESTARTED", "KILLING", "SUCCESS", "WARNING", "FAILED",
    "KILLED", "CANCELLED", "QUEUED", "RETRYING", "RETRIED", "SKIPPED", "BREAKPOINT", "RESUBMITTED",
)

_str = {"type": "string"}
_bool = {"type": "boolean"}
_int = {"type": "integer"}
_num = {"type": "number"}
_any: dict[str, Any] = {}
_duration = {"type": "string", "pattern": DURATION}
_str_list = {"type": "array", "items": _str}
_map = {"type": "object"}


def _obj(props: dict[str, Any], required: tuple[str, ...] = (), strict: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = list(required)
    if strict:
        schema["additionalProperties"] = False
    return schema


def _dispatch(kinds: dict[str, Any], common: dict[str, Any],
              required: tuple[str, ...]) -> dict[str, Any]:
    """An object whose ``type`` selects a strict schema; unknown types get the common one."""
    branches = []
    for name, extra in kinds.items():
        props = {k: v for k, v in extra.items() if k != "__required__"}
        then = _obj({**common, **props}, required + tuple(extra.get("__required__", ())))
        branches.append({"if": {"properties": {"type": {"const": name}}, "required": ["type"]}, "then": then})
    unknown = {"if": {"properties": {"type": {"enum": list(kinds)}}, "required": ["type"]},
               "else": _obj(common, required, strict=False)}
    return {"type": "object", "required": list(required), "allOf": [*branches, unknown]}


RETRY_COMMON = {"type": {"enum": ["constant", "exponential", "random"]}, "maxAttempt": {"type": "integer", "minimum": 1},
                "maxDuration": _duration, "warningOnRetry": _bool,
                "behavior": {"enum": ["RETRY_FAILED_TASK", "CREATE_NEW_EXECUTION"]}}
RETRY = _dispatch({
    "constant": {"interval": _duration, "__required__": ("interval",)},
    "exponential": {"interval": _duration, "maxInterval": _duration, "delayFactor": _num,
                    "__required__": ("interval", "maxInterval")},
    "random": {"minInterval": _duration, "maxInterval": _duration,
               "__required__": ("minInterval", "maxInterval")},
}, RETRY_COMMON, ("type",))

_TASKS = {"type": "array", "items": {"$ref": "#/definitions/task"}}
_TASKS_NONEMPTY = {**_TASKS, "minItems": 1}
TASK_COMMON = {
    "id": {"type": "string", "pattern": TASK_ID}, "type": {"type": "string", "pattern": JAVA_TYPE},
    "description": _str, "retry": {"$ref": "#/definitions/retry"}, "timeout": _duration,
    "disabled": _bool, "allowFailure": _bool, "allowWarning": _bool, "runIf": _str,
    "logLevel": {"enum": ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]}, "logToFile": _bool,
    "workerGroup": _map,
}
_SCRIPT = {
    "beforeCommands": _str_list, "containerImage": _str, "taskRunner": _map, "namespaceFiles": _obj(
        {"enabled": _bool, "include": _str_list, "exclude": _str_list, "namespaces": _str_list,
         "folderPerNamespace": _bool, "ifExists": _str}),
    "inputFiles": {"type": ["object", "string"]}, "outputFiles": _str_list, "env": _map,
    "warningOnStdErr": _bool, "interpreter": _str_list, "failFast": _bool, "targetOS": _str,
    "dependencies": _str_list, "pythonVersion": _str, "packageManager": _str,
    "dependencyCacheEnabled": _bool, "docker": _map, "runner": _str, "outputDirectory": _bool,
}
_FLOW_PKG = "io.kestra.plugin.core.flow."
TASKS: dict[str, dict[str, Any]] = {
    _FLOW_PKG + "Parallel": {"tasks": _TASKS_NONEMPTY, "concurrent": {"type": "integer", "minimum": 0},
                             "errors": _TASKS, "finally": _TASKS, "__required__": ("tasks",)},
    _FLOW_PKG + "Sequential": {"tasks": _TASKS_NONEMPTY, "errors": _TASKS, "finally": _TASKS,
                               "__required__": ("tasks",)},
    _FLOW_PKG + "If": {"condition": {"type": ["string", "boolean"]}, "then": _TASKS_NONEMPTY,
                       "else": _TASKS, "errors": _TASKS, "finally": _TASKS,
                       "__required__": ("condition", "then")},
    _FLOW_PKG + "Switch": {"value": {"type": ["string", "number", "boolean"]},
                           "cases": {"type": "object", "additionalProperties": _TASKS},
                           "defaults": _TASKS, "errors": _TASKS, "finally": _TASKS, "__required__": ("value",)},
    _FLOW_PKG + "WorkingDirectory": {**_SCRIPT, "tasks": _TASKS_NONEMPTY, "errors": _TASKS,
                                     "finally": _TASKS, "cache": _map, "__required__": ("tasks",)},
    _FLOW_PKG + "Subflow": {"namespace": _str, "flowId": _str, "revision": _int, "inputs": _map,
                            "labels": {"type": ["object", "array"]}, "wait": _bool, "transmitFailed": _bool,
                            "inheritLabels": _bool, "scheduleDate": _str, "outputs": _map,
                            "__required__": ("namespace", "flowId")},
    _FLOW_PKG + "Pause": {"delay": _duration, "timeout": _duration, "duration": _duration,
                          "onResume": {"type": "array"}, "behavior": _str, "tasks": _TASKS},
    _FLOW_PKG + "Sleep": {"duration": _duration, "__required__": ("duration",)},
    "io.kestra.plugin.core.log.Log": {"message": {"type": ["string", "array"]}, "level": _str,
                                      "__required__": ("message",)},
    "io.kestra.plugin.core.debug.Return": {"format": _str},
    "io.kestra.plugin.core.output.OutputValues": {"values": _map},
    "io.kestra.plugin.core.execution.Fail": {"condition": _str, "errorMessage": _str},
    "io.kestra.plugin.scripts.python.Commands": {**_SCRIPT, "commands": {**_str_list, "minItems": 1},
                                                 "__required__": ("commands",)},
    "io.kestra.plugin.scripts.python.Script": {**_SCRIPT, "script": _str, "__required__": ("script",)},
}

_TRIGGER_PKG = "io.kestra.plugin.core.trigger."
TRIGGER_COMMON = {
    "id": {"type": "string", "pattern": TASK_ID}, "type": {"type": "string", "pattern": JAVA_TYPE},
    "description": _str, "conditions": {"type": "array"}, "when": _str, "disabled": _bool,
    "labels": {"type": ["object", "array"]}, "stopAfter": {"type": "array", "items": {"enum": list(STATES)}},
    "logLevel": _str, "logToFile": _bool, "workerGroup": _map,
}
_PRECONDITION_FLOW = _obj({"namespace": _str, "flowId": _str, "states": {"type": "array", "items": {"enum": list(STATES)}},
                           "labels": _map}, ("namespace",))
TRIGGERS: dict[str, dict[str, Any]] = {
    _TRIGGER_PKG + "Schedule": {"cron": _str, "timezone": _str, "withSeconds": _bool, "inputs": _map,
                                "recoverMissedSchedules": {"enum": ["LAST", "NONE", "ALL"]},
                                "lateMaximumDelay": _duration, "scheduleConditions": {"type": "array"},
                                "backfill": _map, "interval": _duration, "__required__": ("cron",)},
    _TRIGGER_PKG + "Flow": {"inputs": _map, "states": {"type": "array", "items": {"enum": list(STATES)}},
                            "preconditions": _obj({"id": _str, "timeWindow": _map, "resetOnSuccess": _bool,
                                                   "flows": {"type": "array", "items": _PRECONDITION_FLOW},
                                                   "where": {"type": "array"}})},
    _TRIGGER_PKG + "Webhook": {"key": {"type": "string", "minLength": 1, "maxLength": 256}, "inputs": _map,
                               "__required__": ("key",)},
}


def _input_common(types: tuple[str, ...]) -> dict[str, Any]:
    return {
        "id": {"type": "string", "pattern": INPUT_ID}, "name": {"type": "string", "pattern": INPUT_ID},
        "type": {"enum": list(types)}, "description": _str,
        "displayName": {"type": "string", "maxLength": 64}, "required": _bool, "defaults": _any,
        "prefill": _any, "dependsOn": _obj({"inputs": _str_list, "condition": _str}),
    }


_VALUES = {"type": "array", "items": {"type": ["string", "number", "boolean"]}}
_INT = {"type": "integer"}
_NUMBER = {"type": "number"}
_BOUNDS = {"after": _str, "before": _str}


def _inputs(types: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    kinds: dict[str, dict[str, Any]] = {
        "STRING": {"validator": _str}, "SECRET": {"validator": _str}, "INT": {"min": _INT, "max": _INT},
        "FLOAT": {"min": _NUMBER, "max": _NUMBER}, "DATETIME": _BOUNDS, "DATE": _BOUNDS, "TIME": _BOUNDS,
        "DURATION": {"min": _duration, "max": _duration}, "FILE": {"extension": _str},
        "ARRAY": {"itemType": {"enum": list(types)}, "__required__": ("itemType",)},
        "SELECT": {"values": _VALUES, "expression": _str, "allowCustomValue": _bool, "isRadio": _bool},
        "MULTISELECT": {"values": _VALUES, "options": _VALUES, "expression": _str,
                        "itemType": {"enum": list(types)}, "allowCustomValue": _bool},
        "ENUM": {"values": _VALUES, "__required__": ("values",)},
        "FORM": {"inputs": {"type": "array", "items": {"$ref": "#/definitions/input"}}},
        **{name: {} for name in ("BOOLEAN", "BOOL", "JSON", "YAML", "URI", "EMAIL")},
    }
    return {name: extra for name, extra in kinds.items() if name in types}


INPUT_COMMON = _input_common(INPUT_TYPES)
INPUTS = _inputs(INPUT_TYPES)


@cache
def flow_schema(target: KestraVersion | None = None) -> dict[str, Any]:
    """The flow schema for Kestra ``target`` (None: what any supported version accepts)."""
    types = input_types(target)
    type_enum = {"enum": list(types)}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "definitions": {
            "task": _dispatch(TASKS, TASK_COMMON, ("id", "type")),
            "trigger": _dispatch(TRIGGERS, TRIGGER_COMMON, ("id", "type")),
            "input": {**_dispatch(_inputs(types), _input_common(types), ("type",)),
                      "anyOf": [{"required": ["id"]}, {"required": ["name"]}]},
            "retry": RETRY,
        },
        **_obj({
            "id": {"type": "string", "pattern": FLOW_ID, "maxLength": 100},
            "namespace": {"type": "string", "pattern": NAMESPACE, "maxLength": 150},
            "revision": {"type": "integer", "minimum": 1}, "description": _str,
            "labels": {"anyOf": [{"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
                                 {"type": "array", "items": _obj({"key": _str, "value": _str}, ("key", "value"))}]},
            "inputs": {"type": "array", "items": {"$ref": "#/definitions/input"}},
            "variables": _map, "tasks": _TASKS_NONEMPTY, "errors": _TASKS, "finally": _TASKS,
            "afterExecution": _TASKS, "triggers": {"type": "array", "items": {"$ref": "#/definitions/trigger"}},
            "outputs": {"type": "array", "items": _obj({
                "id": {"type": "string", "pattern": INPUT_ID}, "type": type_enum,
                "value": _any, "description": _str, "displayName": _str, "required": _bool}, ("id", "type", "value"))},
            "pluginDefaults": {"type": "array", "items": _obj({"type": _str, "forced": _bool, "values": _map}, ("type",))},
            "taskDefaults": {"type": "array", "items": _obj({"type": _str, "forced": _bool, "values": _map}, ("type",))},
            "concurrency": _obj({"limit": {"type": "integer", "minimum": 1},
                                 "behavior": {"enum": ["QUEUE", "CANCEL", "FAIL"]}}, ("limit",)),
            "retry": {"$ref": "#/definitions/retry"}, "sla": {"type": "array"}, "disabled": _bool, "deleted": _bool,
            "listeners": {"type": "array"}, "checks": {"type": "array"}, "workerSelector": _any,
        }, ("id", "namespace", "tasks")),
    }


FLOW_SCHEMA = flow_schema()
