"""The type table: a row for every Kestra input type, and each row's writers and parsers agree."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel_ext.core.input_types import (
    TYPE_TABLE,
    WidgetKind,
    flow_default,
    type_row,
    value_text,
    widget_kind,
)
from kernel_ext.core.java_values import FLOAT_MAX
from kernel_ext.core.model import Input, InputType
from kernel_ext.core.parameters_cell import parse_parameters
from kernel_ext.core.param_values import TextValue, coerce_value
from kernel_ext.core.rules import JAVA_INT_MAX, JAVA_INT_MIN
from kernel_ext.core.notebook_template import parameters_source

_T = InputType
_floats = st.floats(allow_nan=False, allow_infinity=False)
_kestra_floats = st.floats(-FLOAT_MAX, FLOAT_MAX)  # a FLOAT input is a 32-bit Java Float
_json = st.recursive(st.one_of(st.booleans(), st.integers(), _floats, st.text(max_size=10)),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                  max_size=3), max_leaves=8)
# what the notebook receives, per type (text types hold any text)
_SCALARS: dict[InputType, st.SearchStrategy[Any]] = {
    _T.INT: st.integers(JAVA_INT_MIN, JAVA_INT_MAX), _T.FLOAT: _kestra_floats, _T.BOOLEAN: st.booleans(), _T.BOOL: st.booleans(),
    _T.DATETIME: st.datetimes(timezones=st.just(dt.timezone.utc)).map(lambda d: d.isoformat()), _T.DATE: st.dates().map(lambda d: d.isoformat()),
    _T.TIME: st.times().map(lambda t: t.isoformat()), _T.DURATION: st.integers(1, 10**6).map(lambda n: f"PT{n}S"),
    _T.JSON: _json,
    **{kind: st.text() for kind in (_T.STRING, _T.FILE, _T.YAML, _T.URI, _T.EMAIL, _T.SECRET, _T.FORM)},
}
_ITEM_TYPES = (_T.STRING, _T.INT, _T.FLOAT, _T.BOOLEAN, _T.DATE, _T.DATETIME, _T.TIME)


@st.composite
def inputs_and_values(draw: st.DrawFn) -> tuple[Input, Any]:
    """An input of any type holding a value of that type as its default."""
    kind = draw(st.sampled_from(list(InputType)))
    row = type_row(kind)
    if row.choices:
        choices = draw(st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=4, unique=True))
        value = draw(st.lists(st.sampled_from(choices), unique=True) if row.items else st.sampled_from(choices))
        return Input("x", kind, defaults=value, values=tuple(choices)), value
    if row.items:
        item_type = draw(st.sampled_from(_ITEM_TYPES))
        value = draw(st.lists(_SCALARS[item_type], max_size=4))
        return Input("x", kind, defaults=value, item_type=item_type), value
    value = draw(_SCALARS[kind])
    return Input("x", kind, defaults=flow_default(kind, value)), value


def test_every_input_type_has_one_row() -> None:
    kinds = [row.type for row in TYPE_TABLE]
    assert sorted(kinds) == sorted(InputType) and len(set(kinds)) == len(kinds)


@settings(max_examples=400, deadline=None)
@given(inputs_and_values())
def test_a_value_written_in_a_parameters_cell_parses_back(case: tuple[Input, Any]) -> None:
    item, value = case
    params, problems = parse_parameters(parameters_source([item]))
    assert problems == [] and len(params) == 1
    assert params[0].value == value and params[0].has_default


@settings(max_examples=400, deadline=None)
@given(inputs_and_values())
def test_a_value_as_text_and_as_itself_reach_the_notebook_alike(case: tuple[Input, Any]) -> None:
    """``-p x=TEXT`` and a typed value give the notebook the same value: the one Kestra would pass
    (tests/core/test_kestra_transport.py checks that one against Kestra's writer)."""
    item, value = case
    assert _outcome(item, TextValue(value_text(item.defaults)), True) == _outcome(item, value, False)


def _outcome(item: Input, value: Any, text: bool) -> Any:
    try:
        return coerce_value(item, value, text)
    except ValueError:
        return ValueError


@pytest.mark.parametrize("item,kind", [
    (Input("x", _T.INT, defaults=3), WidgetKind.INT), (Input("x", _T.INT), WidgetKind.TEXT),
    (Input("x", _T.FLOAT, defaults=3), WidgetKind.FLOAT), (Input("x", _T.FLOAT, defaults="a"), WidgetKind.TEXT),
    (Input("x", _T.SELECT, values=("a",)), WidgetKind.DROPDOWN), (Input("x", _T.ENUM), WidgetKind.TEXT),
    (Input("x", _T.BOOL), WidgetKind.CHECKBOX), (Input("x", _T.DATE), WidgetKind.DATE),
    (Input("x", _T.MULTISELECT, values=("a",)), WidgetKind.TEXT), (Input("x", _T.JSON), WidgetKind.TEXT),
])
def test_a_widget_that_cannot_hold_the_default_gives_way_to_text(item: Input, kind: WidgetKind) -> None:
    assert widget_kind(item) is kind
