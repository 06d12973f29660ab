"""Values Kestra accepts, as its rules (core/rules.py) and the header and input checks need them:
ISO-8601 durations, cron expressions, time-zone ids, and the range of an INT input."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

# An INT input is a java.lang.Integer on every supported version: kestra-io/kestra@58c1ca2d
# core/src/main/java/io/kestra/core/models/flows/input/IntInput.java (Input<Integer>, Integer min/max) and
# runners/FlowInputOutput.java:411 (Integer.valueOf); the same in 1.x (FlowInputOutput.resolveDefaultValue
# reads defaults as Integer.class). A value outside this range is refused.
JAVA_INT_MIN, JAVA_INT_MAX = -(2 ** 31), 2 ** 31 - 1
INT_RANGE_HINT = ("use type STRING and int() it in the notebook, or FLOAT if an approximate value will do "
                  "(a FLOAT input is a Java float)")
_DURATION = re.compile(r"^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?\Z")
_OFFSET = re.compile(r"^(Z|UTC|GMT|[+-]\d{2}(:?\d{2})?)\Z")
_CRON_NICKNAMES = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def duration_seconds(text: Any) -> float | None:
    """Seconds of an ISO-8601 ``java.time.Duration`` text, or None when it is not one."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match or text in ("P", "-P") or text.endswith("T"):
        return None
    sign, days, hours, minutes, seconds = match.groups()
    total = int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)
    return -total if sign else total


@lru_cache(maxsize=4096)  # repositories repeat a handful of schedules; croniter's parse is the slow part
def cron_problem(expression: str, with_seconds: bool = False) -> str | None:
    """Why ``expression`` is not a cron Kestra accepts, or None."""
    from croniter import croniter  # lazy: only flows with a schedule pay for it

    text = expression.strip()
    if text.startswith("@"):
        return None if text in _CRON_NICKNAMES else f"unknown cron nickname {text!r}"
    fields = len(text.split())
    wanted = 6 if with_seconds else 5
    if fields != wanted:
        extra = " (withSeconds: true takes 6)" if not with_seconds else ""
        return f"a cron has {wanted} fields{extra}, this one has {fields}"
    if not croniter.is_valid(text, second_at_beginning=with_seconds):
        return f"{expression!r} is not a valid cron expression"
    return None


@lru_cache(maxsize=1024)
def timezone_problem(zone: str) -> str | None:
    """Why ``zone`` is not a time-zone id Java's ZoneId accepts, or None."""
    if _OFFSET.match(zone):
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{zone!r} is not a time-zone id (use a tz database name such as Europe/Paris or UTC)"
    return None


def int_out_of_range(value: Any) -> bool:
    """Whether ``value`` is a whole number a Kestra INT (a Java Integer) cannot hold."""
    return isinstance(value, int) and not isinstance(value, bool) and not JAVA_INT_MIN <= value <= JAVA_INT_MAX
