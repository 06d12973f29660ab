"""Kestra's flow rules (kestra-reference.md §1), one test each, and the schema evaluator against
the ``jsonschema`` library as an oracle."""
from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel_ext.core.kestra_schema import FLOW_SCHEMA, MESSAGES
from kernel_ext.core.rules import cron_problem, duration_seconds, timezone_problem
from kernel_ext.core.schemacheck import SchemaChecker
from kernel_ext.core.flow_validation import flow_problems, parse_flow_text

LOG = "io.kestra.plugin.core.log.Log"
SCHEDULE = "io.kestra.plugin.core.trigger.Schedule"


def flow(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "hello", "namespace": "company.team",
                            "tasks": [{"id": "log", "type": LOG, "message": "hi"}]}
    base.update(changes)
    return base


def problems(data: Any) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in flow_problems(data)]


def paths(data: Any) -> set[str]:
    return {p for p, _ in problems(data)}


def test_minimal_flow_is_valid() -> None:
    assert problems(flow()) == []


def test_a_flow_must_be_a_mapping() -> None:
    assert problems(["id"])[0][1].startswith("a flow is a YAML mapping")


@pytest.mark.parametrize("key", ["id", "namespace", "tasks"])
def test_required_keys(key: str) -> None:
    data = flow()
    del data[key]
    assert ("", f"missing required key {key!r}") in problems(data)


@pytest.mark.parametrize("value", ["../x", "a/b", "/abs", "x\n", "-lead", "", "with space", "a" * 101])
def test_flow_id_rules(value: str) -> None:
    assert "id" in paths(flow(id=value))


@pytest.mark.parametrize("value", ["Company.team", "a/b", "-x", "x\n", "a" * 151])
def test_namespace_rules(value: str) -> None:
    assert "namespace" in paths(flow(namespace=value))


def test_task_ids_have_no_dots_and_input_ids_may() -> None:
    data = flow(tasks=[{"id": "a.b", "type": LOG, "message": "m"}], inputs=[{"id": "a.b", "type": "STRING"}])
    assert paths(data) == {"tasks[0].id"}


def test_unknown_keys_suggest_the_right_one() -> None:
    found = problems(flow(tasks=[{"id": "t", "type": LOG, "mesage": "x"}], tiggers=[]))
    assert ("tiggers", "unknown key 'tiggers' (did you mean 'triggers'?)") in found
    assert any(p == "tasks[0].mesage" and "did you mean 'message'" in m for p, m in found)


def test_plugin_tasks_we_do_not_know_keep_their_own_properties() -> None:
    data = flow(tasks=[{"id": "q", "type": "io.kestra.plugin.jdbc.postgresql.Query", "sql": "select 1"}])
    assert problems(data) == []


def test_duplicate_yaml_keys_are_invalid() -> None:
    data, found = parse_flow_text("id: a\nnamespace: b\nid: c\ntasks: []\n")
    assert data is None and "duplicate key 'id'" in found[0].message and found[0].line == 3


def test_all_problems_of_a_file_are_reported_at_once() -> None:
    text = ("id: bad id\nnamespace: UPPER\ninputs:\n  - id: f\n    type: FILE\n    defaults: x\n"
            "tasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: m\n"
            "  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: m\n    timeout: 1 hour\n")
    _, found = parse_flow_text(text)
    located = {(p.path, p.line) for p in found}
    assert {("id", 1), ("namespace", 2), ("inputs[0].defaults", 6), ("tasks[1].id", 11),
            ("tasks[1].timeout", 14)} <= located


def test_task_ids_are_unique_across_nested_tasks_and_errors() -> None:
    nested = {"id": "par", "type": "io.kestra.plugin.core.flow.Parallel",
              "tasks": [{"id": "log", "type": LOG, "message": "x"}]}
    data = flow(tasks=[{"id": "log", "type": LOG, "message": "x"}, nested],
                errors=[{"id": "par", "type": LOG, "message": "x"}])
    assert {"tasks[1].tasks[0].id", "errors[0].id"} <= paths(data)


def test_duplicate_trigger_input_and_output_ids() -> None:
    data = flow(triggers=[{"id": "t", "type": SCHEDULE, "cron": "@daily"}] * 2,
                inputs=[{"id": "i", "type": "STRING", "defaults": "x"}] * 2,
                outputs=[{"id": "o", "type": "STRING", "value": "v"}] * 2)
    assert {"triggers[1].id", "inputs[1].id", "outputs[1].id"} <= paths(data)


@pytest.mark.parametrize("flow_id", ["pause", "resume", "force-run", "executions", "kill"])
def test_reserved_flow_ids(flow_id: str) -> None:
    assert any("reserved" in m for _, m in problems(flow(id=flow_id)))


def test_schedule_needs_defaults_for_required_inputs() -> None:
    trigger = {"id": "daily", "type": SCHEDULE, "cron": "0 6 * * *"}
    bad = flow(inputs=[{"id": "day", "type": "DATE"}], triggers=[trigger])
    assert any("required input 'day' has no defaults" in m for _, m in problems(bad))
    for fixed in ({"id": "day", "type": "DATE", "defaults": "2024-01-01"},
                  {"id": "day", "type": "DATE", "required": False}):
        assert problems(flow(inputs=[fixed], triggers=[trigger])) == []
    given = dict(trigger, inputs={"day": "{{ trigger.date }}"})
    assert problems(flow(inputs=[{"id": "day", "type": "DATE"}], triggers=[given])) == []


def test_file_inputs_cannot_have_defaults() -> None:
    assert "inputs[0].defaults" in paths(flow(inputs=[{"id": "f", "type": "FILE", "defaults": "x"}]))


def test_input_type_specific_properties() -> None:
    data = flow(inputs=[{"id": "a", "type": "ARRAY"}, {"id": "b", "type": "ARRAY", "itemType": "ARRAY"},
                        {"id": "c", "type": "INT", "validator": "x"}, {"id": "d", "type": "STRNG"},
                        {"id": "e", "type": "SELECT", "values": ["x"], "isRadio": True}])
    found = problems(data)
    assert ("inputs[0]", "missing required key 'itemType'") in found
    assert "inputs[1].itemType" in paths(data)
    assert "inputs[2].validator" in paths(data)
    assert any(p == "inputs[3].type" and "did you mean 'STRING'" in m for p, m in found)
    assert not any(p.startswith("inputs[4]") for p, _ in found)


def test_depends_on_must_name_inputs_without_cycles() -> None:
    data = flow(inputs=[{"id": "a", "type": "STRING", "dependsOn": {"inputs": ["b"]}},
                        {"id": "b", "type": "STRING", "dependsOn": {"inputs": ["a"]}},
                        {"id": "c", "type": "STRING", "dependsOn": {"inputs": ["zzz"]}}])
    messages = [m for _, m in problems(data)]
    assert any("cycle" in m for m in messages) and any("unknown input 'zzz'" in m for m in messages)


@pytest.mark.parametrize("cron,ok", [("0 6 * * *", True), ("@daily", True), ("*/15 9-17 * * 1-5", True),
                                      ("61 * * * *", False), ("0 6 * *", False), ("@reboot", False),
                                      ("0 6 * * * *", False)])
def test_cron_syntax(cron: str, ok: bool) -> None:
    assert (cron_problem(cron) is None) is ok


def test_cron_with_seconds_takes_six_fields() -> None:
    assert cron_problem("0 0 6 * * *", with_seconds=True) is None


@pytest.mark.parametrize("zone,ok", [("Europe/Paris", True), ("UTC", True), ("+02:00", True),
                                      ("Mars/Olympus", False), ("../../etc/passwd", False)])
def test_time_zones(zone: str, ok: bool) -> None:
    assert (timezone_problem(zone) is None) is ok


def test_schedule_cron_and_zone_are_checked_in_flows() -> None:
    data = flow(triggers=[{"id": "s", "type": SCHEDULE, "cron": "99 * * * *", "timezone": "Nowhere/Land"}])
    assert {"triggers[0].cron", "triggers[0].timezone"} <= paths(data)


@pytest.mark.parametrize("text,seconds", [("PT1M", 60), ("PT1H30M", 5400), ("P1DT2H", 93600), ("PT0.5S", 0.5),
                                           ("P1W", None), ("P1M", None), ("PT", None), ("1 hour", None)])
def test_iso_durations(text: str, seconds: float | None) -> None:
    assert duration_seconds(text) == seconds


def test_durations_are_validated_where_kestra_reads_them() -> None:
    task = {"id": "t", "type": LOG, "message": "m", "timeout": "P1W",
            "retry": {"type": "constant", "interval": "1m", "maxAttempt": 2}}
    assert {"tasks[0].timeout", "tasks[0].retry.interval"} <= paths(flow(tasks=[task]))


def test_retry_interval_must_be_shorter_than_max_duration() -> None:
    retry = {"type": "exponential", "interval": "PT10M", "maxInterval": "PT5M", "maxDuration": "PT5M"}
    found = paths(flow(retry=retry))
    assert {"retry.interval", "retry.maxInterval"} <= found


def test_system_labels_are_reserved() -> None:
    assert "labels.system.foo" in paths(flow(labels={"system.foo": "x", "system.readOnly": "true"}))
    assert paths(flow(labels=[{"key": "system.readOnly", "value": "true"}])) == set()


def test_subflow_cannot_call_itself() -> None:
    sub = {"id": "s", "type": "io.kestra.plugin.core.flow.Subflow", "namespace": "company.team", "flowId": "hello"}
    assert any("own flow" in m for _, m in problems(flow(tasks=[sub])))


def test_switch_needs_a_case() -> None:
    switch = {"id": "s", "type": "io.kestra.plugin.core.flow.Switch", "value": "x", "cases": {"a": []}}
    assert any("Switch" in m for _, m in problems(flow(tasks=[switch])))


def test_hyphenated_ids_in_expressions() -> None:
    task = {"id": "t", "type": LOG, "message": "{{ outputs.my-task.value }}"}
    assert any("subtraction" in m for _, m in problems(flow(tasks=[task])))
    ok = {"id": "t", "type": LOG, "message": "{{ outputs['my-task'].value }}"}
    assert problems(flow(tasks=[ok])) == []


def test_parallel_needs_tasks_and_concurrency_needs_a_limit() -> None:
    data = flow(tasks=[{"id": "p", "type": "io.kestra.plugin.core.flow.Parallel", "tasks": []}],
                concurrency={"behavior": "QUEUE"})
    assert {"tasks[0].tasks", "concurrency"} <= paths(data)


# --- the evaluator agrees with jsonschema ----------------------------------------------------

VALID = {
    "id": "sales", "namespace": "company.team", "description": "d", "labels": {"team": "a"},
    "inputs": [{"id": "day", "type": "DATE", "defaults": "2024-01-01"},
               {"id": "n", "type": "INT", "min": 1, "defaults": 3},
               {"id": "tags", "type": "ARRAY", "itemType": "STRING", "defaults": ["a"]}],
    "tasks": [{"id": "run", "type": "io.kestra.plugin.scripts.python.Commands", "commands": ["echo"],
               "namespaceFiles": {"enabled": True, "include": ["a.ipynb"]}, "timeout": "PT1H",
               "retry": {"type": "constant", "interval": "PT1M", "maxAttempt": 2}},
              {"id": "par", "type": "io.kestra.plugin.core.flow.Parallel",
               "tasks": [{"id": "l", "type": LOG, "message": "x"}]}],
    "triggers": [{"id": "daily", "type": SCHEDULE, "cron": "0 6 * * *", "timezone": "UTC"}],
    "outputs": [{"id": "total", "type": "FLOAT", "value": "{{ outputs.run.vars.total }}"}],
    "concurrency": {"limit": 1},
}


def _all_paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _all_paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _all_paths(item, prefix + (index,))
    return found


_junk = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(
    ["", "x", "PT1M", "P1W", "STRING", "ARRAY", "constant", LOG, SCHEDULE, "a.b", "-x", "@daily"]),
    st.lists(st.sampled_from(["x", 1]), max_size=2), st.builds(dict), st.builds(lambda: {"id": "z", "type": LOG}))


@st.composite
def mutated_flows(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 3))):
        target = draw(st.sampled_from(_all_paths(data)[1:] or [()]))
        parent: Any = data
        for part in target[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete" and isinstance(parent, dict):
            parent.pop(target[-1], None)
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "type", "id", "itemType", "values"]))] = draw(_junk)
        else:
            parent[target[-1]] = draw(_junk)
    return data


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_flows())
def test_schema_evaluator_agrees_with_jsonschema(data: dict[str, Any]) -> None:
    ours = SchemaChecker(FLOW_SCHEMA, MESSAGES).errors(data)
    oracle = list(jsonschema.Draft7Validator(FLOW_SCHEMA).iter_errors(data))
    assert bool(ours) == bool(oracle), (ours, [e.message for e in oracle])


def test_the_valid_sample_is_valid_for_both() -> None:
    assert SchemaChecker(FLOW_SCHEMA, MESSAGES).errors(VALID) == []
    assert list(jsonschema.Draft7Validator(FLOW_SCHEMA).iter_errors(VALID)) == []
    assert problems(VALID) == []
