"""The typed, frozen model of a Kestra flow (kestra-reference.md §1).

Only what nbops reasons about is typed; plugin-specific task properties, which Kestra's plugins
define, stay an ordered read-only mapping. ``mapping.py`` turns a model into the YAML document and
back.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FrozenMap(Mapping[str, Any]):
    """A read-only, ordered mapping that pickles (``MappingProxyType`` does not), so conversions
    can cross process boundaries."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None):
        self._data = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def __reduce__(self) -> tuple[type, tuple[dict[str, Any]]]:
        return FrozenMap, (self._data,)


EMPTY: Mapping[str, Any] = FrozenMap()


def frozen_map(data: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return FrozenMap(data)


class InputType(StrEnum):
    STRING = "STRING"
    INT = "INT"
    FLOAT = "FLOAT"
    BOOLEAN = "BOOLEAN"
    BOOL = "BOOL"
    DATETIME = "DATETIME"
    DATE = "DATE"
    TIME = "TIME"
    DURATION = "DURATION"
    FILE = "FILE"
    JSON = "JSON"
    YAML = "YAML"
    URI = "URI"
    EMAIL = "EMAIL"
    SECRET = "SECRET"
    ARRAY = "ARRAY"
    SELECT = "SELECT"
    MULTISELECT = "MULTISELECT"
    ENUM = "ENUM"
    FORM = "FORM"


class RetryType(StrEnum):
    CONSTANT = "constant"
    EXPONENTIAL = "exponential"
    RANDOM = "random"


class ConcurrencyBehavior(StrEnum):
    QUEUE = "QUEUE"
    CANCEL = "CANCEL"
    FAIL = "FAIL"


@dataclass(frozen=True)
class DependsOn:
    inputs: tuple[str, ...]
    condition: str | None = None


@dataclass(frozen=True)
class Input:
    """A flow input; the constraint fields apply to the types named in their comments."""

    id: str
    type: InputType
    description: str | None = None
    display_name: str | None = None
    required: bool = True
    defaults: Any = None  # None: no defaults
    validator: str | None = None  # STRING, SECRET
    min: Any = None  # INT, FLOAT, DURATION
    max: Any = None
    after: str | None = None  # DATE, DATETIME, TIME
    before: str | None = None
    extension: str | None = None  # FILE
    item_type: InputType | None = None  # ARRAY, MULTISELECT
    values: tuple[Any, ...] | None = None  # SELECT, MULTISELECT, ENUM
    allow_custom_value: bool | None = None  # SELECT, MULTISELECT
    is_radio: bool | None = None  # SELECT
    expression: str | None = None  # SELECT, MULTISELECT: values computed by Kestra
    prefill: Any = None  # UI pre-fill (Kestra 1.1+), instead of defaults
    depends_on: DependsOn | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: EMPTY)  # keys of newer Kestra kept as written


@dataclass(frozen=True)
class Retry:
    type: RetryType
    max_attempt: int | None = None
    interval: str | None = None
    min_interval: str | None = None
    max_interval: str | None = None
    max_duration: str | None = None
    delay_factor: float | None = None
    warning_on_retry: bool | None = None
    behavior: str | None = None


@dataclass(frozen=True)
class Task:
    """A task; ``tasks`` holds the children of flowable tasks such as Parallel and Sequential."""

    id: str
    type: str
    properties: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    tasks: tuple[Task, ...] = ()
    description: str | None = None
    retry: Retry | None = None
    timeout: str | None = None


@dataclass(frozen=True)
class FlowRef:
    namespace: str
    flow_id: str | None = None


@dataclass(frozen=True)
class ScheduleTrigger:
    id: str
    cron: str
    timezone: str | None = None
    inputs: Mapping[str, Any] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True)
class FlowTrigger:
    """Run when upstream flows end in one of ``states`` (Kestra ``preconditions``)."""

    id: str
    upstream: tuple[FlowRef, ...]
    states: tuple[str, ...] = ("SUCCESS",)
    inputs: Mapping[str, Any] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True)
class RawTrigger:
    """Any other trigger, kept as written."""

    id: str
    type: str
    properties: Mapping[str, Any] = field(default_factory=lambda: EMPTY)


Trigger = ScheduleTrigger | FlowTrigger | RawTrigger


@dataclass(frozen=True)
class Output:
    id: str
    type: InputType
    value: Any
    description: str | None = None


@dataclass(frozen=True)
class Concurrency:
    limit: int
    behavior: ConcurrencyBehavior = ConcurrencyBehavior.QUEUE


@dataclass(frozen=True)
class Flow:
    id: str
    namespace: str
    tasks: tuple[Task, ...]
    description: str | None = None
    labels: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    inputs: tuple[Input, ...] = ()
    variables: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    triggers: tuple[Trigger, ...] = ()
    outputs: tuple[Output, ...] = ()
    retry: Retry | None = None
    concurrency: Concurrency | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: EMPTY)  # other top-level keys (pluginDefaults, errors, ...)
