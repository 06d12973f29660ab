"""A small emulator of what Kestra writes into a task's ``params.json``: its typed input values
(``FlowInputOutput.parseType``) written by Pebble's ``toJson`` filter, i.e. Jackson.

Written from the sources, independently of ``kernel_ext.core.java_values`` (which nbops run uses),
so tests can hold one against the other:

- ``ToJsonFilter.apply``: ``MAPPER.writeValueAsString(input)``, ``"null"`` for null
  (kestra-io/kestra@58c1ca2d core/src/main/java/io/kestra/core/runners/pebble/filters/ToJsonFilter.java;
  ``json`` is its deprecated alias, JsonFilter.java).
- ``JacksonMapper.configure``: ``WRITE_DATES_AS_TIMESTAMPS`` off, ``NON_NULL`` inclusion (maps lose
  null entries, lists keep them: jackson-databind#1444, #2143), ``JavaTimeModule``
  (same repo, core/src/main/java/io/kestra/core/serializers/JacksonMapper.java:123-138).
- Numbers: jackson-core ``NumberOutput.toString`` = ``Double.toString``/``Float.toString`` (no fast
  writer by default); non-finite ones are quoted (``QUOTE_NON_NUMERIC_NUMBERS`` on by default).
  ``Double.toString`` on Java 19+ (Kestra's image is eclipse-temurin:21): the shortest decimal that
  rounds to the value, the closest if several (ties: even last digit), one or two digits when the
  shortest has one; plain notation for 10^-3 <= |d| < 10^7, else ``d.dddE[-]n``.
- Strings: ``"`` and ``\\`` escaped, control characters as ``\\n``/``\\t``/``\\r``/``\\b``/``\\f``
  or ``\\u00XX``; everything else (non-ASCII included) as is (jackson-core ``CharTypes``).
- ``Duration``: ``WRITE_DURATIONS_AS_TIMESTAMPS`` stays on, so a decimal number of seconds
  (jackson-datatype-jsr310 ``DurationSerializer``, ``DecimalUtils.toBigDecimal``).
- ``Instant`` in UTC as ``Instant.toString`` (fraction in groups of three digits), ``LocalTime`` with
  ``ISO_LOCAL_TIME`` (jackson-datatype-jsr310 ``LocalTimeSerializer``), ``LocalDate`` as ``yyyy-MM-dd``.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import struct
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any


@dataclass(frozen=True)
class JFloat:
    """A java.lang.Float (what Kestra makes of a FLOAT input: ``Float.valueOf(current.toString())``)."""

    value: float


@dataclass(frozen=True)
class JRaw:
    """A value Jackson writes as this literal text (a ``Duration``'s BigDecimal seconds)."""

    text: str


# --- Float.valueOf: the nearest 32-bit float (ties to even), by brute force over the candidates ---

def _f32(bits: int) -> float:
    return struct.unpack(">f", struct.pack(">I", bits))[0]


_MAX32 = Fraction(_f32(0x7F7FFFFF))  # Float.MAX_VALUE
_OVERFLOW = _MAX32 + (_MAX32 - Fraction(_f32(0x7F7FFFFE))) / 2  # from here on, the nearest is infinity


def java_float_value_of(text: str) -> float:
    """``Float.valueOf(text)`` for a plain decimal ``text``, as a Python float: the nearest float32,
    ties to the even one, found among the bit patterns next to a first guess."""
    exact = Fraction(Decimal(text))
    if exact == 0:
        return -0.0 if text.strip().startswith("-") else 0.0
    sign, exact = (-1.0 if exact < 0 else 1.0), abs(exact)
    if exact >= _OVERFLOW:
        return sign * math.inf
    guess = struct.unpack(">I", struct.pack(">f", min(float(exact), _f32(0x7F7FFFFF))))[0]
    best = min(range(max(guess - 2, 0), min(guess + 3, 0x7F800000)),
               key=lambda bits: (abs(Fraction(_f32(bits)) - exact), bits % 2))
    return sign * _f32(best)


# --- Double.toString / Float.toString (JDK 19+), by brute force over n-digit candidates ---

def _rounds_to(candidate: Fraction, value: float, single: bool) -> bool:
    if single:
        return java_float_value_of(str(Decimal(candidate.numerator) / Decimal(candidate.denominator))) == value
    try:
        return float(candidate) == value
    except OverflowError:  # past the largest double
        return False


def _candidates(value: float, digits: int) -> list[Fraction]:
    """Decimals of ``digits`` significant digits next to ``value`` (its rounding and the neighbours)."""
    text = f"{Decimal(value):.{digits - 1}E}"  # correctly rounded to that many digits
    _, exponent = text.split("E")
    unit = Fraction(10) ** (int(exponent) - digits + 1)
    centre = Fraction(Decimal(text))
    return [c for c in (centre - unit, centre, centre + unit) if c > 0]


def _length(x: Fraction) -> int:
    text = format(Decimal(x.numerator) / Decimal(x.denominator), "f").replace(".", "").lstrip("0").rstrip("0")
    return len(text)


def _java_to_string(value: float, single: bool) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1, value) < 0 else "0.0"
    sign, magnitude = ("-" if value < 0 else ""), abs(value)
    chosen: list[Fraction] = []
    for digits in range(1, 18):
        chosen = [c for c in _candidates(magnitude, digits) if _length(c) <= digits and _rounds_to(c, magnitude, single)]
        if chosen:
            if digits == 1:  # the shortest has one digit: the closest of one or two digits
                chosen += [c for c in _candidates(magnitude, 2) if _rounds_to(c, magnitude, single)]
            break
    exact = Fraction(magnitude)

    def key(c: Fraction) -> tuple[Fraction, int]:
        return abs(c - exact), int(str(Decimal(c.numerator) / Decimal(c.denominator)).replace(".", "")
                                   .rstrip("0")[-1]) % 2
    best = min(chosen, key=key)
    digits_text, exponent = _digits(best)
    if -3 <= exponent < 7:
        if exponent >= 0:
            whole = digits_text[: exponent + 1].ljust(exponent + 1, "0")
            return f"{sign}{whole}.{digits_text[exponent + 1:] or '0'}"
        return f"{sign}0.{'0' * (-exponent - 1)}{digits_text}"
    return f"{sign}{digits_text[0]}.{digits_text[1:] or '0'}E{exponent}"


def _digits(x: Fraction) -> tuple[str, int]:
    """The significant digits of ``x`` and the power of ten of the first one."""
    _, digits, exponent = (Decimal(x.numerator) / Decimal(x.denominator)).normalize().as_tuple()
    text = "".join(map(str, digits))
    return text, len(text) - 1 + int(exponent)


def double_to_string(value: float) -> str:
    return _java_to_string(value, single=False)


def float_to_string(value: float) -> str:
    return _java_to_string(value, single=True)


# --- Jackson's writer ---

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def jackson_write(value: Any) -> str:
    """``JacksonMapper.ofJson().writeValueAsString(value)`` for a Java value modelled in Python:
    None, bool, int (Integer/Long/BigInteger), float (Double), :class:`JFloat`, :class:`JRaw`,
    str, list (List), dict (Map)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | JFloat):
        number, single = (value.value, True) if isinstance(value, JFloat) else (value, False)
        text = _java_to_string(number, single)
        return f'"{text}"' if not math.isfinite(number) else text
    if isinstance(value, JRaw):
        return value.text
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(jackson_write(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{_string(str(k))}:{jackson_write(v)}" for k, v in value.items() if v is not None) + "}"
    raise TypeError(f"no Java model for {type(value).__name__}")


def to_json_filter(value: Any) -> str:
    """Pebble's ``{{ value | toJson }}`` (ToJsonFilter: null → ``null``)."""
    return "null" if value is None else jackson_write(value)


# --- java.time values as Jackson writes them ---

def instant(moment: dt.datetime) -> str:
    """An aware datetime as ``Instant.toString``: UTC, the fraction in groups of three digits."""
    utc = moment.astimezone(dt.UTC)
    micros = utc.microsecond
    fraction = "" if not micros else f".{micros // 1000:03d}" if micros % 1000 == 0 else f".{micros:06d}"
    return utc.replace(microsecond=0, tzinfo=None).isoformat() + fraction + "Z"


def local_time(moment: dt.time) -> str:
    """A time as ``ISO_LOCAL_TIME`` formats it: seconds always, the fraction without trailing zeros."""
    base = moment.replace(microsecond=0).isoformat()
    return base + (f".{moment.microsecond:06d}".rstrip("0") if moment.microsecond else "")


def duration(delta: dt.timedelta) -> JRaw:
    """A Duration as Jackson's ``DurationSerializer`` writes it (seconds, nine decimals)."""
    total_micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    seconds, micros = divmod(total_micros, 1_000_000)
    if seconds == 0 and micros == 0:
        return JRaw("0.0")
    value = Decimal(seconds) + Decimal(micros) / Decimal(1_000_000)
    return JRaw(str(value.quantize(Decimal("1.000000000"))))


def iso_duration(delta: dt.timedelta) -> str:
    """``delta`` as ISO-8601 text ``Duration.parse`` reads (``PT…S``, signed)."""
    total_micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    sign, total_micros = ("-" if total_micros < 0 else ""), abs(total_micros)
    seconds, micros = divmod(total_micros, 1_000_000)
    return f"{sign}PT{seconds}.{micros:06d}S"


def java_json(text: str) -> Any:
    """``JacksonMapper.toObject(text)``: ints as Integer/Long/BigInteger, other numbers as Double."""
    def refuse(token: str) -> Any:
        raise ValueError(token)
    return json.loads(text, parse_constant=refuse)
