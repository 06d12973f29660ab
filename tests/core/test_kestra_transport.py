"""Every input type reaches the notebook in Kestra with the value ``nbops run`` hands papermill.

For each row of the type table, a value goes two ways:

- Kestra's: typed as ``FlowInputOutput.parseType`` types it, written into ``params.json`` by the
  task's real template (``core/tasks.params_template``) with Jackson's ``toJson``
  (tests/kestra_jackson.py, an emulator written from Kestra's and Jackson's sources), re-written by
  the task's real command (``PARAMS_TO_YAML``, the very program text the emitted YAML runs) and read
  by papermill's own parameter-file reader (``papermill.iorw.read_yaml_file``, what its CLI's
  ``--parameters_file`` calls);
- nbops run's: ``coerce_parameters``, whose values go to ``papermill.execute_notebook``.

Both must give the same Python value, type included (``-0.0`` is not ``0.0``, ``1`` is not ``1.0``).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import re
import tempfile
from pathlib import Path
from typing import Any

import kestra_jackson as kj
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel_ext.core.input_types import TYPE_TABLE
from kernel_ext.core.java_values import FLOAT_MAX
from kernel_ext.core.model import Input, InputType
from kernel_ext.core.param_values import TextValue, coerce_parameters
from kernel_ext.core.tasks import PARAMS_FILE, PARAMS_TO_YAML, PARAMS_YAML, input_source, params_template

_T = InputType
_TEXT_TYPES = (_T.STRING, _T.SECRET, _T.EMAIL, _T.URI, _T.SELECT, _T.ENUM, _T.FILE, _T.FORM)
_ITEM_TYPES = (_T.STRING, _T.INT, _T.FLOAT, _T.BOOLEAN, _T.DATE, _T.DATETIME, _T.TIME)
_SLOT = re.compile(r"\{\{ \(inputs\.(\w+) \?\? null\) \| toJson \}\}")

# text with what breaks naive transports: quotes, newlines, braces, backslashes, YAML and JSON syntax
_tricky_text = st.one_of(
    st.text(),
    st.sampled_from(['{{ inputs.x }}', "{% raw %}", "a\\nb", 'say "hi"', "it's", "line\nbreak", "tab\t",
                     "1.23456785E7", "1e7", "0x1F", "yes", "null", "~", "- a", "key: value", "[1, 2]", "{}",
                     "2024-01-31", "\u2028\u0085", "é ü 漢字 🎉", "", " ", "\\", "#comment"]),
)
_java_floats = st.one_of(
    st.floats(-FLOAT_MAX, FLOAT_MAX),
    st.sampled_from([12345678.5, 1e-7, 1e7, 9999999.5, 1e-3, 0.000999, 3.4028234663852886e38, 1.4e-45, 1e-45,
                     0.1, -0.0, 0.0, 16777217.0, 1.0]),
)
_doubles = st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                     st.sampled_from([12345678.5, 1e-7, 1e300, 5e-324, -0.0, 1e22, 1e23, 123456789012345678.0]))
_ints = st.one_of(st.integers(-2**31, 2**31 - 1), st.sampled_from([-2**31, 2**31 - 1, 0]))
_json_data = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), _doubles, _tricky_text),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_tricky_text, inner, max_size=3), max_leaves=10)
_offsets = st.integers(-18 * 60, 18 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
_moments = st.datetimes(min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31), timezones=_offsets)


def _item(kind: InputType) -> st.SearchStrategy[tuple[Any, Any]]:
    """(JSON value of a list element as given, the Java value Kestra makes of it)."""
    if kind is _T.STRING:
        return _tricky_text.map(lambda t: (t, t))
    if kind is _T.INT:
        return _ints.map(lambda i: (i, i))
    if kind is _T.FLOAT:  # Float.valueOf(element.toString()): the Double's Java text
        return _java_floats.map(lambda x: (x, kj.JFloat(kj.java_float_value_of(kj.double_to_string(x)))))
    if kind is _T.BOOLEAN:
        return st.booleans().map(lambda b: (b, b))
    if kind is _T.DATE:
        return st.dates(min_value=dt.date(1, 1, 1)).map(lambda d: (d.isoformat(), d.isoformat()))
    if kind is _T.DATETIME:
        return _moments.map(lambda m: (m.isoformat(), kj.instant(m)))
    return st.times().map(lambda t: (t.isoformat(), kj.local_time(t)))


@st.composite
def given_and_kestra(draw: st.DrawFn, kind: InputType) -> tuple[Input, Any, Any]:
    """An input of ``kind``, the value given for it (text, as ``-p`` or Kestra's API take it), and
    the Java value Kestra's ``parseType`` makes of it (None: no value, for an optional input)."""
    row = next(r for r in TYPE_TABLE if r.type is kind)
    if draw(st.integers(0, 9)) == 0:
        return Input("x", kind, required=False, item_type=_T.STRING if row.items else None), None, None
    if kind in _TEXT_TYPES:
        text = draw(_tricky_text)
        return Input("x", kind), TextValue(text), text
    if kind is _T.INT:
        number = draw(_ints)
        return Input("x", kind), TextValue(str(number)), number
    if kind is _T.FLOAT:
        number = draw(_java_floats)
        text = draw(st.sampled_from([repr(number), kj.double_to_string(number)]))
        return Input("x", kind), TextValue(text), kj.JFloat(kj.java_float_value_of(text))
    if kind in (_T.BOOLEAN, _T.BOOL):
        flag = draw(st.booleans())
        return Input("x", kind), TextValue(str(flag).lower()), flag
    if kind is _T.DATETIME:
        moment = draw(_moments)
        return Input("x", kind), TextValue(moment.isoformat()), kj.instant(moment)
    if kind is _T.DATE:
        day = draw(st.dates(min_value=dt.date(1, 1, 1)))
        return Input("x", kind), TextValue(day.isoformat()), day.isoformat()
    if kind is _T.TIME:
        moment = draw(st.times())
        return Input("x", kind), TextValue(moment.isoformat()), kj.local_time(moment)
    if kind is _T.DURATION:
        delta = draw(st.timedeltas(min_value=dt.timedelta(days=-10**6), max_value=dt.timedelta(days=10**6)))
        return Input("x", kind), TextValue(kj.iso_duration(delta)), kj.duration(delta)
    if kind is _T.JSON:
        text = json.dumps(draw(_json_data), ensure_ascii=draw(st.booleans()))
        return Input("x", kind), TextValue(text), kj.java_json(text)
    if kind is _T.YAML:  # Jackson's YAML reader, approximated by a YAML 1.1 loader without timestamps
        text = yaml.safe_dump(draw(_json_data), allow_unicode=True)
        return Input("x", kind), TextValue(text), yaml.load(text, Loader=_NoDates)
    item_type = _T.STRING if kind is _T.MULTISELECT else draw(st.sampled_from(_ITEM_TYPES))
    pairs = draw(st.lists(_item(item_type), max_size=4))
    text = json.dumps([given for given, _ in pairs])
    return Input("x", kind, item_type=item_type), TextValue(text), [java for _, java in pairs]


class _NoDates(yaml.SafeLoader):
    yaml_implicit_resolvers = {k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"]  # noqa: RUF012
                               for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def kestra_task_reads(java_values: dict[str, Any]) -> dict[str, Any]:
    """What papermill gets in the Kestra task: the real template rendered with Jackson's output, the
    real conversion program run in the task's folder, papermill's own reader."""
    from papermill.iorw import read_yaml_file

    template = params_template({name: input_source(name) for name in java_values})
    rendered = _SLOT.sub(lambda m: kj.to_json_filter(java_values[m.group(1)]), template)
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        Path(PARAMS_FILE).write_text(rendered, encoding="utf-8")
        exec(compile(PARAMS_TO_YAML, "<the task's python -c>", "exec"), {})  # noqa: S102 - our own static program
        return read_yaml_file(PARAMS_YAML)


def nbops_run_passes(item: Input, given: Any) -> dict[str, Any]:
    values, problems = coerce_parameters([item], {item.id: given})
    assert problems == [], problems
    return values


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (floats by their exact bits)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a.hex() == b.hex() if not math.isnan(a) else math.isnan(b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


@pytest.mark.parametrize("kind", [row.type for row in TYPE_TABLE], ids=lambda k: k.value)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_type_reaches_the_notebook_in_kestra_as_nbops_run_passes_it(kind: InputType, data: st.DataObject) -> None:
    item, given, java = data.draw(given_and_kestra(kind))
    local = nbops_run_passes(item, given)
    in_kestra = kestra_task_reads({item.id: java})
    assert same(in_kestra, local), (in_kestra, local)


@pytest.mark.parametrize("number", [12345678.5, 1e-7, 1e7, 123456789.0, 0.1, -0.0, 3e38, 1.4e-45])
def test_a_float_default_reaches_the_notebook_as_kestra_32_bit_float_gives_it(number: float) -> None:
    """A FLOAT default from the flow YAML is a Double to Kestra, turned into a Float through its
    text (``Float.valueOf(current.toString())``): nbops run passes the value that Float writes."""
    item = Input("x", _T.FLOAT, defaults=number)
    java = kj.JFloat(kj.java_float_value_of(kj.double_to_string(number)))
    assert same(kestra_task_reads({"x": java}), nbops_run_passes(item, number))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_several_parameters_travel_together(data: st.DataObject) -> None:
    kinds = data.draw(st.lists(st.sampled_from([row.type for row in TYPE_TABLE]), min_size=1, max_size=5))
    items, given, java = [], {}, {}
    for index, kind in enumerate(kinds):
        item, value, kestra = data.draw(given_and_kestra(kind))
        name = f"p{index}"
        items.append(Input(name, item.type, required=item.required, item_type=item.item_type))
        given[name], java[name] = value, kestra
    values, problems = coerce_parameters(items, given)
    assert problems == []
    assert same(kestra_task_reads(java), values)


def test_the_old_transport_changed_the_values() -> None:
    """What the task did before: papermill read params.json itself, as YAML 1.1."""
    from papermill.iorw import read_yaml_file

    rendered = _SLOT.sub(lambda m: kj.to_json_filter(12345678.5), params_template({"big": input_source("big")}))
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        Path(PARAMS_FILE).write_text(rendered, encoding="utf-8")
        assert read_yaml_file(PARAMS_FILE) == {"big": "1.23456785E7"}  # a string: the notebook failed
    assert kestra_task_reads({"big": 12345678.5}) == {"big": 12345678.5}


def test_parameters_reach_papermill_in_the_notebook_order() -> None:
    """papermill injects the parameters in the file's order: the task keeps the order Kestra rendered
    (the notebook's), as nbops run passes them, so the injected cell reads the same in both."""
    order = ["zeta", "alpha", "mid", "beta"]
    read = kestra_task_reads({name: index for index, name in enumerate(order)})
    assert list(read) == order
