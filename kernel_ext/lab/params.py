"""Parameter widgets matching the flow's input types, and the values they hold."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ..core.model import Input, InputType
from ..core.runparams import TextValue

_SELECTS = (InputType.SELECT, InputType.ENUM)


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, default=str)


def param_widget(item: Input) -> Any:
    """IntText, FloatText, Checkbox, DatePicker or Dropdown where the type and default allow one,
    else Text (an input without a default starts empty: empty means "not given")."""
    import ipywidgets as w

    default, kind = item.defaults, item.type
    common = {"description": item.id, "description_allow_html": False, "tooltip": item.description or kind.value,
              "style": {"description_width": "initial"}}
    if item.values and kind in _SELECTS:
        widget = w.Dropdown(options=list(item.values), value=default if default in item.values else None, **common)
    elif kind is InputType.INT and isinstance(default, int):
        widget = w.IntText(value=default, **common)
    elif kind is InputType.FLOAT and isinstance(default, int | float):
        widget = w.FloatText(value=float(default), **common)
    elif kind in (InputType.BOOLEAN, InputType.BOOL):
        widget = w.Checkbox(value=bool(default), indent=False, **common)
    elif kind is InputType.DATE:
        widget = w.DatePicker(value=_date(default), **common)
    else:
        widget = w.Text(value=_text(default), placeholder=kind.value, **common)
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
