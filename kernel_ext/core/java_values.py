"""How Kestra holds and writes a parameter's value, so ``nbops run`` hands the notebook the same one.

Kestra types each input in Java (``FlowInputOutput.parseType``) and the task's ``params.json`` is
written by Pebble's ``toJson``, i.e. Jackson (``JacksonMapper.ofJson()``). What that does to a value,
and what this module reproduces (K = kestra-io/kestra@58c1ca2d, 0.21; the same code in 1.x):

- FLOAT is a Java ``Float`` (32 bits): ``Float.valueOf(current.toString())``
  (K core/src/main/java/io/kestra/core/runners/FlowInputOutput.java:413, ``FloatInput extends
  Input<Float>``). Jackson writes it with ``Float.toString`` (jackson-core ``NumberOutput``), so the
  notebook receives the double nearest to that text: :func:`kestra_float`.
- Doubles (a JSON input's numbers, a step's outputs) are written with ``Double.toString``:
  :func:`java_double_text`. Both follow the JDK 19+ specification (Kestra runs on Java 21, K
  Dockerfile ``eclipse-temurin:21``): the shortest decimal that rounds back to the value, the
  closest one if several, and when the shortest has one digit, the closest of one or two digits.
- DATETIME is an ``Instant`` (``Instant.parse``: date, ``T``, time with seconds, an offset), written
  in UTC as ``Instant.toString`` does: :func:`instant_text`. DATE is a ``LocalDate``
  (``LocalDate.parse``, ISO ``yyyy-MM-dd``), TIME a ``LocalTime`` written with
  ``ISO_LOCAL_TIME`` (jackson-modules-java8 ``LocalTimeSerializer._defaultFormatter``): seconds
  always, the fraction without trailing zeros: :func:`local_time_text`.
- DURATION is a ``Duration``; ``JacksonMapper`` leaves ``WRITE_DURATIONS_AS_TIMESTAMPS`` on (K
  ``serializers/JacksonMapper.java:123-138``; the change that turned it off was reverted, K
  550aa4538 "Revert fix(core): serialize duration as strings"), so Jackson writes the number of
  seconds (``DecimalUtils.toBigDecimal(seconds, nanos)``): :func:`duration_seconds_value`.
- Maps lose their null entries: ``setSerializationInclusion(NON_NULL)`` also sets the content
  inclusion of maps since Jackson 2.9 (FasterXML/jackson-databind#1444; Kestra's own fix for task
  outputs, kestra-io/kestra#18938, came after 1.3); lists keep theirs. A non-finite double is
  written as a string (``QUOTE_NON_NUMERIC_NUMBERS`` is on by default): :func:`jackson_value`.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import struct
from fractions import Fraction
from typing import Any

FLOAT_MAX = float.fromhex("0x1.fffffep127")  # Float.MAX_VALUE


def _floor_log2(x: Fraction) -> int:
    e = x.numerator.bit_length() - x.denominator.bit_length()
    return e if Fraction(2) ** e <= x else e - 1


def _floor_log10(x: Fraction) -> int:
    e = len(str(x.numerator)) - len(str(x.denominator))
    while Fraction(10) ** e > x:
        e -= 1
    while Fraction(10) ** (e + 1) <= x:
        e += 1
    return e


def _round_half_even(x: Fraction) -> int:
    floor = x.numerator // x.denominator
    rest = x - floor
    return floor + 1 if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2) else floor


def float32(value: Fraction | str | float) -> float:
    """The Java ``Float`` nearest to ``value`` (ties to even, infinite past the largest), as a
    Python float: what ``Float.valueOf`` gives for that decimal text or number."""
    x = Fraction(value)
    if x == 0:  # a negative zero keeps its sign, written as text or as a float
        negative = value.strip().startswith("-") if isinstance(value, str) else math.copysign(1, value) < 0
        return -0.0 if negative else 0.0
    sign, x = (-1, -x) if x < 0 else (1, x)
    exponent = max(_floor_log2(x) - 23, -149)  # 24 significant bits; subnormals below 2^-126
    rounded = _round_half_even(x / Fraction(2) ** exponent) * Fraction(2) ** exponent
    return sign * (math.inf if rounded > Fraction(FLOAT_MAX) else float(rounded))


def _neighbours(value: float, single: bool) -> tuple[Fraction, Fraction, bool]:
    """The floats (or doubles) just below and above a positive ``value`` (past the largest, where
    the next one would be), and whether its significand is even (then a decimal halfway to a
    neighbour still rounds to it)."""
    if single:
        bits = struct.unpack(">I", struct.pack(">f", value))[0]
        below = struct.unpack(">f", struct.pack(">I", bits - 1))[0] if bits > 0 else -value
        above = struct.unpack(">f", struct.pack(">I", bits + 1))[0]
    else:
        bits = struct.unpack(">Q", struct.pack(">d", value))[0]
        below, above = math.nextafter(value, -math.inf), math.nextafter(value, math.inf)
    v = Fraction(value)
    upper = 2 * v - Fraction(below) if math.isinf(above) else Fraction(above)
    return Fraction(below), upper, bits % 2 == 0


def _digits_java_picks(value: float, single: bool) -> tuple[int, int]:
    """``(c, q)``: the decimal ``c·10^q`` that ``Float.toString``/``Double.toString`` writes for a
    positive finite ``value`` (JDK 19+ javadoc of ``Double.toString(double)``)."""
    v = Fraction(value)
    below, above, even = _neighbours(value, single)
    lo, hi = (v + below) / 2, (v + above) / 2

    def inside(x: Fraction) -> bool:
        return lo <= x <= hi if even else lo < x < hi

    def multiples(q: int) -> list[tuple[int, int]]:
        step = Fraction(10) ** q
        first, last = math.ceil(lo / step), math.floor(hi / step)
        return [(k, q) for k in range(max(first, 1), last + 1) if inside(k * step)]

    q = _floor_log10(hi) + 1
    while not (found := multiples(q)):
        q -= 1
    if all(len(str(k).rstrip("0")) == 1 for k, _ in found):  # the shortest has one digit: two may be closer
        found = [(k, e) for e in (q - 2, q - 1, q) for k, _ in multiples(e) if len(str(k).rstrip("0")) <= 2]

    def distance(candidate: tuple[int, int]) -> tuple[Fraction, int]:
        k, e = candidate
        return abs(k * Fraction(10) ** e - v), int(str(k).rstrip("0")[-1]) % 2

    k, e = min(found, key=distance)
    while k % 10 == 0:
        k, e = k // 10, e + 1
    return k, e


def _java_text(value: float, single: bool) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    sign = "-" if math.copysign(1, value) < 0 else ""
    if value == 0:
        return sign + "0.0"
    c, q = _digits_java_picks(abs(value), single)
    digits = str(c)
    exponent = len(digits) - 1 + q  # of the first digit
    if -3 <= exponent < 7:  # 10^-3 <= |d| < 10^7: plain notation
        if exponent >= 0:
            whole = digits[: exponent + 1].ljust(exponent + 1, "0")
            return f"{sign}{whole}.{digits[exponent + 1:] or '0'}"
        return f"{sign}0.{'0' * (-exponent - 1)}{digits}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def java_double_text(value: float) -> str:
    """``Double.toString(value)`` on Java 19+: ``1.23456785E7``, ``1.0E-7``, ``100.0``."""
    return _java_text(value, single=False)


def java_float_text(value: float) -> str:
    """``Float.toString`` of the Java ``Float`` equal to ``value`` (which must be one)."""
    return _java_text(value, single=True)


_JAVA_DECIMAL = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*\Z")


def kestra_float(value: Any) -> float:
    """What a notebook receives for a Kestra FLOAT input given ``value`` (decimal text or a number):
    the Java ``Float`` ``Float.valueOf(value.toString())`` makes, written by ``Float.toString``.
    Raises ValueError for text Java does not read as a decimal number and for values a ``Float``
    cannot hold (Kestra would pass the text ``"Infinity"``)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("expected a number")  # noqa: TRY004 - callers report any ValueError as a bad value
    if isinstance(value, str):
        if not _JAVA_DECIMAL.match(value):
            raise ValueError("expected a number")
        text = value.strip()
    else:
        text = str(value) if isinstance(value, int) else java_double_text(value)
    if text in ("NaN", "Infinity", "-Infinity"):
        raise ValueError("expected a finite number")
    single = float32(text)
    if math.isinf(single):
        raise ValueError(f"{text} is outside the range of Kestra's FLOAT (a 32-bit float, at most {FLOAT_MAX:.8g})")
    return float(java_float_text(single))


_INSTANT = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
                      r"(?:[Zz]|([+-])(\d{2}):(\d{2})(?::(\d{2}))?)\Z")
_LOCAL_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})\Z")
_LOCAL_TIME = re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\Z")
# java.time.Duration.PATTERN (JDK 21), case-insensitive
_DURATION = re.compile(r"([-+]?)P(?:([-+]?[0-9]+)D)?(T(?:([-+]?[0-9]+)H)?(?:([-+]?[0-9]+)M)?"
                       r"(?:([-+]?[0-9]+)(?:[.,]([0-9]{0,9}))?S)?)?\Z", re.IGNORECASE)


def _fraction_text(digits: str | None, groups_of_three: bool) -> str:
    """The fraction of seconds as ``Instant.toString`` (groups of three digits) or
    ``ISO_LOCAL_TIME`` (no trailing zeros) writes it."""
    nanos = int((digits or "").ljust(9, "0"))
    if nanos == 0:
        return ""
    text = f"{nanos:09d}"
    if not groups_of_three:
        return "." + text.rstrip("0")
    return "." + (text[:3] if nanos % 1_000_000 == 0 else text[:6] if nanos % 1000 == 0 else text)


def instant_text(text: str) -> str:
    """``Instant.parse(text).toString()``: the instant in UTC, ``2024-01-31T04:00:00Z``. Raises
    ValueError for text ``Instant.parse`` refuses (no seconds, no offset, a space for ``T``)."""
    match = _INSTANT.match(text)
    if not match:
        raise ValueError("expected a date and time with seconds and an offset, e.g. 2024-01-31T06:00:00Z")
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m, off_s = match.groups()
    offset = dt.timedelta(hours=int(off_h or 0), minutes=int(off_m or 0), seconds=int(off_s or 0))
    if offset > dt.timedelta(hours=18):
        raise ValueError("an offset is at most 18:00")
    try:
        local = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
        utc = local - offset if sign != "-" else local + offset
    except (ValueError, OverflowError):
        raise ValueError("expected a valid date and time") from None
    return utc.isoformat() + _fraction_text(fraction, True) + "Z"


def local_date_text(text: str) -> str:
    """``LocalDate.parse(text).toString()``: only ``yyyy-MM-dd``, a real date."""
    match = _LOCAL_DATE.match(text)
    try:
        if not match:
            raise ValueError
        dt.date(*map(int, match.groups()))
    except ValueError:
        raise ValueError("expected a date such as 2024-01-31") from None
    return text


def local_time_text(text: str) -> str:
    """``LocalTime.parse(text)`` written by ``ISO_LOCAL_TIME``: ``06:30`` → ``06:30:00``."""
    match = _LOCAL_TIME.match(text)
    if not match:
        raise ValueError("expected a time such as 06:30:00")
    hour, minute, second, fraction = match.groups()
    if int(hour) > 23 or int(minute) > 59 or int(second or 0) > 59:
        raise ValueError("expected a time such as 06:30:00")
    return f"{hour}:{minute}:{second or '00'}{_fraction_text(fraction, False)}"


def duration_seconds_value(text: str) -> float:
    """The seconds Jackson writes for ``Duration.parse(text)``: ``PT30M`` → ``1800.0``. Raises
    ValueError for text ``Duration.parse`` refuses."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match or match.group(3) == "T" or not any(match.group(i) for i in (2, 4, 5, 6)):
        raise ValueError("expected an ISO-8601 duration such as PT30M")
    negate, days, _, hours, minutes, seconds, fraction = match.groups()
    whole = int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds or 0)
    nanos = int((fraction or "").ljust(9, "0"))
    total = Fraction(whole) + Fraction(-nanos if (seconds or "").startswith("-") else nanos, 10**9)
    return float(-total if negate == "-" else total)


def jackson_value(value: Any) -> Any:
    """``value`` as it comes back from Jackson's ``toJson`` (parsed by a JSON reader): maps without
    their null entries (at any depth), keys as text, non-finite numbers as the text Jackson quotes."""
    if isinstance(value, dict):
        return {_jackson_key(k): jackson_value(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [jackson_value(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return java_double_text(value)
    return value


def _jackson_key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float):
        return java_double_text(key)
    return str(key)
