"""The Dask cluster a sweep runs on (``nbops batch --executor dask``): connecting to its scheduler,
and its results as they complete. ``distributed`` is optional (``pip install 'nbops[dask]'``) and
imported only here, on first use."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import ConfigError, NbopsError


def dask_client(scheduler: str | None) -> Any:
    """A client of the scheduler at ``scheduler``; a clear error when it cannot be had."""
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError("the dask executor needs the distributed package",
                          hint="pip install 'nbops[dask]'") from None
    if not scheduler:
        raise ConfigError("--executor dask needs --scheduler ADDRESS", hint="e.g. --scheduler tcp://10.0.0.5:8786")
    try:
        return Client(scheduler, timeout="20s")
    except OSError as exc:
        raise NbopsError(f"cannot reach the Dask scheduler at {scheduler}: {exc}",
                         hint="is `dask scheduler` running there, and the address right?") from None


def completed(futures: Iterable[Any]) -> Iterator[Any]:
    """The futures in the order they finish."""
    from distributed import as_completed

    return iter(as_completed(futures))
