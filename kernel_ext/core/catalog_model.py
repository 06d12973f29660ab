"""What the catalog knows about each flow (pure, frozen data the services gather)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..errors import Problem
from .model import EMPTY, Input, Task, Trigger


class EdgeKind(StrEnum):
    AFTER = "after"  # a Flow trigger: the downstream flow runs when the upstream one ends
    SUBFLOW = "subflow"  # a Subflow task: the parent flow calls the child


@dataclass(frozen=True)
class FlowLink:
    """Another flow this one is connected to (it may be outside the catalog)."""

    namespace: str
    flow_id: str
    kind: EdgeKind

    @property
    def key(self) -> str:
        return f"{self.namespace}.{self.flow_id}"


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    date: str  # ISO 8601 with the author's offset
    subject: str


@dataclass(frozen=True)
class RunSummary:
    """One local execution, as the catalog shows it."""

    id: str
    status: str
    started: float  # Unix time
    duration: float | None
    parameters: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    failure: str | None = None  # "step: cell N: Name: message" of the failing cell


@dataclass(frozen=True)
class CatalogFlow:
    """One flow of the catalog: converted from a notebook, hand-written in ``_flows/``, or a
    notebook that failed to convert (then ``problems`` says why and the flow fields are empty)."""

    namespace: str
    id: str
    file: str  # the notebook, or the hand-written flow file, the flow comes from
    notebook: str | None = None  # the source notebook; None for hand-written flows
    title: str = ""
    description: str = ""
    labels: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    inputs: tuple[Input, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    tasks: tuple[Task, ...] = ()
    yaml: str = ""
    problems: tuple[Problem, ...] = ()
    upstream: tuple[FlowLink, ...] = ()  # flows it runs after, or that call it as a subflow
    downstream: tuple[FlowLink, ...] = ()  # flows that run after it, or that it calls
    history: tuple[Commit, ...] = ()  # newest first
    runs: tuple[RunSummary, ...] = ()  # newest first
    executed_notebook: str | None = None  # repository-relative path of the last executed notebook

    @property
    def key(self) -> str:
        return f"{self.namespace}.{self.id}"

    @property
    def ok(self) -> bool:
        return not self.problems


def split_title(description: str | None, fallback: str) -> tuple[str, str]:
    """(title, the rest): the first line of the description (a Markdown heading or not) is the
    title when it is short; otherwise the flow id."""
    text = (description or "").strip()
    first, _, rest = text.partition("\n")
    heading = first.lstrip("#").strip()
    if first.startswith("#") and heading:
        return heading, rest.strip()
    if heading and len(heading) <= 80 and not rest.strip():
        return heading, ""
    return fallback, text
