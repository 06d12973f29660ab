"""Values typed as Kestra types inputs and flow outputs (``FlowInputOutput.parseType``: INT is a Java
``Integer``, FLOAT a Java **Float** (32-bit!), DATE a ``LocalDate``..., K@58c1ca2d
core/.../runners/FlowInputOutput.java:401-467; K-1.x same file)."""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from .errors import InputError, NotEmulated
from .jackson import (
    JDuration,
    JFloat,
    JTemporal,
    jackson_dumps,
    jackson_loads,
    java_double_to_string,
    java_parse_float,
    java_parse_int,
)
from .versions import PEBBLE_DEFAULTS_SINCE, Version


def java_text(value: Any) -> str:
    """``toString()`` of what Jackson read (0.21) or the text a 1.x ``Property`` keeps of a YAML scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double_to_string(value)
    if isinstance(value, Mapping | list):
        return jackson_dumps(value)
    return str(value)


def _iso_date(text: str) -> JTemporal:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise InputError(f"Text '{text}' could not be parsed as a LocalDate")
    try:
        dt.date.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"Text '{text}' could not be parsed: {exc}") from None
    return JTemporal("LocalDate", text)


def _iso_instant(text: str) -> JTemporal:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})", text):
        raise InputError(f"Text '{text}' could not be parsed as an Instant")
    moment = dt.datetime.fromisoformat(text).astimezone(dt.UTC)
    fraction = re.search(r"\.(\d+)", text)
    nanos = int((fraction.group(1) + "000000000")[:9]) if fraction else 0
    iso = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:  # DateTimeFormatter.ISO_INSTANT: the fraction in groups of three digits
        digits = f"{nanos:09d}"
        iso += "." + (digits[:3] if digits[3:] == "000000" else digits[:6] if digits[6:] == "000" else digits)
    return JTemporal("Instant", iso + "Z")


def _iso_time(text: str) -> JTemporal:
    match = re.fullmatch(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?", text)
    if not match:
        raise InputError(f"Text '{text}' could not be parsed as a LocalTime")
    hours, minutes, seconds, fraction = match.groups()
    iso = f"{hours}:{minutes}:{seconds or '00'}"  # Jackson writes ISO_LOCAL_TIME: seconds always
    if fraction and fraction.rstrip("0"):
        iso += "." + fraction.rstrip("0")
    return JTemporal("LocalTime", iso)


def parse_duration(text: str) -> JDuration:
    match = re.fullmatch(r"([-+]?)P(?:([-+]?\d+)D)?(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+)(?:\.(\d{1,9}))?S)?)?",
                         text.upper())
    if not match or text.upper() in ("P", "PT") or text.upper().endswith("T"):
        raise InputError(f"Text cannot be parsed to a Duration: {text}")
    sign, days, hours, minutes, seconds, fraction = match.groups()
    total = Fraction(int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds or 0))
    if fraction:
        total += Fraction(int(fraction), 10 ** len(fraction)) * (-1 if (seconds or "").startswith("-") else 1)
    if sign == "-":
        total = -total
    whole = math.floor(total)
    return JDuration(int(whole), int((total - whole) * 10**9))


def parse_type(kind: str, value: Any, version: Version, item_type: str | None = None) -> Any:
    """``FlowInputOutput.parseType`` (K@58c1ca2d FlowInputOutput.java:401-467; K-1.x): a
    Java-typed value, or InputError (Kestra's ConstraintViolation or ClassCastException)."""
    new = version >= PEBBLE_DEFAULTS_SINCE  # 1.x casts with toString(), 0.21 with (String)

    def text() -> str:
        if isinstance(value, str):
            return value
        if new:
            return java_text(value)
        raise InputError(f"class {type(value).__name__} cannot be cast to class java.lang.String")
    if kind in ("STRING", "SELECT", "ENUM", "EMAIL"):
        return text() if new else value
    if kind == "INT":
        return value if isinstance(value, int) and not isinstance(value, bool) and -2**31 <= value < 2**31 \
            else java_parse_int(text())
    if kind == "FLOAT":
        return value if isinstance(value, JFloat) else JFloat(java_parse_float(java_text(value)))
    if kind in ("BOOLEAN", "BOOL"):
        if kind == "BOOL" and version < Version(0, 23):
            raise InputError("unknown input type BOOL")
        return value if isinstance(value, bool) else text().lower() == "true"  # Boolean.valueOf
    if kind in ("DATE", "DATETIME", "TIME", "DURATION"):
        return _parse_temporal(kind, value, text)
    if kind in ("JSON", "ARRAY", "MULTISELECT", "URI"):
        return _parse_structured(kind, value, text, version, item_type)
    raise NotEmulated(f"input type {kind}")


def _parse_temporal(kind: str, value: Any, text: Callable[[], str]) -> Any:
    """``parseType`` for DATE, DATETIME, TIME and DURATION (a value already of the type is kept)."""
    if kind == "DATE":
        return value if isinstance(value, JTemporal) and value.kind == "LocalDate" else _iso_date(text())
    if kind == "DATETIME":
        return value if isinstance(value, JTemporal) and value.kind == "Instant" else _iso_instant(text())
    if kind == "TIME":
        return value if isinstance(value, JTemporal) and value.kind == "LocalTime" else _iso_time(text())
    return value if isinstance(value, JDuration) else parse_duration(text())


def _parse_structured(kind: str, value: Any, text: Callable[[], str], version: Version,
                      item_type: str | None) -> Any:
    """``parseType`` for JSON, ARRAY, MULTISELECT and URI."""
    new = version >= PEBBLE_DEFAULTS_SINCE
    if kind == "JSON":
        if new and isinstance(value, Mapping | list):
            return value
        try:
            return jackson_loads(text())
        except ValueError as exc:
            raise InputError(f"not JSON: {exc}") from None
    if kind in ("ARRAY", "MULTISELECT"):
        if isinstance(value, list):
            items = value
        else:
            try:
                items = jackson_loads(text())
            except ValueError as exc:
                raise InputError(f"not a JSON list: {exc}") from None
            if not isinstance(items, list):
                raise InputError("not a JSON list")
        if item_type:
            return [parse_type(item_type, item, version) for item in items]
        return items
    if not re.fullmatch(r"[a-z]+://(?:www\.)?[-a-zA-Z0-9@:%._+~#=]{1,256}\.[a-zA-Z0-9()]{1,6}\b"
                        r"[-a-zA-Z0-9()@:%_+.~#?&/=]*", text()):
        raise InputError(f"Expected `URI` but received `{value}`")
    return text()
