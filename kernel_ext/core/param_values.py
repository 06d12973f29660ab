"""Run parameters: checked and coerced against the flow's typed inputs before any kernel starts.

Values come as text (``-p name=value``, CSV grids) or as typed YAML/JSON values (``-f``, YAML or
JSON grids). Every problem of a parameter set is reported at once.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import Problem
from .input_types import BadValue, element_row, type_row
from .java_values import duration_seconds_value
from .model import Input, InputType


class TextValue(str):
    """A value written as text (``-p name=value``, a CSV cell): converted to the input's type,
    where a typed YAML/JSON value must already have it."""


def coerce_value(item: Input, value: Any, text: bool) -> Any:
    """``value`` as the notebook should receive it; raises ValueError saying what was expected."""
    row = type_row(item.type)
    if row.items:
        parse = element_row(item.item_type or InputType.STRING).parse
        values = []
        for index, element in enumerate(row.parse(value, text)):
            try:
                values.append(parse(element, text and isinstance(element, str)))
            except BadValue as exc:
                raise BadValue(f"item {index}: {exc}") from None
        _check_choices(item, values)
        return values
    result = row.parse(value, text)
    if row.choices:
        _check_choices(item, [result])
    _check_bounds(item, result)
    return result


def _check_choices(item: Input, values: list[Any]) -> None:
    if item.values is not None and not item.allow_custom_value:
        wrong = [v for v in values if v not in item.values]
        if wrong:
            raise BadValue(f"{wrong[0]!r} is not one of {', '.join(map(str, item.values))}")


def _check_bounds(item: Input, value: Any) -> None:
    if item.validator and isinstance(value, str) and not re.fullmatch(item.validator, value):
        raise BadValue(f"{value!r} does not match the validator {item.validator}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        low, high = _bound(item, item.min), _bound(item, item.max)
        if low is not None and value < low:
            raise BadValue(f"{value} is below the minimum {item.min}")
        if high is not None and value > high:
            raise BadValue(f"{value} is above the maximum {item.max}")


def _bound(item: Input, bound: Any) -> Any:
    """A min/max in the unit of the value: a DURATION's (``PT10S``) in seconds, as its value is."""
    if item.type is InputType.DURATION and isinstance(bound, str):
        try:
            return duration_seconds_value(bound)
        except ValueError:
            return None
    return bound


def coerce_parameters(inputs: Sequence[Input], given: Mapping[str, Any],
                      where: str = "") -> tuple[dict[str, Any], list[Problem]]:
    """Checked and typed values of ``given`` (the notebook keeps its own value for the rest), and
    every problem: unknown names, wrong types, missing required inputs."""
    by_name = {i.id: i for i in inputs}
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, value in given.items():
        item = by_name.get(name)
        if item is None:
            close = difflib.get_close_matches(name, list(by_name), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "inputs: " + (", ".join(by_name) or "none")
            problems.append(Problem(f"unknown parameter {name!r}", f"{where}{name}", hint=hint))
            continue
        if value is None and not item.required:  # an optional input left empty: Kestra sends null too
            values[name] = None
            continue
        try:
            values[name] = coerce_value(item, value, isinstance(value, TextValue))
        except ValueError as exc:
            problems.append(Problem(f"{exc} ({item.type.value} input)", f"{where}{name}"))
    for item in inputs:
        if item.required and item.defaults is None and item.id not in given:
            problems.append(Problem(f"required input {item.id!r} ({item.type.value}) has no value", f"{where}{item.id}",
                                    hint=f"pass -p {item.id}=VALUE"))
    return values, problems


def with_defaults(inputs: Sequence[Input], given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` plus the flow's ``defaults`` for the rest, as Kestra passes every input (a header
    override of a default wins over the parameters cell's value, in Kestra and locally alike)."""
    values = dict(given)
    for item in inputs:
        if item.id not in values and item.defaults is not None:
            values[item.id] = TextValue(item.defaults) if type_row(item.type).json_defaults else item.defaults
    return values


def parse_assignments(pairs: Sequence[str]) -> tuple[dict[str, TextValue], list[Problem]]:
    """``["a=1", "b=x=y"]`` → ``{"a": "1", "b": "x=y"}``; a pair without ``=`` is a problem."""
    values: dict[str, TextValue] = {}
    problems = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            problems.append(Problem(f"-p {pair!r} is not NAME=VALUE", hint="e.g. -p region=eu -p top_n=5"))
        else:
            values[name.strip()] = TextValue(value)
    return values, problems
