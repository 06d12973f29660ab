"""Schedules in words and their next run times (cron-descriptor and croniter, imported on use)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .mapping import SCHEDULE_TYPE
from .model import RawTrigger, ScheduleTrigger, Trigger

# Kestra's cron nicknames (cron-descriptor does not read them)
_NICKNAMES = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
              "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}


@dataclass(frozen=True)
class Schedule:
    trigger_id: str
    cron: str
    timezone: str  # the IANA name the cron is read in (Kestra's default: the server's, shown as UTC)
    words: str  # "At 06:00 AM, Monday through Friday"; the cron itself when it cannot be described
    next_runs: tuple[str, ...]  # ISO 8601 in ``timezone``; empty when the cron or zone is invalid


def schedules(triggers: tuple[Trigger, ...], now: datetime, count: int = 3) -> tuple[Schedule, ...]:
    found = []
    for trigger in triggers:
        cron, zone = _cron_of(trigger)
        if cron is not None:
            found.append(Schedule(trigger.id, cron, zone or "UTC", describe(cron), next_runs(cron, zone, now, count)))
    return tuple(found)


def schedule_words(triggers: tuple[Trigger, ...]) -> list[str]:
    """Each schedule in words, without its next runs (the index and namespace tables)."""
    return [describe(cron) for cron, _ in map(_cron_of, triggers) if cron is not None]


def _cron_of(trigger: Trigger) -> tuple[str | None, str | None]:
    if isinstance(trigger, ScheduleTrigger):
        return trigger.cron, trigger.timezone
    if isinstance(trigger, RawTrigger) and trigger.type == SCHEDULE_TYPE:
        props: Mapping[str, object] = trigger.properties
        cron, zone = props.get("cron"), props.get("timezone")
        return (cron if isinstance(cron, str) else None), (zone if isinstance(zone, str) else None)
    return None, None


@lru_cache(maxsize=512)  # a catalog shows each schedule on several pages; repositories reuse a few crons
def describe(cron: str) -> str:
    from cron_descriptor import Options, get_description

    options = Options()
    options.use_24hour_time_format = True
    try:
        return str(get_description(_NICKNAMES.get(cron.strip(), cron), options))
    except Exception:  # noqa: BLE001 - cron-descriptor raises several kinds for bad input; the cron is shown as is
        return cron


@lru_cache(maxsize=512)
def next_runs(cron: str, zone: str | None, now: datetime, count: int = 3) -> tuple[str, ...]:
    from croniter import croniter

    try:
        tz = ZoneInfo(zone) if zone else UTC
        start = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(tz)
        it = croniter(_NICKNAMES.get(cron.strip(), cron), start)
        return tuple(it.get_next(datetime).isoformat() for _ in range(count))
    except (ZoneInfoNotFoundError, ValueError, KeyError, TypeError):
        return ()
