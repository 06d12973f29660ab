"""Kestra's retry policies as local delays (kestra-reference.md §1.6)."""
from __future__ import annotations

import random
from collections.abc import Iterator

from .model import Retry, RetryType
from .rules import duration_seconds


def delays(retry: Retry | None, rng: random.Random | None = None) -> Iterator[float]:
    """Seconds to wait before each further attempt; as many as ``maxAttempt`` allows (a single
    attempt when there is no policy), and none once ``maxDuration`` would be exceeded."""
    if retry is None:
        return
    rng = rng or random.Random()
    attempts = retry.max_attempt or 1
    interval = duration_seconds(retry.interval) or 0.0
    low, high = duration_seconds(retry.min_interval) or 0.0, duration_seconds(retry.max_interval)
    budget = duration_seconds(retry.max_duration)
    spent = 0.0
    for n in range(1, attempts):
        if retry.type is RetryType.EXPONENTIAL:
            delay = min(interval * (retry.delay_factor or 2.0) ** (n - 1), high if high is not None else float("inf"))
        elif retry.type is RetryType.RANDOM:
            delay = rng.uniform(low, high if high is not None else low)
        else:
            delay = interval
        spent += delay
        if budget is not None and spent > budget:
            return
        yield delay
