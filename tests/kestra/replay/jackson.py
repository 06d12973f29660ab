"""Java values and Jackson's JSON as an execution stores them (see the package README, "Input values").

One emulator of Java's numbers: ``Double.toString``/``Float.toString``, ``Float.valueOf``, the
``java.lang.Float`` model :class:`JFloat` and Jackson's string escaping are those of
``tests/kestra_jackson.py`` (written from the JDK's and Jackson's sources). This module adds what the
replay needs around them: Java's parsing errors as :class:`InputError`, ``java.time`` values, and the
execution's JSON round trip (Jackson writing and reading).
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# JFloat: a ``java.lang.Float`` (FLOAT inputs and outputs: FloatInput extends Input<Float>).
# _jackson_string: Jackson's escaping: quote, backslash and the C0 controls (``\u00XX``, upper-case hex);
# everything else, non-ASCII included, as is.
from kestra_jackson import JFloat, double_to_string, float_to_string, java_float_value_of
from kestra_jackson import _string as _jackson_string

from .errors import InputError, NotEmulated


def java_parse_float(text: str) -> float:
    """``Float.parseFloat``/``Float.valueOf(String)``: the decimal rounded straight to a float."""
    body = text.strip()
    match = re.fullmatch(r"([+-]?)(NaN|Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[fFdD]?", body)
    if not match:
        raise InputError(f"For input string: \"{text}\"")
    sign, number = match.groups()
    if number == "NaN":
        return math.nan
    if number == "Infinity":
        return -math.inf if sign == "-" else math.inf
    value = java_float_value_of(number)  # kestra_jackson: the nearest float, ties to even
    return -value if sign == "-" else value


def java_parse_int(text: str) -> int:
    """``Integer.valueOf(String)``: an optional sign and decimal digits, within 32 bits."""
    if not re.fullmatch(r"[+-]?\d+", text):
        raise InputError(f"For input string: \"{text}\"")
    value = int(text)
    if not -2**31 <= value < 2**31:
        raise InputError(f"For input string: \"{text}\" (out of the range of a Java Integer)")
    return value


def java_double_to_string(x: float) -> str:
    """``Double.toString(double)`` (JDK 19+: shortest decimal that rounds back), what Jackson writes."""
    return double_to_string(x)


def java_float_to_string(x: float) -> str:
    """``Float.toString(float)`` of a value that is a float (see :func:`java_parse_float`)."""
    return float_to_string(x)


@dataclass(frozen=True)
class JTemporal:
    """A ``LocalDate``/``Instant``/``LocalTime`` as Jackson writes it (ISO text, dates not as timestamps:
    JacksonMapper.java:128)."""
    kind: str
    iso: str


@dataclass(frozen=True)
class JDuration:
    """A ``java.time.Duration``; Jackson writes it as seconds (WRITE_DURATIONS_AS_TIMESTAMPS is on by
    default; Property.java: "By default, durations are stored as numbers")."""
    seconds: int
    nanos: int


def jackson_dumps(value: Any) -> str:
    """``JacksonMapper.ofJson().writeValueAsString(value)`` of Java-typed values (compact)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = java_double_to_string(value)
        return text if math.isfinite(value) else f'"{text}"'  # WRITE_NAN_AS_STRINGS is on by default
    if isinstance(value, JFloat):
        text = java_float_to_string(value.value)
        return text if math.isfinite(value.value) else f'"{text}"'
    if isinstance(value, str):
        return _jackson_string(value)
    if isinstance(value, JTemporal):
        return _jackson_string(value.iso)
    if isinstance(value, JDuration):
        if value.nanos == 0:
            return "0.0" if value.seconds == 0 else f"{value.seconds}.000000000"
        return f"{value.seconds}.{value.nanos:09d}"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_jackson_string(str(k))}:{jackson_dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(jackson_dumps(v) for v in value) + "]"
    raise NotEmulated(f"no Jackson form for {type(value).__name__}")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"Non-standard token '{name}'")  # JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS is off


_STRICT = json.JSONDecoder(parse_constant=_refuse_constant, strict=True)


def jackson_loads(text: str) -> Any:
    """Jackson's default reading of one JSON value into Java's untyped objects (ints, doubles,
    strings, maps, lists): NaN and Infinity refused, unescaped control characters refused, what
    follows the first value ignored (FAIL_ON_TRAILING_TOKENS is off by default). Raises ValueError."""
    value, _ = _STRICT.raw_decode(text.lstrip(" \t\r\n"))
    return value


def round_trip(value: Any) -> Any:
    """What a value stored in an execution (JSON, Jackson) reads back as."""
    return jackson_loads(jackson_dumps(value))
