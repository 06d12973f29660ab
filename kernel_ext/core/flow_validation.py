"""Validate a Kestra flow document: the schema's structure plus Kestra's semantic rules, for the
Kestra version the flows are for (``[tool.nbops] kestra_version``).

One entry for everything: hand-written YAML files, and the flows nbops generates (export validates
what it is about to write with the same function). The target version is a plain argument, so the
core stays pure: callers pass ``options.kestra``.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from ..errors import Problem
from .kestra_schema import MESSAGES, flow_schema, type_feature
from .kestra_version import DEFAULT, KestraVersion, fact
from .rules import semantic_findings
from .schemacheck import SchemaChecker, dedupe
from .yamlsafe import Loaded, Path, YamlProblem, format_path, load_yaml


@cache
def _checker(target: KestraVersion) -> SchemaChecker:
    return SchemaChecker(flow_schema(target), MESSAGES)


def _value_at(data: Any, path: Path) -> Any:
    for key in path:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _schema_problem(data: Any, path: Path, kind: str, message: str, target: KestraVersion) -> tuple[str, str | None]:
    """The schema's message, or a clearer one for a type name the target version does not have yet."""
    value = _value_at(data, path)
    feature = type_feature(value) if kind == "enum" and isinstance(value, str) else None
    if feature is None:
        return message, None
    since = fact(feature).since
    return (f"type {value} exists from Kestra {since} on; these flows are for Kestra {target}",
            "use BOOLEAN (every version), or set [tool.nbops] kestra_version" if value == "BOOL"
            else "set [tool.nbops] kestra_version")


def flow_problems(data: Any, loaded: Loaded | None = None, *, target: KestraVersion = DEFAULT) -> list[Problem]:
    """Every problem of a flow document for Kestra ``target``, located by field path (and line when
    ``loaded`` is given)."""
    if not isinstance(data, dict):
        return [Problem("a flow is a YAML mapping with at least id, namespace and tasks", line=1)]
    line_of = loaded.line_of if loaded else (lambda path: None)
    problems = []
    for path, kind, message in dedupe(_checker(target).errors(data)):
        text, hint = _schema_problem(data, path, kind, message, target)
        problems.append(Problem(text, format_path(path), line_of(path), hint=hint))
    problems += [Problem(message, format_path(path), line_of(path), hint=hint)
                 for path, message, hint in semantic_findings(data, target)]
    return problems


def parse_flow_text(text: str, *, target: KestraVersion = DEFAULT) -> tuple[Any, list[Problem]]:
    """Load and validate one flow's YAML text for Kestra ``target``; never raises for bad input."""
    try:
        loaded = load_yaml(text)
    except YamlProblem as exc:
        return None, [exc.problem]
    return loaded.data, flow_problems(loaded.data, loaded, target=target)
