"""The ``%%flow`` header cell: YAML with the flow's settings, checked against a schema of its own."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ..errors import Problem
from .kestra_schema import DURATION, FLOW_ID, FLOW_SCHEMA, INPUT_COMMON, INPUTS, MESSAGES, NAMESPACE
from .model import EMPTY, FlowRef
from .notebook import HEADER_MAGIC, Cell
from .rules import cron_problem, timezone_problem
from .schemacheck import SchemaChecker, dedupe
from .yamlsafe import YamlProblem, format_path, load_yaml

MAX_HEADER_BYTES = 64 * 1024
_str = {"type": "string"}
_override_props: dict[str, Any] = {k: v for k, v in INPUT_COMMON.items() if k not in ("id", "name")}
for _extra in INPUTS.values():
    for _key, _rule in _extra.items():
        if _key != "__required__":  # a key typed differently per input type (min, max) is checked in the flow
            _override_props[_key] = _rule if _override_props.get(_key, _rule) == _rule else {}
_FLOW_REF = {"anyOf": [{"type": "string", "minLength": 1},
                       {"type": "object", "properties": {"namespace": _str, "flow": _str}, "required": ["flow"],
                        "additionalProperties": False}]}

# a step: a notebook path, or {notebook, produces: [files the later steps read]}
_STEP = {"anyOf": [{"type": "string", "minLength": 1},
                   {"type": "object", "properties": {"notebook": {"type": "string", "minLength": 1},
                                                     "produces": {"type": "array", "items": _str},
                                                     "outputs": {"type": "array", "items": _str}},
                    "required": ["notebook"], "additionalProperties": False}]}

HEADER_SCHEMA: dict[str, Any] = {
    "definitions": FLOW_SCHEMA["definitions"],
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": FLOW_ID, "maxLength": 100},
        "namespace": {"type": "string", "pattern": NAMESPACE, "maxLength": 150},
        "description": _str,
        "labels": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
        "schedule": _str, "timezone": _str,
        "triggers": {"type": "array", "items": {"$ref": "#/definitions/trigger"}},
        "after": {"anyOf": [_FLOW_REF, {"type": "array", "items": _FLOW_REF, "minItems": 1}]},
        "inputs": {"type": "object", "additionalProperties": {
            "type": "object", "properties": _override_props, "additionalProperties": False}},
        "steps": {"type": "array", "minItems": 1, "items": {"anyOf": [
            _STEP, {"type": "object", "properties": {"parallel": {"type": "array", "minItems": 1, "items": _STEP}},
                    "required": ["parallel"], "additionalProperties": False}]}},
        "outputs": {"type": "object", "additionalProperties": {"anyOf": [
            {"type": "string"},
            {"type": "object", "properties": {"type": _str, "value": {}, "description": _str},
             "additionalProperties": False}]}},
        "retry": {"$ref": "#/definitions/retry"},
        "timeout": {"type": "string", "pattern": DURATION},
        "image": {"type": "string", "minLength": 1},
        "requirements": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "files": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "kestra": {"type": "object"},
    },
}
HEADER_KEYS = tuple(HEADER_SCHEMA["properties"])


@cache
def _checker() -> SchemaChecker:
    return SchemaChecker(HEADER_SCHEMA, MESSAGES)


@dataclass(frozen=True)
class Step:
    """A notebook of a pipeline, and the files it writes that later steps read."""

    notebook: str
    produces: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()  # outputs it emits that later steps take as parameters


@dataclass(frozen=True)
class StepGroup:
    """One entry of ``steps``: a notebook, or notebooks that run in parallel."""

    steps: tuple[Step, ...]
    parallel: bool = False


@dataclass(frozen=True)
class Header:
    cell: int | None = None  # index of the %%flow cell; None when the notebook has none
    id: str | None = None
    namespace: str | None = None
    description: str | None = None
    labels: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    schedule: str | None = None
    timezone: str | None = None
    triggers: tuple[Mapping[str, Any], ...] = ()
    after: tuple[FlowRef, ...] = ()
    inputs: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: EMPTY)
    steps: tuple[StepGroup, ...] = ()
    outputs: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    retry: Mapping[str, Any] | None = None
    timeout: str | None = None
    image: str | None = None
    requirements: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # globs of other namespace files the notebook reads (data, helpers)
    kestra: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    lines: Mapping[str, int] = field(default_factory=lambda: EMPTY)  # header key → line in the cell

    @property
    def step_notebooks(self) -> tuple[str, ...]:
        """Every step's notebook in order, parallel groups flattened (relative to the flow notebook's folder)."""
        return tuple(step.notebook for group in self.steps for step in group.steps)


def header_yaml(source: str) -> str:
    """The YAML below the ``%%flow`` line (the magic's own arguments are ignored here)."""
    first, _, rest = source.lstrip().partition("\n")
    return rest if first.startswith(HEADER_MAGIC) else source


def parse_header(cell: Cell | None, default_namespace: str) -> tuple[Header, list[Problem]]:
    """The header of a notebook (all defaults when ``cell`` is None) and its problems."""
    if cell is None:
        return Header(), []
    text = header_yaml(cell.source)
    try:
        loaded = load_yaml(text, max_bytes=MAX_HEADER_BYTES)
    except YamlProblem as exc:
        return Header(cell.index), [_shift(exc.problem, cell)]
    data = {} if loaded.data is None else loaded.data
    errors = dedupe(_checker().errors(data))
    problems = [_shift(Problem(m, format_path(p), loaded.line_of(p)), cell) for p, _, m in errors]
    if not isinstance(data, dict):
        return Header(cell.index), problems
    problems += [_shift(Problem(m, key, loaded.line_of((key,)), hint=h), cell) for key, m, h in _semantic(data)]
    if problems:
        return Header(cell.index), problems
    lines = {k: (loaded.line_of((k,)) or 1) + 1 for k in data}  # +1: lines in the cell, after %%flow
    return _header(cell.index, data, default_namespace, lines), problems


def _shift(problem: Problem, cell: Cell) -> Problem:
    """Lines inside the YAML → lines inside the cell (the %%flow line comes first)."""
    line = problem.line + 1 if problem.line is not None else None
    return Problem(problem.message, problem.path, line, cell.index, problem.hint)


def _semantic(data: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    found: list[tuple[str, str, str | None]] = []
    if isinstance(data.get("schedule"), str) and (why := cron_problem(data["schedule"])):
        found.append(("schedule", why, "five fields: minute hour day-of-month month day-of-week, e.g. '0 6 * * *'"))
    if isinstance(data.get("timezone"), str) and (why := timezone_problem(data["timezone"])):
        found.append(("timezone", why, None))
    if "timezone" in data and "schedule" not in data:
        found.append(("timezone", "timezone is set but there is no schedule", "add schedule: '0 6 * * *' or remove it"))
    for step in _step_items(data.get("steps", [])):
        notebook = step if isinstance(step, str) else step.get("notebook")
        if isinstance(notebook, str) and (why := step_path_problem(notebook)) is not None:
            found.append(("steps", why, "name notebooks relative to this notebook's folder, e.g. clean.ipynb"))
        declared = step.get("outputs") if isinstance(step, dict) else None
        for name in (n for n in (declared if isinstance(declared, list) else []) if isinstance(n, str)):
            if not name.isidentifier():
                found.append(("steps", f"step output {name!r} is not a parameter name", "use a Python identifier"))
        produced = step.get("produces") if isinstance(step, dict) else None
        for file in (f for f in (produced or []) if isinstance(f, str)) if isinstance(produced, list) else ():
            if (why := relative_path_problem(file) or _glob_problem(file)) is not None:
                found.append(("steps", why, "name the exact files, relative to this notebook's folder"))
    raw_files = data.get("files")
    files = raw_files if isinstance(raw_files, list) else []
    for entry in (f for f in files if isinstance(f, str)):
        if (why := relative_path_problem(entry)) is not None:
            found.append(("files", why, "name files relative to this notebook's folder, e.g. data/*.csv"))
    return found


def _step_items(steps: Any) -> list[Any]:
    """Every step entry (str or mapping), parallel groups flattened; malformed parts skipped."""
    items: list[Any] = []
    for entry in steps if isinstance(steps, list) else []:
        group = entry.get("parallel") if isinstance(entry, dict) and "parallel" in entry else [entry]
        items += [s for s in (group if isinstance(group, list) else []) if isinstance(s, str | dict)]
    return items


_PRODUCED = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\Z")
_RESERVED_FILES = ("params.json", "params.yaml", "requirements.txt", "constraints.txt", "kernel_ext.py")  # nbops' own task files


def _glob_problem(path: str) -> str | None:
    if not _PRODUCED.match(path):
        return f"{path!r}: produces needs exact file names (letters, digits, '_', '-', '.', '/'), no patterns"
    return f"{path!r} is a name nbops uses itself" if path in _RESERVED_FILES else None


def relative_path_problem(path: str) -> str | None:
    """Why ``path`` could leave the notebook's folder (or carry an expression), or None."""
    parts = path.split("/")
    if path.startswith("/") or "\\" in path or ":" in path or "{" in path or "\n" in path \
            or any(p in ("", ".", "..") for p in parts):
        return f"{path!r} must be a relative path inside this notebook's folder"
    return None


def step_path_problem(path: str) -> str | None:
    if (why := relative_path_problem(path)) is not None:
        return f"step {why}"
    if not path.endswith(".ipynb"):
        return f"step {path!r} is not a notebook (.ipynb)"
    return None


def _flow_ref(entry: Any, namespace: str) -> FlowRef:
    if isinstance(entry, dict):
        return FlowRef(entry.get("namespace", namespace), entry["flow"])
    ns, _, flow = entry.rpartition(".")
    return FlowRef(ns or namespace, flow)


def _step(entry: str | dict[str, Any]) -> Step:
    if isinstance(entry, str):
        return Step(entry)
    return Step(entry["notebook"], tuple(entry.get("produces", ())), tuple(entry.get("outputs", ())))


def _header(index: int, data: dict[str, Any], default_namespace: str, lines: dict[str, int]) -> Header:
    namespace = data.get("namespace", default_namespace)
    after = data.get("after", [])
    steps = tuple(StepGroup(tuple(_step(s) for s in entry["parallel"]), True)
                  if isinstance(entry, dict) and "parallel" in entry else StepGroup((_step(entry),))
                  for entry in data.get("steps", []))
    return Header(
        cell=index, id=data.get("id"), namespace=data.get("namespace"), description=data.get("description"),
        labels={k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in data.get("labels", {}).items()},
        schedule=data.get("schedule"), timezone=data.get("timezone"), triggers=tuple(data.get("triggers", [])),
        after=tuple(_flow_ref(a, namespace) for a in (after if isinstance(after, list) else [after])),
        inputs=data.get("inputs", {}), steps=steps, outputs=data.get("outputs", {}), retry=data.get("retry"),
        timeout=data.get("timeout"), image=data.get("image"), requirements=tuple(data.get("requirements", [])),
        files=tuple(data.get("files", [])),
        kestra=data.get("kestra", {}), lines=lines,
    )
