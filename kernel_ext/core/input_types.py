"""The one table of Kestra input types: what each type means to every layer that handles values.

A row per :class:`InputType` says which annotations and literal values of a parameters cell infer
it, how a value becomes what the notebook receives (text from ``-p``, grids and the Lab panel, or a
typed YAML/JSON value), how a parameters cell annotates it (``nbops new --from-flow``), which widget
shows it, and whether its defaults are JSON text in the flow YAML. The parameters cell parser, run
parameters, the scaffold, the converter and the Lab's widgets read rows instead of branching on types:
adding a type is adding a row (as jupytext keeps its notebook formats in one table).
"""
from __future__ import annotations

import builtins
import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

import yaml

from .java_values import (
    duration_seconds_value,
    instant_text,
    jackson_value,
    kestra_float,
    local_date_text,
    local_time_text,
)
from .model import Input, InputType
from .rules import INT_RANGE_HINT, JAVA_INT_MAX, JAVA_INT_MIN, int_out_of_range

_TRUE, _FALSE = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?\Z")


class BadValue(ValueError):
    """A value that does not fit its input's type; the message says what was expected."""


# A parser turns a value into what the notebook receives; its flag says the value was written as text
# (``-p``, a CSV cell, a text box), which may be converted, where a typed YAML/JSON value must already fit.
Parse = Callable[[Any, bool], Any]


def _boolean(value: Any, text: bool) -> bool:
    if isinstance(value, bool):
        return value
    if text and isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise BadValue("expected true or false")


def _integer(value: Any, text: bool) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif text and isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        number = int(value)
    else:
        raise BadValue("expected a whole number")
    if int_out_of_range(number):  # Kestra's INT is a Java Integer (see core/kestra_values.py)
        raise BadValue(f"{number} is outside Kestra's INT range ({JAVA_INT_MIN}..{JAVA_INT_MAX}, a Java Integer); "
                       f"{INT_RANGE_HINT}")
    return number


def _number(value: Any, text: bool) -> float:
    """A FLOAT as Kestra passes it: a 32-bit Java ``Float`` written by ``Float.toString`` (java_values)."""
    if isinstance(value, str) and not text:
        raise BadValue("expected a number")
    try:
        return kestra_float(value)
    except ValueError as exc:
        raise BadValue(str(exc)) from None


def _java_text(parse: Callable[[str], Any], what: str) -> Parse:
    """A java.time value as Kestra writes it (java_values): text, or a date/time object's ISO text."""
    def check(value: Any, text: bool) -> Any:
        if isinstance(value, dt.date | dt.time):
            value = value.isoformat()
        if not isinstance(value, str):
            raise BadValue(f"expected {what}")
        try:
            return parse(str(value))  # plain text, also for a TextValue
        except ValueError as exc:
            raise BadValue(str(exc) if str(exc).startswith("expected") else f"expected {what}: {exc}") from None
    return check


def _strict_json(text: str) -> Any:
    """JSON as Jackson reads it: no NaN or Infinity (``ALLOW_NON_NUMERIC_NUMBERS`` is off)."""
    def refuse(token: str) -> Any:
        raise ValueError(f"{token} is not JSON")
    return json.loads(text, parse_constant=refuse)


def _json(value: Any, text: bool) -> Any:
    """A JSON input as the notebook receives it from Kestra (parsed, then written by Jackson)."""
    if text and isinstance(value, str):
        try:
            value = _strict_json(value)
        except ValueError as exc:
            raise BadValue(f"expected JSON ({exc.args[0].split(':')[0]})") from None
    return jackson_value(value)


class _NoDatesLoader(yaml.SafeLoader):
    """YAML without timestamps: Jackson's YAML reader keeps dates as text."""

    yaml_implicit_resolvers: ClassVar = {k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"]
                               for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def _yaml(value: Any, text: bool) -> Any:
    """A YAML input: Kestra parses the text (``FlowInputOutput.parseType``, case YAML) and hands the
    notebook the data, written by Jackson."""
    if isinstance(value, str):
        try:
            value = yaml.load(value, Loader=_NoDatesLoader)
        except yaml.YAMLError as exc:
            raise BadValue(f"expected YAML ({str(exc).splitlines()[0]})") from None
    return jackson_value(value)


def _string(value: Any, text: bool) -> str:
    if isinstance(value, str):
        return str(value)  # plain text, also for a TextValue
    raise BadValue("expected text")


def _list(value: Any, text: bool) -> list[Any]:
    """The list itself; its elements are parsed by the row of the input's item type."""
    if text and isinstance(value, str):
        stripped = value.strip()
        value = _json(stripped, True) if stripped.startswith("[") else [v.strip() for v in stripped.split(",")
                                                                          if v.strip()]
    if not isinstance(value, list):
        raise BadValue("expected a list (JSON, or values separated by commas)")
    return value


def _is_date_text(text: str) -> bool:
    if not _ISO_DATE.match(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_datetime_text(text: str) -> bool:
    return _ISO_DATETIME.match(text) is not None


class WidgetKind(StrEnum):
    """The Lab widget that shows an input (the Lab maps each to an ipywidgets class)."""

    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    CHECKBOX = "checkbox"
    DATE = "date"
    DROPDOWN = "dropdown"


@dataclass(frozen=True)
class TypeRow:
    """What one Kestra input type means to nbops."""

    type: InputType
    parse: Parse = _string  # a value (text, or typed) → what the notebook receives
    annotation: str = "str"  # how a parameters cell annotates it; a list's is ``list[<item's>]``
    annotation_import: str | None = None  # the line a parameters cell needs for that annotation
    infers_from: tuple[str, ...] = ()  # annotation names that give this type
    python_types: tuple[builtins.type, ...] = ()  # literal values of these classes give this type
    recognises: Callable[[str], bool] | None = None  # text literals that give this type rather than STRING
    accepts: frozenset[InputType] = frozenset()  # under this annotation, values inferred as these fit too
    widget: WidgetKind = WidgetKind.TEXT
    choices: bool = False  # its values are picked from the input's ``values``
    items: bool = False  # a list whose elements have the input's ``item_type``
    json_defaults: bool = False  # its defaults are JSON text in the flow YAML, as Kestra reads them

    def fits(self, inferred: InputType) -> bool:
        """Whether a literal inferred as ``inferred`` may stand under this type's annotation."""
        return inferred is self.type or inferred in self.accepts


_T = InputType
TYPE_TABLE: tuple[TypeRow, ...] = (
    TypeRow(_T.STRING, infers_from=("str",), python_types=(str,), accepts=frozenset({_T.DATE, _T.DATETIME})),
    TypeRow(_T.INT, _integer, "int", infers_from=("int",), python_types=(int,), widget=WidgetKind.INT),
    TypeRow(_T.FLOAT, _number, "float", infers_from=("float",), python_types=(float,), accepts=frozenset({_T.INT}),
            widget=WidgetKind.FLOAT),
    TypeRow(_T.BOOLEAN, _boolean, "bool", infers_from=("bool",), python_types=(bool,), widget=WidgetKind.CHECKBOX),
    TypeRow(_T.BOOL, _boolean, "bool", widget=WidgetKind.CHECKBOX),
    TypeRow(_T.DATETIME, _java_text(instant_text, "a date and time such as 2024-01-31T06:00:00Z"), "datetime",
            "from datetime import datetime", infers_from=("datetime",), recognises=_is_datetime_text,
            accepts=frozenset({_T.DATE})),
    TypeRow(_T.DATE, _java_text(local_date_text, "a date such as 2024-01-31"), "date", "from datetime import date",
            infers_from=("date",), recognises=_is_date_text, widget=WidgetKind.DATE),
    TypeRow(_T.TIME, _java_text(local_time_text, "a time such as 06:30:00"), "time", "from datetime import time",
            infers_from=("time",), accepts=frozenset({_T.STRING})),
    TypeRow(_T.DURATION, _java_text(duration_seconds_value, "an ISO-8601 duration such as PT30M")),
    TypeRow(_T.FILE),
    TypeRow(_T.JSON, _json, "dict", infers_from=("dict", "Dict", "Any"), accepts=frozenset(InputType),
            json_defaults=True),
    TypeRow(_T.YAML, _yaml),
    TypeRow(_T.URI),
    TypeRow(_T.EMAIL),
    TypeRow(_T.SECRET),
    TypeRow(_T.ARRAY, _list, "list", infers_from=("list", "List", "tuple"), accepts=frozenset({_T.JSON}), items=True),
    TypeRow(_T.SELECT, choices=True, widget=WidgetKind.DROPDOWN),
    TypeRow(_T.MULTISELECT, _list, "list", choices=True, items=True),
    TypeRow(_T.ENUM, choices=True, widget=WidgetKind.DROPDOWN),
    TypeRow(_T.FORM),
)
_ROWS = {row.type: row for row in TYPE_TABLE}
_BY_ANNOTATION = {name: row.type for row in TYPE_TABLE for name in row.infers_from}
_BY_CLASS = {cls: row.type for row in TYPE_TABLE for cls in row.python_types}
LITERAL_IMPORT = "from typing import Literal"  # for the annotation of an input with choices


def type_row(kind: InputType) -> TypeRow:
    return _ROWS[kind]


def annotated_type(name: str) -> InputType | None:
    """The type an annotation name (``int``, ``list``, ``date``...) gives, None for an unknown name."""
    return _BY_ANNOTATION.get(name)


def scalar_type(value: Any) -> InputType | None:
    """The type of a scalar literal by its class (the most specific one: ``True`` is BOOLEAN, not INT)."""
    return next((_BY_CLASS[cls] for cls in type(value).__mro__ if cls in _BY_CLASS), None)


def text_type(text: str) -> InputType | None:
    """The type a text literal is recognised as (``'2024-01-31'`` is a DATE), None for plain text."""
    return next((row.type for row in TYPE_TABLE if row.recognises is not None and row.recognises(text)), None)


def element_row(kind: InputType) -> TypeRow:
    """The row a list's elements of type ``kind`` are parsed and annotated by: lists do not nest,
    a list element of a list type is taken as text."""
    row = type_row(kind)
    return type_row(InputType.STRING) if row.items else row


# a widget that cannot show "no value" needs a default of these classes, else the input gets a text box
_WIDGET_HOLDS: dict[WidgetKind, tuple[type, ...]] = {WidgetKind.INT: (int,), WidgetKind.FLOAT: (int, float)}


def widget_kind(item: Input) -> WidgetKind:
    """The widget that shows ``item``: its type's, or a text box when that widget cannot hold the
    input's default (a number box) or has nothing to offer (a dropdown without values)."""
    kind = type_row(item.type).widget
    if kind is WidgetKind.DROPDOWN and not item.values:
        return WidgetKind.TEXT
    holds = _WIDGET_HOLDS.get(kind)
    return WidgetKind.TEXT if holds is not None and not isinstance(item.defaults, holds) else kind


def flow_default(kind: InputType, value: Any) -> Any:
    """A parameters cell's literal as the flow YAML's ``defaults`` holds it: JSON text for the types
    Kestra reads so, a list for a tuple."""
    if value is not None and type_row(kind).json_defaults:
        return json.dumps(value, ensure_ascii=False)
    return list(value) if isinstance(value, tuple) else value


def cell_value(kind: InputType, default: Any) -> Any:
    """A flow's ``defaults`` as a parameters cell's literal (JSON text that does not parse stays text)."""
    if type_row(kind).json_defaults and isinstance(default, str):
        try:
            return json.loads(default)
        except ValueError:
            return default
    return default


def value_text(default: Any) -> str:
    """A flow's ``defaults`` as text (empty for none), which its type's parser reads back: text as is
    (JSON defaults are JSON text already), anything else as JSON."""
    if default is None:
        return ""
    return default if isinstance(default, str) else json.dumps(default, default=str)
