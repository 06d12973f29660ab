"""Kestra's semantic flow rules (FlowValidator and friends), over the plain YAML document.

Each rule is a generator of findings ``(path, message, hint)``; it skips parts whose structure is
wrong, since the schema check already reports those. Rules that hold only on some Kestra versions
apply only when the target version has their :class:`Feature` (see :data:`VERSIONED`). Sources:
kestra-reference.md §1, and each version fact's own in core/kestra_version.py.
"""
from __future__ import annotations

from typing import Any

from .kestra_version import DEFAULT, Feature, KestraVersion, has
from .kestra_values import (INT_RANGE_HINT, JAVA_INT_MAX, JAVA_INT_MIN, cron_problem, duration_seconds,
                            int_out_of_range, timezone_problem)
from .rule_walk import Finding, Rule, iter_tasks
from .rules_ids_inputs import RESERVED_FLOW_IDS, inputs, int_ranges, labels, reserved_id, unique_ids
from .rules_tasks_triggers import (FLOW_TRIGGER, FOREACH_TYPES, SCHEDULE, SUBFLOW, SWITCH, expressions,
                                   foreach_removed, preconditions, retries, schedules, tasks, triggered_inputs)

# the rules live in rules_ids_inputs and rules_tasks_triggers, what they share in rule_walk and
# kestra_values; their importers find them here too
__all__ = ["FLOW_TRIGGER", "FOREACH_TYPES", "INT_RANGE_HINT", "JAVA_INT_MAX", "JAVA_INT_MIN", "RESERVED_FLOW_IDS",
           "RULES", "SCHEDULE", "SUBFLOW", "SWITCH", "VERSIONED", "Finding", "Rule", "cron_problem", "duration_seconds",
           "expressions", "foreach_removed", "inputs", "int_out_of_range", "int_ranges", "iter_tasks", "labels",
           "preconditions", "reserved_id", "retries", "rules_for", "schedules", "semantic_findings", "tasks",
           "timezone_problem", "triggered_inputs", "unique_ids"]

RULES: tuple[Rule, ...] = (unique_ids, labels, inputs, int_ranges, schedules, triggered_inputs, retries, tasks,
                           preconditions, expressions)
# rules that apply only where the target version has the feature
VERSIONED: tuple[tuple[Feature, Rule], ...] = ((Feature.RESERVED_FLOW_IDS, reserved_id),
                                               (Feature.FOREACH_REMOVED, foreach_removed))


def rules_for(target: KestraVersion) -> tuple[Rule, ...]:
    return RULES + tuple(rule for feature, rule in VERSIONED if has(target, feature))


def semantic_findings(flow: dict[str, Any], target: KestraVersion = DEFAULT) -> list[Finding]:
    return [finding for rule in rules_for(target) for finding in rule(flow)]
