"""Run parameters: checked and coerced against the flow's typed inputs before any kernel starts.

Values come as text (``-p name=value``, CSV grids) or as typed YAML/JSON values (``-f``, YAML or
JSON grids). Every problem of a parameter set is reported at once.
"""
from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import Problem
from .model import Input, InputType
from .rules import duration_seconds

_TRUE, _FALSE = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}


class TextValue(str):
    """A value written as text (``-p name=value``, a CSV cell): converted to the input's type,
    where a typed YAML/JSON value must already have it."""


class _Bad(ValueError):
    pass


def _boolean(value: Any, text: bool) -> bool:
    if isinstance(value, bool):
        return value
    if text and isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _Bad("expected true or false")


def _integer(value: Any, text: bool) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if text and isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        return int(value)
    raise _Bad("expected a whole number")


def _number(value: Any, text: bool) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if text and isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            if number == number and abs(number) != float("inf"):
                return number
    raise _Bad("expected a number")


def _iso(parse: Callable[[str], Any], what: str) -> Callable[[Any, bool], str]:
    def check(value: Any, text: bool) -> str:
        try:
            parse(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise _Bad(f"expected {what}") from None
        return str(value)
    return check


def _duration(value: Any, text: bool) -> str:
    if isinstance(value, str) and duration_seconds(value) is not None:
        return value
    raise _Bad("expected an ISO-8601 duration such as PT30M")


def _json(value: Any, text: bool) -> Any:
    if text and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise _Bad(f"expected JSON ({exc.args[0].split(':')[0]})") from None
    return value


def _string(value: Any, text: bool) -> str:
    if isinstance(value, str):
        return value
    raise _Bad("expected text")


_COERCE: dict[InputType, Callable[[Any, bool], Any]] = {
    InputType.INT: _integer, InputType.FLOAT: _number, InputType.BOOLEAN: _boolean, InputType.BOOL: _boolean,
    InputType.DATE: _iso(dt.date.fromisoformat, "a date such as 2024-01-31"),
    InputType.DATETIME: _iso(dt.datetime.fromisoformat, "a date and time such as 2024-01-31T06:00:00"),
    InputType.TIME: _iso(dt.time.fromisoformat, "a time such as 06:30:00"), InputType.DURATION: _duration,
    InputType.JSON: _json,
}


def _list(value: Any, text: bool) -> list[Any]:
    if text and isinstance(value, str):
        stripped = value.strip()
        value = _json(stripped, True) if stripped.startswith("[") else [v.strip() for v in stripped.split(",")
                                                                          if v.strip()]
    if not isinstance(value, list):
        raise _Bad("expected a list (JSON, or values separated by commas)")
    return value


def coerce_value(item: Input, value: Any, text: bool) -> Any:
    """``value`` as the notebook should receive it; raises ValueError saying what was expected."""
    if item.type in (InputType.ARRAY, InputType.MULTISELECT):
        inner = item.item_type or InputType.STRING
        values = []
        for index, element in enumerate(_list(value, text)):
            try:
                values.append(_COERCE.get(inner, _string)(element, text and isinstance(element, str)))
            except _Bad as exc:
                raise _Bad(f"item {index}: {exc}") from None
        _check_choices(item, values)
        return values
    result = _COERCE.get(item.type, _string)(value, text)
    if item.type in (InputType.SELECT, InputType.ENUM):
        _check_choices(item, [result])
    _check_bounds(item, result)
    return result


def _check_choices(item: Input, values: list[Any]) -> None:
    if item.values is not None and not item.allow_custom_value:
        wrong = [v for v in values if v not in item.values]
        if wrong:
            raise _Bad(f"{wrong[0]!r} is not one of {', '.join(map(str, item.values))}")


def _check_bounds(item: Input, value: Any) -> None:
    if item.validator and isinstance(value, str) and not re.fullmatch(item.validator, value):
        raise _Bad(f"{value!r} does not match the validator {item.validator}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if item.min is not None and value < item.min:
            raise _Bad(f"{value} is below the minimum {item.min}")
        if item.max is not None and value > item.max:
            raise _Bad(f"{value} is above the maximum {item.max}")


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
            values[item.id] = TextValue(item.defaults) if item.type is InputType.JSON else item.defaults
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
