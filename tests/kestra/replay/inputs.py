"""The execution's inputs (see the package README, "Input values"): typed as Kestra types them, defaults
taken as written before 1.0 (FlowInputOutput.java:238) and rendered as Pebble then converted from 1.0
(``resolveDefaultValue``/``Property.as``, K-1.x FlowInputOutput.java; K@009573e8
core/.../models/property/Property.java ``as``), validated, then through the execution's JSON round trip."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import InputError, NotEmulated
from .jackson import JFloat, jackson_loads, java_parse_float, java_parse_int, round_trip
from .java_types import java_text, parse_type
from .pebble import render
from .versions import PEBBLE_DEFAULTS_SINCE, Version

_INPUT_KEYS = {"id", "type", "description", "displayName", "required", "defaults", "min", "max", "values",
               "validator", "itemType", "allowCustomValue", "after", "before", "name"}


def _default_1x(kind: str, default: Any, variables: Mapping[str, Any], version: Version) -> Any:
    """``resolveDefaultValue``: the default's text rendered as Pebble, then converted by Jackson to the
    type's Java class (K-1.x FlowInputOutput.java; K@009573e8 Property.java ``as``/``asList``)."""
    expression = java_text(default)  # PropertyDeserializer: scalars as text, lists and maps as JSON
    rendered = render(expression, variables)
    if kind in ("ARRAY", "MULTISELECT"):
        try:
            items = jackson_loads(rendered)
        except ValueError as exc:
            raise InputError(f"default is not a JSON list: {exc}") from None
        if not isinstance(items, list):
            raise InputError("default is not a JSON list")
        return items
    if kind in ("JSON", "YAML", "STRING", "SELECT", "ENUM", "EMAIL", "SECRET", "URI", "FILE"):
        return rendered
    if kind == "INT":
        return java_parse_int(rendered.strip())
    if kind == "FLOAT":
        return JFloat(java_parse_float(rendered))
    if kind in ("BOOLEAN", "BOOL"):
        lowered = rendered.strip().lower()
        if lowered not in ("true", "false"):
            raise InputError(f"Cannot coerce String value (\"{rendered}\") to `java.lang.Boolean`")
        return lowered == "true"
    return parse_type(kind, rendered, version)


def _validate(inp: Mapping[str, Any], kind: str, value: Any) -> None:
    """The inputs' ``validate`` methods (K@58c1ca2d core/.../models/flows/input/*Input.java)."""
    number = value.value if isinstance(value, JFloat) else value
    if kind in ("INT", "FLOAT"):
        low, high = inp.get("min"), inp.get("max")
        if kind == "FLOAT":
            low = None if low is None else java_parse_float(java_text(low))
            high = None if high is None else java_parse_float(java_text(high))
        if low is not None and number < low:
            raise InputError(f"it must be more than `{low}`")
        if high is not None and number > high:
            raise InputError(f"it must be less than `{high}`")
    if kind in ("SELECT", "ENUM") and inp.get("values") is not None and value not in inp["values"] \
            and inp.get("required", True) and not inp.get("allowCustomValue", False):
        raise InputError(f"it must match the values `{inp['values']}`")
    if kind == "MULTISELECT" and not inp.get("allowCustomValue", False):
        for item in value:
            if item not in (inp.get("values") or inp.get("options") or []):
                raise InputError(f"it must match the values `{inp.get('values')}`")
    if kind == "STRING" and inp.get("validator") is not None and not re.fullmatch(inp["validator"], str(value)):
        raise InputError(f"it must match the pattern `{inp['validator']}`")
    if kind == "DATE":
        for bound, wrong in (("after", lambda v, b: v < b), ("before", lambda v, b: v > b)):
            if inp.get(bound) is not None and wrong(value.iso, str(inp[bound])):
                raise InputError(f"it must be {bound} `{inp[bound]}`")


def resolve_inputs(flow: Mapping[str, Any], given: Mapping[str, Any] | None, version: Version | str,
                   variables: Mapping[str, Any]) -> dict[str, Any]:
    """The execution's inputs as a task sees them: typed as Kestra types them, then through the
    execution's JSON round trip (ints, doubles, strings, maps, lists). Raises InputError when
    Kestra would refuse to create the execution."""
    version = Version.of(version)
    given = dict(given or {})
    typed: dict[str, Any] = {}
    for inp in flow.get("inputs") or []:
        unknown = set(inp) - _INPUT_KEYS
        if unknown or inp.get("dependsOn"):
            raise NotEmulated(f"input properties {sorted(unknown) or ['dependsOn']}")
        name, kind = inp["id"], str(inp.get("type", "STRING"))
        if kind in ("SECRET", "FILE", "YAML"):
            raise NotEmulated(f"input type {kind}")
        typed[name] = _typed_input(inp, kind, given.pop(name, None), variables, version)
    return round_trip(_flatten_to_nested(typed))


def _typed_input(inp: Mapping[str, Any], kind: str, value: Any, variables: Mapping[str, Any],
                 version: Version) -> Any:
    """One input's Java-typed value: the one given, else its default; None when it is optional and has neither."""
    name, default = inp["id"], inp.get("defaults")
    if value is None and default is not None:
        value = _default_1x(kind, default, variables, version) if version >= PEBBLE_DEFAULTS_SINCE else default
    if value is None:
        if inp.get("required", True):
            raise InputError(f"Invalid input for `{name}`, missing required input")
        return None
    try:
        parsed = parse_type(kind, value, version, inp.get("itemType"))
        _validate(inp, kind, parsed)
    except InputError as exc:
        raise InputError(f"Invalid input for `{name}`, {exc}") from None
    return parsed


def _flatten_to_nested(typed: Mapping[str, Any]) -> dict[str, Any]:
    """``MapUtils.flattenToNestedMap``: "a.b" → {"a": {"b": ...}}."""
    nested: dict[str, Any] = {}
    for key, value in typed.items():
        node = nested
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return nested
