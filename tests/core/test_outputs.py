"""Outputs are read as Kestra reads them (``PluginUtilsService.parseOut``), and ``kernel_ext.output``
writes only lines Kestra accepts (issue 11, point 3)."""
from __future__ import annotations

import ast
import contextlib
import io
import math
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kernel_ext
from kernel_ext import runtime
from kernel_ext.core.java_values import jackson_value
from kernel_ext.core.outputs import read_outputs

RUNTIME = Path(runtime.__file__)


@pytest.mark.parametrize("text,outputs", [
    ('::{"outputs":{"a":1}}::\n', {"a": 1}),
    ('::{"outputs":{"a":1}}::\r\n::{"outputs":{"a":2,"b":"x"}}::', {"a": 2, "b": "x"}),  # later lines win
    ('::{"outputs":{"a":1,"a":2}}::', {"a": 2}),  # duplicate keys: the last one
    ('::{"outputs":{"a":1}} ignored}::', {"a": 1}),  # Jackson stops after the first value
    ('::{"outputs":{"a":1}}::\u2028', {"a": 1}),  # Java's "$" allows one final line terminator
    ('::{"outputs":{"a":{"b":null,"c":[null]}}}::', {"a": {"c": [None]}}),  # stored without null map entries
    ('::{"outputs":{"a":1},"unknown":true}::', {"a": 1}),  # unknown keys are ignored
    ('::{"outputs":{"a":1e400}}::', {"a": "Infinity"}),  # a Double too large, stored as Jackson writes it
    (' ::{"outputs":{"a":1}}::', {}), ('::{"outputs":{"a":1}}:: ', {}),  # not trimmed: no outputs line
    ('x ::{"outputs":{"a":1}}::', {}), ('::{"outputs":{"a":1}}::\u2028\u2028', {}),
])
def test_lines_are_read_as_kestra_reads_them(text: str, outputs: dict[str, Any]) -> None:
    read = read_outputs(text)
    assert read.outputs == outputs and read.warnings == ()


@pytest.mark.parametrize("line,why", [
    ('::{"outputs":{"x":NaN,"y":1}}::', "NaN"), ('::{"outputs":{"x":Infinity}}::', "Infinity"),
    ('::{"outputs":{"x":-Infinity}}::', "-Infinity"), ("::{'outputs':{}}::", "Expecting property name"),
    ('::{"outputs":[1]}::', '"outputs" is not an object'), ('::{"outputs":{},"metrics":{}}::', '"metrics"'),
    ('::{"outputs":{"x":1},"metrics":[{"name":"m"}]}::', "a metric has no type"),
])
def test_a_line_kestra_drops_is_dropped_with_a_warning(line: str, why: str) -> None:
    read = read_outputs(f'::{{"outputs":{{"kept":1}}}}::\n{line}\n')
    assert read.outputs == {"kept": 1}
    assert len(read.warnings) == 1 and why in read.warnings[0] and "dropped" in read.warnings[0]


def test_a_null_output_is_not_kept_and_says_so() -> None:
    read = read_outputs('::{"outputs":{"x":null,"y":2}}::')
    assert read.outputs == {"y": 2} and read.warnings == ("output 'x' is null: Kestra does not keep it",)


def _printed(**values: Any) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        kernel_ext.output(**values)
    return out.getvalue()


_data = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                               st.text()),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                     max_leaves=10)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), _data, max_size=4))
def test_what_output_writes_kestra_reads_whole(values: dict[str, Any]) -> None:
    read = read_outputs(_printed(**values))
    assert read.outputs == jackson_value({k: v for k, v in values.items()})
    assert all("dropped" not in w for w in read.warnings)


@pytest.mark.parametrize("values,where", [
    ({"x": math.nan}, "output x is nan"), ({"x": math.inf}, "output x is inf"),
    ({"c": {"a": [1, -math.inf]}}, "output c['a'][1] is -inf"),
])
def test_output_refuses_nan_and_infinities_at_the_call(values: dict[str, Any], where: str) -> None:
    with pytest.raises(ValueError, match=r"Kestra") as error:
        _printed(**values)
    assert str(error.value).startswith(where)


def test_output_writes_numbers_of_other_libraries_as_numbers() -> None:
    numpy = pytest.importorskip("numpy")
    line = _printed(i=numpy.int64(3), f=numpy.float32(0.5), t=(1, 2), q=Fraction(1, 4), o=Path("a"))
    assert read_outputs(line).outputs == {"i": 3, "f": 0.5, "t": [1, 2], "q": 0.25, "o": "a"}
    with pytest.raises(ValueError):
        _printed(n=numpy.float64("nan"))


def test_the_shipped_module_is_the_package_helper_and_stands_alone() -> None:
    """kernel_ext/runtime.py travels with the flows: one source, the standard library only, and no
    text Kestra would render as Pebble in an inputFiles entry."""
    assert kernel_ext.output is runtime.output
    text = RUNTIME.read_text(encoding="utf-8")
    imported = {alias.name.split(".")[0] for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(ast.parse(text))
                 if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}
    assert not any(node.level for node in ast.walk(ast.parse(text)) if isinstance(node, ast.ImportFrom))
    assert not any(mark in text for mark in ("{{", "{%", "{#"))
