"""Safe YAML: duplicate keys, tags, alias bombs, sizes, line numbers, deterministic dumps."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel_ext.core.yamlsafe import YamlProblem, dump_yaml, format_path, load_yaml


def problem_of(text: str, **kwargs: int) -> str:
    with pytest.raises(YamlProblem) as info:
        load_yaml(text, **kwargs)
    return info.value.problem.render("f.yml")


def test_lines_are_recorded_for_every_field() -> None:
    loaded = load_yaml("id: a\ntasks:\n  - id: t\n    retry:\n      interval: PT1M\n")
    assert loaded.line_of(("tasks", 0, "retry", "interval")) == 5
    assert loaded.line_of(("tasks", 0, "retry", "missing")) == 4  # nearest known ancestor


def test_duplicate_keys_are_refused_with_their_line() -> None:
    text = problem_of("id: a\nnamespace: b\nid: c\n")
    assert "line 3" in text and "duplicate key 'id'" in text


def test_nested_duplicate_key_names_the_field_path() -> None:
    text = problem_of("tasks:\n- id: a\n  type: x\n  type: y\n")
    assert "tasks[0].type" in text and "line 4" in text


@pytest.mark.parametrize("text", [
    "a: !!python/object/apply:os.system ['echo hi']\n",
    "a: !!python/name:os.system\n",
    "a: !custom value\n",
    "a: !!binary aGk=\n",
])
def test_non_standard_tags_are_refused(text: str) -> None:
    assert "is not allowed" in problem_of(text)


def test_alias_bomb_is_stopped() -> None:
    layers = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        layers.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    assert "alias bomb" in problem_of("\n".join(layers) + "\n")


def test_recursive_alias_is_stopped() -> None:
    assert "recursive alias" in problem_of("a: &x\n  b: *x\n")


def test_huge_text_is_refused_before_parsing() -> None:
    assert "larger than" in problem_of("a: " + "x" * 2048 + "\n", max_bytes=1024)


def test_syntax_error_has_a_line() -> None:
    assert "line 2" in problem_of("a: 1\nb: c: d\n")


def test_dates_stay_text_as_in_kestra() -> None:
    assert load_yaml("d: 2024-01-01\n").data == {"d": "2024-01-01"}


def test_format_path() -> None:
    assert format_path(("tasks", 0, "retry", "interval")) == "tasks[0].retry.interval"
    assert format_path(()) == ""


def test_dump_is_deterministic_and_keeps_key_order() -> None:
    data = {"id": "x", "namespace": "a", "description": "two\nlines\n", "tasks": [{"id": "t", "type": "T"}]}
    text = dump_yaml(data)
    assert text == dump_yaml(dict(data))
    assert text.index("id:") < text.index("namespace:") < text.index("tasks:")
    assert "description: |" in text


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                     st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40))
_values = st.recursive(_scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(min_size=1, max_size=12), children, max_size=4)),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=12), _values, max_size=6))
def test_dump_then_load_round_trips(data: dict) -> None:
    assert load_yaml(dump_yaml(data)).data == data
