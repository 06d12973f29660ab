"""Parameter widgets matching the flow's input types (the core's type table picks the kind), and
the values they hold."""
from __future__ import annotations

import datetime as dt
from typing import Any

from ..core.input_types import WidgetKind, value_text, widget_kind
from ..core.model import Input
from ..core.param_values import TextValue


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def param_widget(item: Input) -> Any:
    """IntText, FloatText, Checkbox, DatePicker or Dropdown where the type and default allow one,
    else Text (an input without a default starts empty: empty means "not given")."""
    import ipywidgets as w

    default, kind = item.defaults, widget_kind(item)
    common = {"description": item.id, "description_allow_html": False, "tooltip": item.description or item.type.value,
              "style": {"description_width": "initial"}}
    if kind is WidgetKind.DROPDOWN:
        choices = list(item.values or ())  # not empty: widget_kind offers a dropdown only then
        widget = w.Dropdown(options=choices, value=default if default in choices else None, **common)
    elif kind is WidgetKind.INT:
        widget = w.IntText(value=default, **common)
    elif kind is WidgetKind.FLOAT:
        widget = w.FloatText(value=float(default), **common)
    elif kind is WidgetKind.CHECKBOX:
        widget = w.Checkbox(value=bool(default), indent=False, **common)
    elif kind is WidgetKind.DATE:
        widget = w.DatePicker(value=_date(default), **common)
    else:
        widget = w.Text(value=value_text(default), placeholder=item.type.value, **common)
    widget.add_class("nbops-param")
    widget.add_class(f"nbops-param-{item.id}")
    return widget


def widget_value(widget: Any) -> Any:
    """What the run gets from a widget; None when it holds nothing (the flow's default applies).
    Text becomes a :class:`TextValue`, converted to the input's type as ``-p`` values are."""
    import ipywidgets as w

    value = widget.value
    if isinstance(widget, w.DatePicker):
        return value.isoformat() if value is not None else None
    if isinstance(widget, w.Text):
        return TextValue(value) if value != "" else None
    return value


def values_of(widgets: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, widget in widgets.items() if (value := widget_value(widget)) is not None}
