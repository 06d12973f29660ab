"""The ``io.kestra.plugin.core.trigger.Flow`` trigger of an ``after:`` flow (see the package README,
"Flow trigger"): whether it fires for upstream executions, from its ``states`` (default: every terminal
state) and each ``preconditions.flows[]`` namespace/flowId/states (K@58c1ca2d
core/.../plugin/core/trigger/Flow.java:221-222,278-407; State.java:215-245)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .errors import NotEmulated
from .state import TERMINAL_STATES, ExecutionResult

FLOW_TRIGGER_TYPES = {"io.kestra.plugin.core.trigger.Flow", "io.kestra.core.models.triggers.types.Flow"}
_TRIGGER_KEYS = {"id", "type", "states", "preconditions", "inputs", "description"}


def flow_trigger_fires(flow: Mapping[str, Any], upstream: ExecutionResult | Sequence[ExecutionResult]) -> list[str]:
    """The ids of ``flow``'s Flow triggers that fire once ``upstream`` (the executions of the
    precondition's time window, here: those given) have ended: the trigger's ``states`` hold the last
    execution's state, and every ``preconditions.flows[]`` entry is met by one of them
    (K@58c1ca2d core/.../plugin/core/trigger/Flow.java:221-222,380-406)."""
    executions = [upstream] if isinstance(upstream, ExecutionResult) else list(upstream)
    current = executions[-1]
    fired = []
    for trigger in flow.get("triggers") or []:
        if trigger.get("type") not in FLOW_TRIGGER_TYPES or trigger.get("disabled"):
            continue
        if trigger.get("conditions") or set(trigger) - _TRIGGER_KEYS:
            raise NotEmulated(f"Flow trigger {trigger.get('id')}: {sorted(set(trigger))}")
        if current.state not in trigger.get("states", TERMINAL_STATES):
            continue
        preconditions = trigger.get("preconditions") or {}
        if preconditions.get("where"):
            raise NotEmulated("preconditions.where")
        conditions = preconditions.get("flows") or []
        if all(any(_met(c, e) for e in executions) for c in conditions) and any(_met(c, current) for c in conditions) \
                or not conditions:
            fired.append(trigger["id"])
    return fired


def _met(condition: Mapping[str, Any], execution: ExecutionResult) -> bool:
    """Whether ``execution`` meets one ``preconditions.flows[]`` entry (namespace, flowId, states, labels)."""
    if condition.get("namespace") is not None and execution.namespace != condition["namespace"]:
        return False
    if condition.get("flowId") is not None and execution.flow_id != condition["flowId"]:
        return False
    if condition.get("states") is not None and execution.state not in condition["states"]:
        return False
    labels = condition.get("labels") or {}
    return all(execution.labels.get(str(k)) == str(v) for k, v in labels.items())
